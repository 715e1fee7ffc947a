"""The shop: its data model (``models``) and the directory loader (``loader``)."""

from bot.shop.loader import load_shop
from bot.shop.models import Shop

__all__ = ["Shop", "load_shop"]
