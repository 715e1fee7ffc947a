"""Offers a person writes that the shop does not have: 「下单再送一双袜子」 with no such gift.

An agent types freely, so what they give away is checked against what the shop gives: its
gift promotions (and coupons, for a 券), and the gifts in the facts a draft rests on. A gift
word (送, 赠, 加送 …) followed by goods that none of those name is an ``unsupported_offer``.
Delivery words (送达, 配送, 送货上门) are not gifts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.guards import Flag
from bot.shop.models import Shop
from bot.text.normalize import normalize

UNSUPPORTED_OFFER = "unsupported_offer"

_GIFT = re.compile(
    r"(?<![配派运快发递接护赠])(?:加送|再送|另送|额外送|免费送|赠送|附赠|送|赠)(?![达到货出件往回去来])"
    r"(?:您|你|给您|给你)?(?:[一二两三几1-9]|一些)?(?:个|双|件|份|条|只|盒|张|瓶|套|包|支|袋|片)?"
    r"([\u4e00-\u9fff]{1,6}?)(?=[，。！!？?、；;～~\s]|$|哦|呀|啊|呢|的|吧|哈|喔)"
)
# Words after a gift word that give nothing away.
_NOT_GOODS = {"您", "你", "给", "上门", "到家", "达", "货"}


def _gift_texts(value: Any, under_gift: bool = False) -> list[str]:
    """Every text under a ``gift…`` key of the facts (the gifts a draft was told of)."""
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, item in value.items():
            out += _gift_texts(item, under_gift or "gift" in str(key).lower())
        return out
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _gift_texts(item, under_gift)]
    return [str(value)] if under_gift and isinstance(value, str) else []


def _offered(shop: Shop, facts: Mapping[str, Any]) -> tuple[str, str]:
    """What the shop gives away (its gift promotions, and the gifts in ``facts``), and the
    titles of its coupons (a coupon 送 to a buyer is the shop's own)."""
    gifts: list[str] = []
    coupons: list[str] = []
    for promo in shop.promotions:
        if promo.type == "gift":
            gifts += [promo.title, promo.gift, getattr(promo, "description", None) or ""]
        elif promo.type == "coupon":
            coupons.append(promo.title)
    gifts += _gift_texts(facts)
    flat = lambda texts: normalize(" ".join(texts)).replace(" ", "")  # noqa: E731
    return flat(gifts), flat(coupons)


def unsupported_offers(text: str, shop: Shop, facts: Mapping[str, Any] | None = None) -> list[Flag]:
    """A flag for each gift in ``text`` that the shop's promotions and ``facts`` never name."""
    norm = normalize(text or "").replace(" ", "")
    offered, coupons = _offered(shop, facts or {})
    missing: list[str] = []
    for m in _GIFT.finditer(norm):
        goods = m.group(1)
        if not goods or goods in _NOT_GOODS or goods in offered:
            continue
        if goods.endswith("券") and coupons:
            continue
        # 「帆布袋」 in the shop's 「满299送帆布袋」: a shared head of two characters is enough.
        if len(goods) >= 2 and any(goods[i : i + 2] in offered for i in range(len(goods) - 1)):
            continue
        missing.append(m.group(0))
    return [Flag(UNSUPPORTED_OFFER, f"店铺没有这项赠品或优惠：{'、'.join(dict.fromkeys(missing))}")] if missing else []
