"""The buyer's view of orders, parcels and refunds: Chinese texts and chat cards.

Only the buyer's own orders ever reach these functions; amounts are two-decimal strings.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from bot.money import fmt
from bot.shop.models import Order, OrderItem, Refund, Shop
from bot.turns import Card

STATUS_TEXT = {
    "WAIT_BUYER_PAY": "待付款",
    "WAIT_SELLER_SEND_GOODS": "待发货",
    "WAIT_BUYER_CONFIRM_GOODS": "已发货",
    "TRADE_FINISHED": "交易成功",
    "TRADE_CLOSED": "交易关闭",
}
REFUND_TYPE_TEXT = {"REFUND_ONLY": "仅退款", "RETURN_REFUND": "退货退款", "EXCHANGE": "换货"}
REFUND_STATUS_TEXT = {
    "WAIT_SELLER_AGREE": "等待商家处理",
    "WAIT_BUYER_RETURN_GOODS": "商家已同意，等待您寄回商品",
    "WAIT_SELLER_CONFIRM_GOODS": "商家待收货，收到后处理",
    "SELLER_REFUSE_BUYER": "商家已拒绝",
    "SUCCESS": "已完成",
    "CLOSED": "已关闭",
}


def when(value: datetime, tz: tzinfo) -> str:
    """``11月20日 20:00`` in the shop's timezone."""
    local = value.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def status_text(order: Order) -> str:
    if order.status == "WAIT_BUYER_CONFIRM_GOODS" and order.shipping and order.shipping.signed_at:
        return "已签收"
    return STATUS_TEXT[order.status]


def sku_text(shop: Shop, sku_id: str) -> str:
    found = shop.sku(sku_id)
    if found is None:
        return sku_id
    product, sku = found
    props = " ".join(sku.props.values())
    return f"{product.title}（{props}）" if props else product.title


def item_text(shop: Shop, item: OrderItem) -> str:
    return f"{sku_text(shop, item.sku)}×{item.qty}"


def items_text(shop: Shop, order: Order, oids: list[str] | None = None) -> str:
    chosen = [i for i in order.items if oids is None or i.oid in oids]
    return "、".join(item_text(shop, i) for i in chosen)


def items_amount(order: Order, oids: list[str]) -> str:
    return fmt(sum((i.paid for i in order.items if i.oid in oids), Decimal(0)))


def record_ref(record_id: str, no: int | None) -> str:
    """What a buyer reads for an after-sale or a ticket: its short number (售后单 3), given
    when xiaoer made the record; for one from the shop's own data, the shop's id (``R1001``).
    An id the id provider made without a number is never shown (templates' ``_noid``)."""
    if no is not None:
        return str(no)
    return record_id


def refund_ref(refund: Refund) -> str:
    return record_ref(refund.id, refund.no)


def refund_card(shop: Shop, order: Order, refund: Refund) -> Card:
    data: dict[str, Any] = {
        "refund_id": refund.id,
        "refund_ref": refund_ref(refund),
        "tid": order.tid,
        "type": refund.type,
        "type_text": REFUND_TYPE_TEXT[refund.type],
        "status": refund.status,
        "status_text": REFUND_STATUS_TEXT[refund.status],
        "amount": fmt(refund.amount),
        "items": items_text(shop, order, refund.items),
        "reason": refund.reason,
        "created": refund.created.isoformat(),
    }
    if refund.exchange_sku:
        data["exchange_sku"] = refund.exchange_sku
        data["exchange_to"] = sku_text(shop, refund.exchange_sku)
    return Card(kind="refund", data=data)


def order_card(shop: Shop, order: Order) -> Card:
    data: dict[str, Any] = {
        "tid": order.tid,
        "status": order.status,
        "status_text": status_text(order),
        "created": order.created.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "total_paid": fmt(order.total_paid),
        "items": [
            {
                "oid": i.oid,
                "product": i.product,
                "sku": i.sku,
                "title": sku_text(shop, i.sku),
                "qty": i.qty,
                "price": fmt(i.price),
                "paid": fmt(i.paid),
            }
            for i in order.items
        ],
        "refunds": [refund_card(shop, order, r).data for r in order.refunds],
    }
    if order.shipping:
        data["carrier"] = order.shipping.company
        data["tracking_no"] = order.shipping.tracking_no
    return Card(kind="order", data=data)


def parcel_card(shop: Shop, order: Order) -> Card | None:
    ship = order.shipping
    if ship is None:
        return None
    latest = ship.traces[-1] if ship.traces else None
    return Card(
        kind="parcel",
        data={
            "tid": order.tid,
            "carrier": ship.company,
            "tracking_no": ship.tracking_no,
            "status_text": status_text(order),
            "shipped_at": ship.shipped_at.isoformat(),
            "signed_at": ship.signed_at.isoformat() if ship.signed_at else None,
            "latest_trace": (
                {"time": latest.time.isoformat(), "desc": latest.desc} if latest else None
            ),
            "traces": [{"time": t.time.isoformat(), "desc": t.desc} for t in ship.traces],
        },
    )


def orders_card(shop: Shop, orders: list[Order]) -> Card:
    return Card(
        kind="orders",
        data={
            "orders": [
                {
                    "tid": o.tid,
                    "status_text": status_text(o),
                    "items": items_text(shop, o),
                    "total_paid": fmt(o.total_paid),
                    "created": o.created.isoformat(),
                }
                for o in orders
            ]
        },
    )
