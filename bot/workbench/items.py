"""What waits on the workbench: orders to ship, open refunds, returns, exchanges and tickets,
each with its age and the actions legal on it now."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from bot.flows.views import items_text
from bot.orders.backend import OrdersExport
from bot.shop.models import Shop

ItemKind = Literal["ship", "refund", "return", "exchange", "ticket"]
_KIND_OF_TYPE: dict[str, ItemKind] = {"REFUND_ONLY": "refund", "RETURN_REFUND": "return", "EXCHANGE": "exchange"}
# The states as the shop's staff read them (the buyer's wording is in bot.flows.views).
STAFF_STATUS_TEXT = {
    "WAIT_SELLER_AGREE": "等待商家处理",
    "WAIT_BUYER_RETURN_GOODS": "已同意，等待买家退货",
    "WAIT_SELLER_CONFIRM_GOODS": "买家已退货，等待商家收货",
    "SELLER_REFUSE_BUYER": "商家已拒绝",
    "SUCCESS": "已完成",
    "CLOSED": "已关闭",
}
KIND_TEXT = {"ship": "待发货", "refund": "仅退款", "return": "退货退款", "exchange": "换货", "ticket": "工单"}


class OpenItem(BaseModel):
    kind: ItemKind
    tid: str
    ref: str | None = Field(default=None, description="售后单号或工单号")
    no: int | None = Field(default=None, description="买家看到的短号（售后单 3、工单 5），有则显示")
    buyer_id: str
    buyer_nick: str
    status: str
    status_text: str
    summary: str
    amount: Decimal | None = None
    since: datetime = Field(description="waiting since (shop timezone)")
    age_minutes: int
    overdue: bool = False
    goods_back: bool = False
    actions: list[str] = Field(description="staff actions legal on it now")


def open_items(shop: Shop, export: OrdersExport, received: set[tuple[str, str]], now: datetime) -> list[OpenItem]:
    """Oldest first. ``received`` are the records whose goods the shop confirmed back."""
    tz = shop.tz
    nick = {b.id: b.nick for b in export.buyers}
    out: list[OpenItem] = []

    def add(since: datetime, **fields: object) -> None:
        age = max(0, int((now - since).total_seconds() // 60))
        out.append(OpenItem(since=since.astimezone(tz), age_minutes=age, **fields))  # type: ignore[arg-type]

    for order in export.orders:
        who = {"buyer_id": order.buyer, "buyer_nick": nick.get(order.buyer, order.buyer)}
        if order.status == "WAIT_SELLER_SEND_GOODS" and order.paid_at is not None:
            promised = order.paid_at + timedelta(hours=shop.info.policy.ship_within_hours)
            add(order.paid_at, kind="ship", tid=order.tid, status=order.status, status_text="待发货",
                summary=items_text(shop, order), amount=order.total_paid, overdue=now > promised,
                actions=["order.ship"], **who)
        for r in order.refunds:
            if not r.is_open:
                continue
            back = (order.tid, r.id) in received
            actions = _legal(r.type, r.status, back)
            add(r.created, kind=_KIND_OF_TYPE[r.type], tid=order.tid, ref=r.id, no=r.no, status=r.status,
                status_text="已收到退货，待处理" if back else STAFF_STATUS_TEXT[r.status],
                summary=f"{items_text(shop, order, list(r.items))}；原因：{r.reason or '未填写'}",
                amount=r.amount if r.type != "EXCHANGE" else None, goods_back=back,
                actions=actions, **who)
    for t in export.tickets:
        if t.status == "open":
            add(t.created, kind="ticket", tid=t.tid or "", ref=t.id, no=t.no, status="open", status_text="待处理",
                summary=t.note, actions=["ticket.close"] if t.tid else [],
                buyer_id=t.buyer, buyer_nick=nick.get(t.buyer, t.buyer))
    out.sort(key=lambda i: i.since)
    return out


def _legal(kind: str, status: str, back: bool) -> list[str]:
    if status == "WAIT_SELLER_AGREE":
        return ["return.agree", "return.refuse"]
    if kind == "REFUND_ONLY":
        return []
    if status == "WAIT_BUYER_RETURN_GOODS" or (status == "WAIT_SELLER_CONFIRM_GOODS" and not back):
        return ["return.received"]
    if status == "WAIT_SELLER_CONFIRM_GOODS":
        return ["refund.complete"] if kind == "RETURN_REFUND" else ["exchange.ship"]
    return []
