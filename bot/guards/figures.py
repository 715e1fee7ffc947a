"""Figures as replies write them: numbers in words (三十九, 两千) and time spans (三天,
1-3个工作日, 半年), so a guard reads "九块九" and "一年内" as well as "9.9" and "365天"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.text.numbers import to_int

CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMERAL = "零〇一二两三四五六七八九十百千万"  # characters of a number in words
CN_DIGITS = "零〇一二两三四五六七八九"  # characters of a single digit in words

_AMOUNT = rf"\d+(?:\.\d+)?|[{CN_NUMERAL}半]+"
_SPAN = re.compile(
    rf"(?:(?P<low>{_AMOUNT})\s*(?:-|~|到|至)\s*)?(?P<n>{_AMOUNT})\s*(?:个)?\s*"
    r"(?P<unit>小时|钟头|工作日|天|日|周|星期|礼拜|个月|季度|年)"
)
_DAYS: dict[str, Decimal] = {
    "小时": Decimal(1) / 24, "钟头": Decimal(1) / 24, "工作日": Decimal(1), "天": Decimal(1), "日": Decimal(1),
    "周": Decimal(7), "星期": Decimal(7), "礼拜": Decimal(7), "个月": Decimal(30), "季度": Decimal(90),
    "年": Decimal(365),
}


def _amount(raw: str) -> Decimal | None:
    if raw == "半":
        return Decimal("0.5")
    try:
        return Decimal(raw)
    except InvalidOperation:
        value = to_int(raw)
        return Decimal(value) if value is not None else None


def spans_in_days(text: str) -> set[Decimal]:
    """Every time span of ``text`` in days (``1-3个工作日`` gives 1 and 3, ``48小时`` 2);
    dates are not spans: ``11月30日``, and ``三月`` or ``八月份`` name a month (three months
    is ``三个月``)."""
    found: set[Decimal] = set()
    for m in _SPAN.finditer(text):
        if m.group("unit") == "日" and _after_month(text, m.start("n")):
            continue  # 11月30日 is a date
        for raw in (m.group("low"), m.group("n")):
            amount = _amount(raw) if raw else None
            if amount is not None:
                found.add((amount * _DAYS[m.group("unit")]).normalize())
    return found


def _after_month(text: str, start: int) -> bool:
    """``月`` ends ``text[:start]``, spaces aside (read back from ``start``, not from the start
    of a long text)."""
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return i > 0 and text[i - 1] == "月"
