"""Money is Decimal yuan, rounded half-up to 分 (0.01)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(value: Decimal | int | str) -> Decimal:
    """Round a yuan amount half-up to 分."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """Format an amount as a plain two-decimal string, e.g. ``"356.80"``."""
    return f"{to_fen(value):.2f}"
