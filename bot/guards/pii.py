"""Mask personal data before any text leaves for a language model."""

from __future__ import annotations

import re

MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# A street (路/街/巷/小区/大厦…) followed by a house number and what comes after it up to the
# next punctuation: keep the street, mask the detail.
_ADDRESS = re.compile(
    r"([\u4e00-\u9fff]{1,12}?(?:大道|路|街|巷|弄|胡同|村|小区|花园|公寓|大厦|广场|苑|园))"
    r"([0-9０-９一二三四五六七八九十百零甲乙丙A-Za-z#\-]+\s*(?:号楼|号院|号|栋|幢|单元|室|楼|层|弄)"
    r"[^\s，。,；;！!？?、]*)"
)


def mask_phone(phone: str) -> str:
    """``13800001111`` → ``138****1111``."""
    m = MOBILE.fullmatch(phone.strip())
    if not m:
        return phone
    return f"{m.group(1)}****{m.group(3)}"


def mask_pii(text: str) -> str:
    """Mask mobile and landline numbers, ID-card numbers, e-mail and street addresses."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _ADDRESS.sub(lambda m: f"{m.group(1)}****", text)
    return text
