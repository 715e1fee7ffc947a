"""Deterministic basket pricing, exactly as shop-format.md says.

Every number the bot quotes comes from :func:`price_basket`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.errors import TellCustomer
from bot.money import ZERO, to_fen
from bot.shop.models import (
    Buyer,
    Coupon,
    Discount,
    FullReduction,
    Gift,
    NthDiscount,
    Product,
    Shop,
    Sku,
)

MIN_TOTAL = Decimal("0.01")


@dataclass(frozen=True)
class BasketLine:
    sku_id: str
    qty: int = 1


@dataclass
class PricedLine:
    product: Product
    sku: Sku
    qty: int
    list_total: Decimal  # unit price × qty
    total: Decimal  # after discount / nth_discount, rounded to 分
    promotions: list[str] = field(default_factory=list)  # ids applied to this line


@dataclass
class Gap:
    """How much more in-scope spending reaches a threshold (凑单)."""

    promotion_id: str
    title: str
    kind: str  # full_reduction | coupon | gift
    threshold: Decimal
    missing: Decimal
    reward: str  # e.g. "减50" or the gift


@dataclass
class Quote:
    lines: list[PricedLine]
    list_total: Decimal
    subtotal: Decimal  # after item-level discounts; base of every threshold
    full_reductions: list[tuple[str, str, Decimal]]  # (id, title, amount)
    coupon: tuple[str, str, Decimal] | None  # (id, title, amount)
    gifts: list[tuple[str, str, str]]  # (id, title, gift)
    total: Decimal
    gaps: list[Gap]

    @property
    def savings(self) -> Decimal:
        return to_fen(self.list_total - self.total)

    def to_dict(self) -> dict[str, object]:
        def money(v: Decimal) -> str:
            return f"{to_fen(v):.2f}"

        return {
            "lines": [
                {
                    "product": ln.product.id,
                    "title": ln.product.title,
                    "sku": ln.sku.sku_id,
                    "props": ln.sku.props,
                    "qty": ln.qty,
                    "unit_price": money(ln.sku.price),
                    "list_total": money(ln.list_total),
                    "total": money(ln.total),
                    "promotions": ln.promotions,
                }
                for ln in self.lines
            ],
            "list_total": money(self.list_total),
            "subtotal": money(self.subtotal),
            "full_reductions": [
                {"id": i, "title": t, "amount": money(a)} for i, t, a in self.full_reductions
            ],
            "coupon": (
                {"id": self.coupon[0], "title": self.coupon[1], "amount": money(self.coupon[2])}
                if self.coupon
                else None
            ),
            "gifts": [{"id": i, "title": t, "gift": g} for i, t, g in self.gifts],
            "total": money(self.total),
            "savings": money(self.savings),
            "gaps": [
                {
                    "id": g.promotion_id,
                    "title": g.title,
                    "kind": g.kind,
                    "threshold": money(g.threshold),
                    "missing": money(g.missing),
                    "reward": g.reward,
                }
                for g in self.gaps
            ],
        }


def _line_total(
    product: Product, sku: Sku, qty: int, discounts: Sequence[Discount], nths: Sequence[NthDiscount]
) -> tuple[Decimal, list[str]]:
    unit = sku.price
    applied: list[str] = []
    best = min((d for d in discounts if d.scope.covers(product)), key=lambda d: d.rate, default=None)
    if best is not None:
        unit = unit * best.rate
        applied.append(best.id)
    total = unit * qty
    nth = min(
        (n for n in nths if n.scope.covers(product) and qty >= n.n),
        key=lambda n: unit * (1 - n.rate) * (qty // n.n),
        default=None,
    )
    if nth is not None:
        # All units of one SKU cost the same, so "the cheaper units first" changes nothing.
        total -= unit * (1 - nth.rate) * (qty // nth.n)
        applied.append(nth.id)
    return to_fen(total), applied


def price_basket(
    shop: Shop,
    basket: Sequence[BasketLine],
    now: datetime,
    buyer: Buyer | None = None,
) -> Quote:
    """Price ``basket`` at ``now``; raise :class:`TellCustomer` for an unknown SKU."""
    active = shop.promotions_at(now)
    discounts = [p for p in active if isinstance(p, Discount)]
    nths = [p for p in active if isinstance(p, NthDiscount)]

    merged: dict[str, int] = {}
    for line in basket:
        if line.qty < 1:
            raise TellCustomer(f"数量需要大于0：{line.sku_id}")
        merged[line.sku_id] = merged.get(line.sku_id, 0) + line.qty

    lines: list[PricedLine] = []
    for sku_id, qty in merged.items():
        found = shop.sku(sku_id)
        if found is None:
            raise TellCustomer(f"没有找到商品规格 {sku_id}")
        product, sku = found
        total, applied = _line_total(product, sku, qty, discounts, nths)
        lines.append(PricedLine(product, sku, qty, to_fen(sku.price * qty), total, applied))

    list_total = sum((ln.list_total for ln in lines), ZERO)
    subtotal = sum((ln.total for ln in lines), ZERO)

    def in_scope(promo: FullReduction | Coupon | Gift) -> Decimal:
        return sum((ln.total for ln in lines if promo.scope.covers(ln.product)), ZERO)

    gaps: list[Gap] = []
    reductions: list[tuple[str, str, Decimal]] = []
    for fr in (p for p in active if isinstance(p, FullReduction)):
        base = in_scope(fr)
        tiers = sorted(fr.tiers, key=lambda t: t.threshold)
        reached = [t for t in tiers if base >= t.threshold]
        if reached:
            reductions.append((fr.id, fr.title, reached[-1].amount))
        nxt = next((t for t in tiers if base < t.threshold), None)
        if nxt is not None:
            gaps.append(
                Gap(fr.id, fr.title, "full_reduction", nxt.threshold, nxt.threshold - base, f"减{nxt.amount}")
            )

    held = set(buyer.coupons) if buyer else set()
    usable: list[tuple[Decimal, Coupon]] = []
    for cp in (p for p in active if isinstance(p, Coupon)):
        if not (cp.claimable or cp.id in held):
            continue
        base = in_scope(cp)
        if base >= cp.threshold:
            usable.append((cp.amount, cp))
        else:
            gaps.append(Gap(cp.id, cp.title, "coupon", cp.threshold, cp.threshold - base, f"减{cp.amount}"))
    coupon = None
    if usable:
        amount, best_coupon = max(usable, key=lambda u: (u[0], -u[1].threshold))
        coupon = (best_coupon.id, best_coupon.title, amount)

    gifts: list[tuple[str, str, str]] = []
    for g in (p for p in active if isinstance(p, Gift)):
        base = in_scope(g)
        if base >= g.threshold:
            gifts.append((g.id, g.title, g.gift))
        else:
            gaps.append(Gap(g.id, g.title, "gift", g.threshold, g.threshold - base, g.gift))

    total = subtotal - sum((a for _, _, a in reductions), ZERO) - (coupon[2] if coupon else ZERO)
    total = max(to_fen(total), MIN_TOTAL)
    gaps.sort(key=lambda g: g.missing)
    return Quote(lines, list_total, subtotal, reductions, coupon, gifts, total, gaps)


def parse_basket(items: Sequence[str]) -> list[BasketLine]:
    """Parse ``SKU[:QTY]`` arguments."""
    lines = []
    for item in items:
        sku, _, qty = item.partition(":")
        if not sku:
            raise TellCustomer(f"无法识别的商品：{item!r}")
        try:
            n = int(qty) if qty else 1
        except ValueError as exc:
            raise TellCustomer(f"数量不是整数：{item!r}") from exc
        lines.append(BasketLine(sku, n))
    return lines
