"""Performing staff actions: each a legal transition of the Taobao states, or refused.

The legal moves (transcript-format.md):

=================  ===============================================  ============================
action             from                                             to
=================  ===============================================  ============================
order.ship         order WAIT_SELLER_SEND_GOODS                     WAIT_BUYER_CONFIRM_GOODS
return.agree       record WAIT_SELLER_AGREE                         WAIT_BUYER_RETURN_GOODS
                                                                    (REFUND_ONLY: SUCCESS)
return.refuse      record WAIT_SELLER_AGREE                         SELLER_REFUSE_BUYER
return.received    RETURN_REFUND / EXCHANGE WAIT_BUYER_RETURN_GOODS  WAIT_SELLER_CONFIRM_GOODS,
                   or WAIT_SELLER_CONFIRM_GOODS                     goods back
refund.complete    RETURN_REFUND WAIT_SELLER_CONFIRM_GOODS, back    SUCCESS
exchange.ship      EXCHANGE WAIT_SELLER_CONFIRM_GOODS, back         SUCCESS, new item shipped
ticket.close       an open ticket of the order                      done
=================  ===============================================  ============================

Anything else is refused with a Chinese reason and changes nothing. An action is recorded
(who, when, what) before the order changes; the same request key twice returns the first
outcome, and without a key the state itself refuses a second identical action. The change
goes through the order backend in its own transaction, so the refund ledger holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.errors import Conflict, NotFound
from bot.flows.views import REFUND_TYPE_TEXT, STATUS_TEXT
from bot.ids import IdProvider
from bot.orders.sql import SqlOrderBackend
from bot.shop.models import Order, Refund, Shipping, Shop
from bot.workbench.actions import (
    ACTION_TEXT,
    ActionDetail,
    ActionOutcome,
    ExchangeShip,
    OrderShip,
    RefundComplete,
    ReturnAgree,
    ReturnReceived,
    ReturnRefuse,
    TicketClose,
)
from bot.workbench.items import STAFF_STATUS_TEXT, OpenItem, open_items
from bot.workbench.log import ActionLog, KeyTaken

log = logging.getLogger(__name__)

AnyAction = OrderShip | ReturnAgree | ReturnRefuse | ReturnReceived | RefundComplete | ExchangeShip | TicketClose
ActionHook = Callable[[ActionOutcome], None]


class Refused(Exception):
    """The action is not a legal move from the present state; ``str`` says why, in Chinese."""


@dataclass(frozen=True)
class _Plan:
    """What a legal action will do: one backend change and what the record tells later."""

    kind: str  # ship | move | close
    target: str | None
    message: str
    detail: ActionDetail
    expect: tuple[str, ...] = ()
    to: str | None = None

    def dump(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "message": self.message,
                "detail": self.detail.model_dump(mode="json"), "expect": list(self.expect), "to": self.to}

    @classmethod
    def load(cls, data: dict[str, Any]) -> _Plan:
        return cls(kind=data["kind"], target=data["target"], message=data["message"],
                   detail=ActionDetail.model_validate(data["detail"]), expect=tuple(data["expect"]),
                   to=data["to"])


class WorkbenchService:
    def __init__(self, shop: Shop, orders: SqlOrderBackend, log_store: ActionLog, clock: Clock,
                 ids: IdProvider) -> None:
        self.shop = shop
        self.orders = orders
        self.log = log_store
        self._clock = clock
        self._ids = ids
        self._hooks: list[ActionHook] = []

    def on_done(self, hook: ActionHook) -> None:
        """Call ``hook`` after every action that changed something (notices to the buyer)."""
        self._hooks.append(hook)

    def perform(self, action: AnyAction, staff: str, *, request_key: str | None = None) -> ActionOutcome:
        """Do ``action`` as ``staff``; the outcome says done or refused (and why)."""
        if not staff:
            raise ValueError("a staff action needs the staff account")
        if request_key:
            seen = self.log.by_key(request_key)
            if seen is not None:
                return self._resume(seen) if seen[2] is not None else seen[0]
        now = self._clock.now()
        order = self.orders.order(action.tid)
        base = {"id": self._ids.new_id("wa"), "action": action.action, "tid": action.tid,
                "staff": staff, "at": now, "request_key": request_key or None,
                "buyer_id": order.buyer if order else None}
        try:
            if order is None:
                raise Refused(f"没有找到订单 {action.tid}")
            plan = self._plan(action, order)
        except Refused as why:
            outcome = ActionOutcome(status="refused", message=str(why), **base)
            return self._record_refusal(outcome, action)
        outcome = ActionOutcome(status="done", message=plan.message, target=plan.target,
                                detail=plan.detail, **base)
        try:
            self.log.begin(outcome, action.model_dump(mode="json"), plan.dump())
        except KeyTaken:
            assert request_key
            seen = self.log.by_key(request_key)
            assert seen is not None
            return seen[0]
        return self._apply(outcome, action.model_dump(mode="json"), plan)

    def open_items(self) -> list[OpenItem]:
        """What waits for the shop's people, oldest first."""
        return open_items(self.shop, self.orders.export(), self.log.received(), self._clock.now())

    def history(self, *, tid: str | None = None, limit: int = 200) -> list[ActionOutcome]:
        """Recorded actions, newest first."""
        return self.log.list(tid=tid, limit=limit)

    # -- deciding --------------------------------------------------------------------------

    def _plan(self, action: AnyAction, order: Order) -> _Plan:
        if isinstance(action, OrderShip):
            return self._plan_ship(action, order)
        if isinstance(action, TicketClose):
            return self._plan_ticket(action, order)
        return self._plan_record(action, order)

    def _plan_ship(self, action: OrderShip, order: Order) -> _Plan:
        self._known_carrier(action.carrier)
        if order.status != "WAIT_SELLER_SEND_GOODS":
            raise Refused(
                f"订单 {order.tid} 当前是「{STATUS_TEXT[order.status]}」，只有待发货的订单才能发货"
            )
        return _Plan("ship", None, f"订单 {order.tid} 已发货（{action.carrier} {action.tracking_no}）",
                     ActionDetail(carrier=action.carrier, tracking_no=action.tracking_no))

    def _plan_ticket(self, action: TicketClose, order: Order) -> _Plan:
        open_ = [t for t in self.orders.tickets(order.tid) if t.status == "open"]
        if action.ticket_id is not None:
            open_ = [t for t in open_ if t.id == action.ticket_id]
        if not open_:
            raise Refused(f"订单 {order.tid} 没有待处理的工单")
        ticket = open_[0]
        return _Plan("close", ticket.id, f"订单 {order.tid} 的工单 {ticket.id} 已关闭",
                     ActionDetail(note=action.note))

    def _plan_record(self, action: AnyAction, order: Order) -> _Plan:
        assert isinstance(action, (ReturnAgree, ReturnRefuse, ReturnReceived, RefundComplete, ExchangeShip))
        rule = _RULES[action.action]
        refund = self._record(order, action.refund_id, rule)
        kind = REFUND_TYPE_TEXT[refund.type]
        detail = ActionDetail(refund_type=refund.type, amount=refund.amount, exchange_sku=refund.exchange_sku)
        back = (order.tid, refund.id) in self.log.received([order.tid])
        if isinstance(action, ReturnAgree):
            to = "SUCCESS" if refund.type == "REFUND_ONLY" else "WAIT_BUYER_RETURN_GOODS"
            message = f"已同意订单 {order.tid} 的{kind}（售后单 {refund.id}）"
        elif isinstance(action, ReturnRefuse):
            to, detail.reason = "SELLER_REFUSE_BUYER", action.reason
            message = f"已拒绝订单 {order.tid} 的{kind}（售后单 {refund.id}）：{action.reason}"
        elif isinstance(action, ReturnReceived):
            if back:
                raise Refused(f"售后单 {refund.id} 的退货已经确认收到过了")
            to = "WAIT_SELLER_CONFIRM_GOODS"
            message = f"已确认收到订单 {order.tid} 的退货（售后单 {refund.id}）"
        else:
            if not back:
                raise Refused(f"售后单 {refund.id} 还没有确认收到退货，请先确认收货")
            to = "SUCCESS"
            if isinstance(action, ExchangeShip):
                self._known_carrier(action.carrier)
                detail.carrier, detail.tracking_no = action.carrier, action.tracking_no
                message = (f"订单 {order.tid} 的换货已发出（{action.carrier} {action.tracking_no}，"
                           f"售后单 {refund.id}）")
            else:
                message = f"订单 {order.tid} 已退款 {refund.amount} 元（售后单 {refund.id}）"
        detail.to_status = to
        return _Plan("move", refund.id, message, detail, expect=rule.statuses, to=to)

    def _record(self, order: Order, refund_id: str | None, rule: _Rule) -> Refund:
        records = [r for r in order.refunds if refund_id is None or r.id == refund_id]
        if refund_id is not None and not records:
            raise Refused(f"订单 {order.tid} 没有售后单 {refund_id}")
        fits = [r for r in records if r.status in rule.statuses and r.type in rule.types]
        if len(fits) > 1:
            raise Refused(f"订单 {order.tid} 有多个售后单可以{ACTION_TEXT[rule.action]}，请指明售后单号")
        if fits:
            return fits[0]
        if not records:
            raise Refused(f"订单 {order.tid} 没有售后申请，不能{ACTION_TEXT[rule.action]}")
        last = records[-1]
        raise Refused(
            f"订单 {order.tid} 的{REFUND_TYPE_TEXT[last.type]}（售后单 {last.id}）当前是"
            f"「{STAFF_STATUS_TEXT[last.status]}」，{rule.legal}"
        )

    def _known_carrier(self, carrier: str) -> None:
        if carrier not in self.shop.info.policy.carriers:
            known = "、".join(self.shop.info.policy.carriers)
            raise Refused(f"本店合作的快递是{known}，没有「{carrier}」")

    # -- doing -----------------------------------------------------------------------------

    def _apply(self, outcome: ActionOutcome, request: dict[str, Any], plan: _Plan) -> ActionOutcome:
        key = f"wb:{outcome.id}"
        try:
            if plan.kind == "ship":
                shipping = Shipping(company=plan.detail.carrier or "", tracking_no=plan.detail.tracking_no or "",
                                    shipped_at=outcome.at)
                self.orders.ship_order(outcome.tid, shipping, key=key)
            elif plan.kind == "move":
                assert plan.target and plan.to
                self.orders.move_refund(outcome.tid, plan.target, expect=frozenset(plan.expect),
                                        to=plan.to, key=key)  # type: ignore[arg-type]
            else:
                assert plan.target
                self.orders.close_ticket(plan.target, plan.detail.note or "", outcome.at, key=key)
        except (Conflict, NotFound) as exc:  # someone moved it between the look and the change
            outcome = outcome.model_copy(update={"status": "refused", "message": str(exc)})
            self.log.finish(outcome)
            return outcome
        self.log.finish(outcome)
        for hook in self._hooks:
            try:
                hook(outcome)
            except Exception:  # the action stands; the notice job catches up from the log
                log.exception("after-action hook failed for %s", outcome.id)
        return outcome

    def _resume(self, seen: tuple[ActionOutcome, dict[str, Any], dict[str, Any] | None]) -> ActionOutcome:
        """A request recorded but not finished (a crash in between): finish that very change."""
        outcome, request, plan = seen
        assert plan is not None
        return self._apply(outcome, request, _Plan.load(plan))

    def _record_refusal(self, outcome: ActionOutcome, action: AnyAction) -> ActionOutcome:
        try:
            self.log.begin(outcome, action.model_dump(mode="json"), None)
        except KeyTaken:
            assert outcome.request_key
            seen = self.log.by_key(outcome.request_key)
            assert seen is not None
            return seen[0]
        return outcome


@dataclass(frozen=True)
class _Rule:
    action: str
    statuses: tuple[str, ...]
    types: tuple[str, ...]
    legal: str  # the refusal's second half: what the action needs


_ALL = ("REFUND_ONLY", "RETURN_REFUND", "EXCHANGE")
_RULES = {
    "return.agree": _Rule("return.agree", ("WAIT_SELLER_AGREE",), _ALL, "只有等待商家处理的申请才能同意"),
    "return.refuse": _Rule("return.refuse", ("WAIT_SELLER_AGREE",), _ALL, "只有等待商家处理的申请才能拒绝"),
    "return.received": _Rule(
        "return.received", ("WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"),
        ("RETURN_REFUND", "EXCHANGE"), "只有已同意退货、等待退回的售后才能确认收货",
    ),
    "refund.complete": _Rule(
        "refund.complete", ("WAIT_SELLER_CONFIRM_GOODS",), ("RETURN_REFUND",),
        "要先确认收到退货才能退款",
    ),
    "exchange.ship": _Rule(
        "exchange.ship", ("WAIT_SELLER_CONFIRM_GOODS",), ("EXCHANGE",),
        "要先确认收到退回的商品才能发出新商品",
    ),
}
