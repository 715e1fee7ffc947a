"""The texts of unprompted messages, from ``prompts/outreach/*.yaml``.

Every text is checked by the reply guards before it is stored (no absolute terms, nothing
off-platform, no promise the policy does not make): a text that fails is a configuration
error, raised where it is rendered, not a message sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.flows.templates import FlowTemplates
from bot.guards import check_reply
from bot.shop.models import Shop

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "prompts" / "outreach"


class OutreachTexts:
    def __init__(self, shop: Shop, directory: Path = DEFAULT_DIR) -> None:
        self._shop = shop
        self._templates = FlowTemplates(shop, directory)

    def render(self, name: str, *, buyer: str, **values: Any) -> str:
        text = self._templates.render(name, **values)
        flags = check_reply(text, {}, self._shop, buyer=buyer, check_numbers=False)
        if flags:
            codes = ", ".join(f.code for f in flags)
            raise ConfigError(f"outreach template {name!r} fails the reply guards: {codes}")
        return text

    def part(self, name: str, **values: Any) -> str:
        """A piece of a message, checked with the message it goes into."""
        return self._templates.render(name, **values)
