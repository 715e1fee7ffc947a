"""Order cards: the block a chat client attaches when a buyer sends an order.

Taobao's and JD's chat windows let a buyer send an order as a card, which reaches the shop as
text such as ``[订单编号:7001,订单金额:99元,下单时间:11月20日 10:00]`` or
``咨询订单号:7001 商品ID:2``. The card names the order the buyer means; it is not what the buyer
asks. :func:`split_cards` separates the two, so the request is read from the buyer's own words
and the order id is kept as a slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One field of a card: 订单编号:7001 / 订单金额:99元 / 下单时间:11月20日 10:00 / 商品id:2
_FIELD = (
    r"(?:订单编号|订单号|订单金额|实付金额|下单时间|商品id|商品编号|商品名称|商品|数量|金额)"
    r"\s*:\s*(?:\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}|\d{4}-\d{1,2}-\d{1,2}(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|[^\s,\]]+)"
)
_BRACKETED = re.compile(r"\[\s*(?:" + _FIELD + r")(?:\s*[,;]?\s*" + _FIELD + r")*\s*\]")
# Unbracketed: "咨询订单号:7001 商品id:2", "11月20日 10:00 订单号: 7001"
_BARE = re.compile(
    r"(?:\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}\s*)?(?:咨询)?(?:订单编号|订单号)\s*:\s*\d{4,}"
    r"(?:\s*[,;]?\s*" + _FIELD + r")*"
)
_TID = re.compile(r"(?:订单编号|订单号)\s*:\s*(\d{4,})")


@dataclass(frozen=True)
class CardSplit:
    """The buyer's own words, and the order ids of the cards taken out of them."""

    words: str
    tids: tuple[str, ...]

    @property
    def had_cards(self) -> bool:
        return bool(self.tids)


def split_cards(norm: str) -> CardSplit:
    """Take order cards out of normalised text (see :func:`bot.text.normalize.normalize`)."""
    tids: list[str] = []

    def cut(match: re.Match[str]) -> str:
        for tid in _TID.findall(match.group(0)):
            if tid not in tids:
                tids.append(tid)
        return " "

    words = _BARE.sub(cut, _BRACKETED.sub(cut, norm))
    if not tids:
        return CardSplit(norm, ())
    return CardSplit(re.sub(r"\s{2,}", " ", words).strip(), tuple(tids))
