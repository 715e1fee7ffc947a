"""Personal data: masked before any text leaves for a language model, and recognised where
a number could be mistaken for something else (an ID-card number is never an order id)."""

from __future__ import annotations

import re

from bot.guards.wordlists import load_terms

MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
# Resident ID cards: 18 characters (region, birth date, sequence, check digit or X) or the
# older 15 digits (region, two-digit year). Masking takes any 18 digits, to be safe.
_ID_CARD_18 = re.compile(rf"[1-9]\d{{5}}{_DATE8}\d{{3}}[\dXx]")
_ID_CARD_15 = re.compile(rf"[1-9]\d{{5}}{_DATE6}\d{{3}}")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_ID_CARD_OLD = re.compile(rf"(?<![\dA-Za-z])([1-9]\d{{5}}){_DATE6}(\d{{3}})(?![\dA-Za-z])")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Bank cards: 12-19 digits, possibly in groups of four. Masked when 16-19 digits pass the
# Luhn check, or when a card word (卡号, 银行卡 …) comes just before.
_CARD = re.compile(r"(?<![\d*])(\d{4}(?:[ -]?\d{2,4}){2,4})(?![\d*])")
_CARD_WINDOW = 8
# A street (路/街/巷/小区/大厦…) followed by a house number and what comes after it up to the
# next punctuation: keep the street, mask the detail.
_ADDRESS = re.compile(
    r"([\u4e00-\u9fff]{1,12}?(?:大道|路|街|巷|弄|胡同|村|小区|花园|公寓|大厦|广场|苑|园))"
    r"([0-9０-９一二三四五六七八九十百零甲乙丙A-Za-z#\-]+\s*(?:号楼|号院|号|栋|幢|单元|室|楼|层|弄)"
    r"[^\s，。,；;！!？?、]*)"
)


def is_id_card_like(text: str) -> bool:
    """True for an ID-card number: 18 characters with a birth date and a check digit (or X),
    or 15 digits with a birth date. The check digit itself is not verified: a mistyped ID
    number is still personal data."""
    text = text.strip()
    return bool(_ID_CARD_18.fullmatch(text) or _ID_CARD_15.fullmatch(text))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(digits: str) -> str:
    return f"{digits[:4]}****{digits[-4:]}"


def _mask_cards(text: str) -> str:
    words = load_terms("pii_card_words")

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group(1))
        if not 12 <= len(digits) <= 19:
            return m.group(0)
        before = text[max(0, m.start() - _CARD_WINDOW) : m.start()].lower()
        named = any(w in before for w in words)
        return _mask_card(digits) if named or (len(digits) >= 16 and _luhn(digits)) else m.group(0)

    return _CARD.sub(card, text)


def mask_phone(phone: str) -> str:
    """``13800001111`` → ``138****1111``."""
    m = MOBILE.fullmatch(phone.strip())
    if not m:
        return phone
    return f"{m.group(1)}****{m.group(3)}"


def mask_pii(text: str) -> str:
    """Mask mobile and landline numbers, ID-card and bank-card numbers, e-mail and street
    addresses. Masked text stays as it is when masked again."""
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _ID_CARD_OLD.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    text = _mask_cards(text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _ADDRESS.sub(lambda m: f"{m.group(1)}****", text)
    return text
