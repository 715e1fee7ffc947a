"""Slot extractors: order ids, quantity, body size, refund reason, anger, threats, ordinals."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from bot.guards.pii import is_id_card_like
from bot.router.address import NewAddress, parse_address
from bot.router.lexicon import Lexicon
from bot.text.numbers import counts, measures


class Slots(BaseModel):
    """Everything the router read from one buyer turn (normalised text)."""

    tids: list[str] = Field(default_factory=list)
    product_ids: list[str] = Field(default_factory=list)
    kept_product_ids: list[str] = Field(default_factory=list)  # named only to be kept
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
    status_hint: str | None = None  # WAIT_BUYER_PAY | WAIT_SELLER_SEND_GOODS | SIGNED | NOT_SIGNED
    pronoun: bool = False

    def entities(self) -> dict[str, object]:
        """What the drafter is told the turn named (products, SKUs, sizes, the order)."""
        return {
            "product_ids": self.product_ids, "sku_ids": self.sku_ids, "props": self.props, "qty": self.qty,
            "height_cm": self.height_cm, "weight_kg": self.weight_kg, "tid": self.tids[0] if self.tids else None,
        }


_DIGITS = re.compile(r"(?<![\d.a-z])(\d{4,24})(?![\d.])")
_UNIT_AFTER = re.compile(r"^\s*(斤|kg|公斤|千克|cm|厘米|公分|元|块|号|米|年|g|克|ml|毫升|%|件|个|码|月|日|点|楼|栋|室|弄)")
_TID_LEAD = re.compile(r"(订单|单号|单子|订单号|tid)\s*(号)?\s*(是|:)?\s*$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
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


# "没坏" / "还没收到" / "不是质量问题": the word is said not to hold ("是不是坏了" still asks).
_NEGATION_BEFORE = re.compile(r"(?<!是)(没有|没|未|不是|并非|无)$")


def _affirmed(text: str, words: tuple[str, ...]) -> tuple[str | None, bool]:
    """The first of ``words`` in ``text`` said to hold, and whether one was said not to."""
    negated = False
    for w in words:
        start = text.find(w) if w else -1
        while start >= 0:
            if _NEGATION_BEFORE.search(text[max(0, start - 4):start]):
                negated = True
            else:
                return w, negated
            start = text.find(w, start + 1)
    return None, negated


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
    body = measures(norm)
    slots.height_cm = int(body.height_cm) if body.height_cm is not None else None
    slots.weight_kg = float(body.weight_kg) if body.weight_kg is not None else None
    found = counts(norm, lex.quantity_units)
    if found:
        slots.qty = found[0].n
    quality, _ = _affirmed(norm, lex.quality_words)
    if quality is None and lex.quality_pattern is not None and (counted := lex.quality_pattern.search(norm)):
        quality = counted.group(0)
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
        said, denied = _affirmed(norm, words)
        if said:
            slots.status_hint = status
            break
        if denied and status == "SIGNED":
            slots.status_hint = "NOT_SIGNED"  # "还没收到": on its way, or not sent yet
            break
    slots.pronoun = _contains_any(norm, lex.pronouns) is not None
    return slots
