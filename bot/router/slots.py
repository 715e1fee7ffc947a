"""Slot extractors: order ids, quantity, body size, refund reason, anger, threats, ordinals."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from bot.guards.pii import is_id_card_like
from bot.router.address import NewAddress, parse_address
from bot.router.lexicon import Lexicon


class Slots(BaseModel):
    """Everything the router read from one buyer turn (normalised text)."""

    tids: list[str] = Field(default_factory=list)
    product_ids: list[str] = Field(default_factory=list)
    sku_ids: list[str] = Field(default_factory=list)
    props: dict[str, str] = Field(default_factory=dict)
    qty: int | None = None
    height_cm: int | None = None
    weight_kg: float | None = None
    address: NewAddress | None = None
    reason: str | None = None
    reason_kind: str | None = None  # "quality" | "no_reason"
    anger: int = 0  # 0 calm, 1 annoyed, 2 strong anger
    threat: bool = False
    ordinal: int | None = None  # 1-based; -1 = the last one
    status_hint: str | None = None  # WAIT_BUYER_PAY | WAIT_SELLER_SEND_GOODS | SIGNED
    pronoun: bool = False


_DIGITS = re.compile(r"(?<![\d.a-z])(\d{4,24})(?![\d.])")
_UNIT_AFTER = re.compile(r"^\s*(斤|kg|公斤|千克|cm|厘米|公分|元|块|号|米|年|g|克|ml|毫升|%|件|个|码|月|日|点|楼|栋|室|弄)")
_TID_LEAD = re.compile(r"(订单|单号|单子|订单号|tid)\s*(号)?\s*(是|:)?\s*$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_HEIGHT = [
    re.compile(r"(?:身高|高)\s*(1\d{2})"),
    re.compile(r"(1\d{2})\s*(?:cm|厘米|公分)"),
    re.compile(r"(?<!\d)(1[.]\d{2})\s*米"),
    re.compile(r"1米(\d{1,2})(?!\d)"),
    re.compile(r"一米([一二三四五六七八九])([一二三四五六七八九]?)"),
]
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_WEIGHT = re.compile(r"(\d{2,3}(?:\.\d)?)\s*(斤|kg|公斤|千克)")
_WEIGHT_BARE = re.compile(r"体重\s*(\d{2,3})")
_QTY = re.compile(r"(?<!第)(\d{1,3}|[一两二俩三四五六七八九十])\s*(件|个|条|双|套|盒|罐|包|只|顶|份)")


def _height(norm: str) -> int | None:
    for i, pat in enumerate(_HEIGHT):
        m = pat.search(norm)
        if not m:
            continue
        if i == 2:
            return round(float(m.group(1)) * 100)
        if i == 3:
            tail = m.group(1)
            return 100 + (int(tail) * 10 if len(tail) == 1 else int(tail))
        if i == 4:
            tens, ones = _CN[m.group(1)], _CN.get(m.group(2), 0)
            return 100 + tens * 10 + ones
        return int(m.group(1))
    return None


def _weight(norm: str) -> float | None:
    m = _WEIGHT.search(norm)
    if m:
        value = float(m.group(1))
        return value / 2 if m.group(2) == "斤" else value
    m = _WEIGHT_BARE.search(norm)
    if m:
        value = float(m.group(1))
        return value / 2 if value > 100 else value  # 120 is 斤 in everyday speech
    return None


def _tids(norm: str) -> list[str]:
    out: list[str] = []
    for m in _DIGITS.finditer(norm):
        digits = m.group(1)
        after = norm[m.end():]
        before = norm[: m.start()]
        if is_id_card_like(digits) or is_id_card_like(digits + after[:1]):
            continue  # an ID-card number (…123X too) is personal data, never an order id
        led = bool(_TID_LEAD.search(before))
        if not led and (_UNIT_AFTER.match(after) or _PHONE.match(digits)):
            continue
        if digits not in out:
            out.append(digits)
    return out


def _contains_any(text: str, words: tuple[str, ...]) -> str | None:
    return next((w for w in words if w and w in text), None)


def extract_slots(norm: str, lex: Lexicon) -> Slots:
    """Read the slots that need no shop knowledge (products come from the entity linker)."""
    slots = Slots()
    address = parse_address(norm, lex)
    tid_text = norm
    if address is not None and (address.region or address.detail):
        # Digits inside an address (门牌号) are not order ids.
        for part in (address.detail or "",):
            if part:
                tid_text = tid_text.replace(part, " ")
    slots.tids = _tids(tid_text)
    slots.address = address
    slots.height_cm = _height(norm)
    slots.weight_kg = _weight(norm)
    q = _QTY.search(norm)
    if q:
        raw = q.group(1)
        slots.qty = int(raw) if raw.isdigit() else lex.numerals.get(raw)
    quality = _contains_any(norm, lex.quality_words)
    no_reason = _contains_any(norm, lex.no_reason_words)
    if quality:
        slots.reason, slots.reason_kind = quality, "quality"
    elif no_reason:
        slots.reason, slots.reason_kind = no_reason, "no_reason"
    slots.threat = _contains_any(norm, lex.threat_words) is not None
    strong = _contains_any(norm, lex.anger_strong)
    weak = sum(1 for w in lex.anger_weak if w and w in norm)
    weak += norm.count("!") >= 3
    slots.anger = 2 if strong or weak >= 3 else (1 if weak else 0)
    for word, n in sorted(lex.ordinals.items(), key=lambda kv: -len(kv[0])):
        if word in norm:
            slots.ordinal = n
            break
    for status, words in lex.status_hints.items():
        if _contains_any(norm, words):
            slots.status_hint = status
            break
    slots.pronoun = _contains_any(norm, lex.pronouns) is not None
    return slots
