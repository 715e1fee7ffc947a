"""The shop's after-sale policy as pure functions of an order, the time and ``shop.yaml``."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.orders import ledger
from bot.shop.models import OPEN_REFUND_STATUSES, Order, Policy, Refund, Shop


def promised_ship_time(order: Order, policy: Policy) -> datetime | None:
    """Paid orders must ship within ``ship_within_hours`` of payment."""
    if order.paid_at is None:
        return None
    return order.paid_at + timedelta(hours=policy.ship_within_hours)


def shipping_overdue(order: Order, policy: Policy, now: datetime) -> bool:
    promised = promised_ship_time(order, policy)
    return order.status == "WAIT_SELLER_SEND_GOODS" and promised is not None and now > promised


def signed_at(order: Order) -> datetime | None:
    return order.shipping.signed_at if order.shipping else None


def is_signed(order: Order) -> bool:
    return signed_at(order) is not None and order.status in (
        "WAIT_BUYER_CONFIRM_GOODS",
        "TRADE_FINISHED",
    )


def shipped_unsigned(order: Order) -> bool:
    return order.status == "WAIT_BUYER_CONFIRM_GOODS" and signed_at(order) is None


def deadline(order: Order, days: int) -> datetime | None:
    signed = signed_at(order)
    return signed + timedelta(days=days) if signed else None


def within(order: Order, days: int, now: datetime) -> bool:
    end = deadline(order, days)
    return end is not None and now <= end


def open_refund(order: Order, oid: str) -> Refund | None:
    return next((r for r in order.refunds if oid in r.items and r.status in OPEN_REFUND_STATUSES), None)


def refunded(order: Order, oid: str) -> bool:
    """The item's money already went back (a successful refund or return)."""
    bal = ledger.ledger_of(order).get(oid)
    return bal is not None and bal.refunded_by is not None


def address_changeable(order: Order, shop: Shop) -> bool:
    rule = shop.info.policy.address_change
    if rule == "never":
        return False
    if rule == "before_payment":
        return order.status == "WAIT_BUYER_PAY"
    return order.status in ("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS")


def no_reason_allowed(shop: Shop, order: Order, oids: list[str]) -> list[str]:
    """Titles of the chosen items whose product excludes 7天无理由 (empty: all allowed)."""
    out = []
    for item in order.items:
        if item.oid in oids:
            product = shop.products.get(item.product)
            if product is not None and not product.no_reason_return:
                out.append(product.title)
    return out
