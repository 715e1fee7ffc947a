"""The dialogue manager: route a buyer turn, run the flow step, apply its effects.

``DialogueManager.handle(state, buyer_id, text)`` is the engine's one entry point. Replies of
order flows come from ``prompts/flows``; sales, product and policy questions return
``reply=None`` for the drafter, with the parsed entities.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from bot.clock import Clock
from bot.errors import Conflict, TellCustomer
from bot.flows import aftersale, views
from bot.flows.act import act
from bot.flows.address import address_flow
from bot.flows.cancel import cancel_or_refund
from bot.flows.common import not_selected, offer_human
from bot.flows.exchange import exchange_flow
from bot.flows.handoff import handoff, summary
from bot.flows.lookups import logistics, order_status, refund_progress
from bot.flows.returns import return_flow
from bot.flows.selection import Selection
from bot.flows.state import YES_NO_KINDS, DialogueState, Pending
from bot.flows.step import (
    AddRefund,
    AddTicket,
    BuyerRecords,
    CancelOrder,
    Effect,
    FlowContext,
    Step,
    UpdateAddress,
)
from bot.flows.templates import FlowTemplates
from bot.ids import IdProvider
from bot.orders.backend import OrderBackend
from bot.router.intents import ASK_PHRASES, DRAFTER_INTENTS
from bot.router.router import AlsoAsked, ParsedTurn, Router
from bot.shop.models import Order, Shop
from bot.text.places import regions_in
from bot.turns import Card

CONTINUING = frozenset({"choose_order", "address_given", "exchange_target", "pending_question"})
# While one of these waits for a yes, a question in their words ("真的能退吗") is about it.
AFTER_SALES = frozenset({"refund", "return", "exchange", "cancel_order", "modify_address"})
MISSES_TO_HANDOFF = 2
_SHIP_TIME = re.compile(r"(什么时候|几时|多久|几天|哪天|今天|明天).{0,4}(发货|发出|寄出|能发|发吗)")
MAX_QUESTION_CHARS = 200  # of the buyer's words kept for a clarifying question


class FlowOutcome(BaseModel):
    reply: str | None  # None: the engine asks the drafter
    intent: str
    fine_intent: str | None = None
    action: str | None = None
    handoff: bool = False
    handoff_summary: str | None = None
    cards: list[Card] = Field(default_factory=list)
    quick_replies: list[str] = Field(default_factory=list)
    state: dict[str, Any]
    entities: dict[str, Any] = Field(default_factory=dict)
    explanation: str | None = None  # why the router chose the intent
    # Questions asked beside the one the flow answered, for the drafter.
    also: list[AlsoAsked] = Field(default_factory=list)
    # What the drafter answers when it is not the buyer's text alone: 「然后呢」 in a thread is
    # drafted with the words that opened the thread before it.
    question: str | None = None


def _on_its_way(order: Order) -> bool:
    """Waiting to ship, or shipped and not signed for."""
    return order.status == "WAIT_SELLER_SEND_GOODS" or (
        order.status == "WAIT_BUYER_CONFIRM_GOODS" and (order.shipping is None or order.shipping.signed_at is None)
    )


class DialogueManager:
    def __init__(
        self,
        shop: Shop,
        orders: OrderBackend,
        router: Router,
        clock: Clock,
        ids: IdProvider,
        *,
        templates: FlowTemplates | None = None,
    ) -> None:
        for name, value in (("shop", shop), ("orders", orders), ("router", router), ("clock", clock), ("ids", ids)):
            if value is None:
                raise ValueError(f"DialogueManager needs {name}")
        self.shop = shop
        self.orders = orders
        self.router = router
        self.clock = clock
        self.ids = ids
        self.templates = templates or FlowTemplates(shop)

    # -- entry point --------------------------------------------------------------------------

    def handle(self, state: dict[str, Any], buyer_id: str, text: str) -> FlowOutcome:
        st = DialogueState.load(state)
        records = BuyerRecords(self.orders, buyer_id)
        turn = self.router.route(text or "", self._route_state(st, records))
        turn = self._clarified(st, turn, records)
        turn = self._about_pending(st, turn)
        turn = self._own_parcel(turn, records)
        turn = self._nothing_to_ship(turn, records)
        ctx = self._context(records, buyer_id, turn)
        step = self._dispatch(ctx, st, turn)
        step = self._apply(ctx, step)
        topic = st.pending.summary if st.pending else None
        outcome = self._outcome(ctx, turn, step, topic)
        if outcome.reply is None and turn.fine_intent == "follow_up" and st.last_ask:
            outcome.question = f"{st.last_ask} {turn.text.strip()}"
        return outcome

    def _about_pending(self, st: DialogueState, turn: ParsedTurn) -> ParsedTurn:
        """"真的能退吗" / "可以吗？" while a refund waits for a yes asks about that refund: the
        question is answered by showing the proposal again, and it keeps waiting for a yes."""
        p = st.pending
        if (
            p is None
            or p.kind not in YES_NO_KINDS
            or p.kind == "handoff_offer"
            or not p.summary
            or turn.intent not in AFTER_SALES | {p.intent}
            or turn.fine_intent in ("refund_progress", "return_policy")
            or not self.router.lex.asks(turn.norm)
            or set(turn.slots.tids) - {p.tid}
        ):
            return turn
        return turn.model_copy(update={
            "intent": p.intent, "fine_intent": "pending_question", "source": "context",
            "explanation": f"{turn.explanation}; a question about the change waiting for a yes",
        })

    def _clarified(self, st: DialogueState, turn: ParsedTurn, records: BuyerRecords) -> ParsedTurn:
        """An answer to "您是想A，还是B？" that picks one: the first question, read as that intent."""
        p = st.pending
        if p is None or p.kind != "clarify" or not p.question or turn.source != "context" or turn.intent not in p.options:
            return turn
        calm = st.model_copy(update={"pending": None})
        first = self.router.route(p.question, self._route_state(calm, records))
        slots = first.slots.model_copy()
        for tid in turn.slots.tids:
            if tid not in slots.tids:
                slots.tids.append(tid)
        return first.model_copy(update={
            "intent": turn.intent, "fine_intent": turn.intent, "source": "context", "slots": slots,
            "explanation": f"{turn.explanation}: 「{p.question[:40]}」",
        })

    @staticmethod
    def _signed_order_of(ctx: FlowContext, turn: ParsedTurn) -> bool:
        """The buyer names a product of an order they signed for."""
        named = set(turn.slots.product_ids)
        return bool(named) and any(
            o.shipping is not None and o.shipping.signed_at is not None and named & {i.product for i in o.items}
            for o in ctx.orders
        )

    def _nothing_to_ship(self, turn: ParsedTurn, records: BuyerRecords) -> ParsedTurn:
        """"啥时候能发货" from a buyer with no order waiting to ship or on its way asks about the
        shop's shipping time before buying, not about a parcel."""
        if (
            turn.intent != "logistics"
            or turn.source not in ("classifier", "llm")
            or turn.slots.tids
            or turn.slots.pronoun
            or not _SHIP_TIME.search(turn.norm)
        ):
            return turn
        if any(_on_its_way(o) for o in records.orders):
            return turn
        return turn.model_copy(update={
            "intent": "shipping_policy", "fine_intent": "shipping_policy",
            "explanation": f"{turn.explanation}; no order of the buyer waits to ship, so the shop's shipping time",
        })

    def _own_parcel(self, turn: ParsedTurn, records: BuyerRecords) -> ParsedTurn:
        """"数据线今天能发吗" from a buyer whose order of that product is waiting to ship or on
        its way asks about that parcel, not about the shop's shipping policy."""
        if turn.intent != "shipping_policy" or not turn.slots.product_ids:
            return turn
        named = set(turn.slots.product_ids)
        order = next(
            (o for o in records.orders if _on_its_way(o) and named & {i.product for i in o.items}),
            None,
        )
        if order is None:
            return turn
        also: list[AlsoAsked] = []
        if regions_in(turn.text):
            # "发乌鲁木齐要几天" names a destination: a question about shipping there. Beside a
            # clause about the parcel ("湿巾啥时候能发 发到甘肃要几天") it is the second question.
            clauses = self.router.lex.request_clauses(turn.norm)
            there = [c for c in clauses if regions_in(c)]
            if len(there) == len(clauses):
                return turn
            asked = "，".join(there)
            also = [AlsoAsked(intent="shipping_policy", text=asked, slots=self.router.route(asked, {}).slots)]
        return turn.model_copy(update={
            "intent": "logistics", "fine_intent": "logistics", "also": also,
            "explanation": f"{turn.explanation}; the buyer's order {order.tid} of that product is not delivered yet",
        })

    def _route_state(self, st: DialogueState, records: BuyerRecords) -> dict[str, Any]:
        """The stored state, plus what the router needs to read an answer to "which order?":
        the products in the orders offered, so "牛仔裤那一单" picks one."""
        out = st.dump()
        p = st.pending
        if p is not None and p.kind == "choose_order" and p.options:
            offered = [o for o in records.orders if o.tid in p.options]
            out["option_products"] = sorted({i.product for o in offered for i in o.items})
        return out

    def _context(self, records: BuyerRecords, buyer_id: str, turn: ParsedTurn) -> FlowContext:
        return FlowContext(
            shop=self.shop, buyer_id=buyer_id, records=records, now=self.clock.now(), ids=self.ids,
            numbers=self.orders, t=self.templates, linker=self.router.linker,
            reads_tickets=turn.intent == "logistics",
        )

    # -- routing a parsed turn to a flow step ---------------------------------------------------

    def _dispatch(self, ctx: FlowContext, st: DialogueState, turn: ParsedTurn) -> Step:
        pending = st.pending
        if pending and turn.intent not in ("confirm", "deny") and turn.fine_intent not in CONTINUING:
            st = st.model_copy(update={"pending": None})  # a different topic cancels the question
        if turn.fine_intent == "choose_order" and pending is not None:
            turn = self._resume_choice(turn, pending.reason, pending.reason_kind, pending.address)
        intent = turn.intent
        if turn.slots.product_ids:
            st = st.model_copy(update={"focus_product": turn.slots.product_ids[0]})
        if intent != "other":
            # Answers, small talk and a bare order number keep the topic: 「然后呢」 after them
            # still asks about the refund or the price difference before.
            carried = intent in ("confirm", "deny", "chitchat", "greeting") or turn.fine_intent in ("tid_only", "order_card")
            # A follow-up keeps the thread's own finer intent and words: 「然后呢」 twice stays on 价保.
            kept = carried or turn.fine_intent == "follow_up"
            st = st.model_copy(update={
                "misses": 0,
                "last_intent": st.last_intent if carried else intent,
                "last_fine": st.last_fine if kept else turn.fine_intent,
                "last_ask": st.last_ask if kept else turn.text.strip()[:MAX_QUESTION_CHARS],
            })
        t = ctx.t
        if intent == "confirm":
            return self._confirm(ctx, st, turn)
        if intent == "deny":
            if pending is not None:
                return Step(t.render("deny_pending"), "deny", st.model_copy(update={"pending": None}), "deny")
            return Step(t.render("deny_nothing"), "deny", st, "deny")
        if intent == "greeting":
            return Step(t.render("greeting"), intent, st, "greeting")
        if turn.fine_intent == "pending_question" and pending is not None:
            again = t.render("pending_again", summary=pending.summary or "")
            return Step(again, intent, st, "pending_question", quick_replies=["确认", "不用了"])
        if turn.fine_intent == "clarify" and len(turn.alternatives) == 2:
            a, b = turn.alternatives
            ask = Pending(
                id=ctx.ids.new_id("q"), kind="clarify", intent="other", options=[a, b],
                question=turn.text[:MAX_QUESTION_CHARS],
            )
            text = t.render("clarify", first=ASK_PHRASES[a], second=ASK_PHRASES[b])
            return Step(text, "other", st.model_copy(update={"pending": ask, "misses": 0}), "clarify")
        if intent == "chitchat":
            return self._chitchat(ctx, st, turn)
        if intent == "human_agent":
            return handoff(ctx, st, turn, "asked")
        if intent == "complaint":
            if turn.slots.threat or turn.slots.anger >= 2:
                return handoff(ctx, st, turn, "upset")
            if turn.slots.reason_kind == "quality" and self._signed_order_of(ctx, turn):
                # "刚贴一片就裂了 质量太差了": a quality problem with goods received is a quality
                # return to offer, with an apology, not only a sorry.
                step = return_flow(ctx, st, turn)
                if step.reply:
                    step.reply = t.render("complaint_quality") + step.reply
                return step
            step = Step(t.render("complaint_soft"), intent, st, turn.fine_intent)
            return offer_human(ctx, step, st.focus_tid, "买家不满：" + turn.text.strip()[:80])
        if turn.fine_intent == "follow_up" and intent in ("refund", "return", "exchange", "cancel_order"):
            # "要多久" in a refund thread: the record's progress answers it, or the shop's rules.
            if intent != "cancel_order" and any(o.refunds for o in ctx.orders):
                return refund_progress(ctx, st, turn)
            return Step(None, intent, st, "follow_up")
        if intent == "order_status":
            return order_status(ctx, st, turn)
        if intent == "logistics":
            return logistics(ctx, st, turn)
        if intent == "refund" and turn.fine_intent == "refund_progress":
            return refund_progress(ctx, st, turn)
        if intent in ("cancel_order", "refund"):
            return cancel_or_refund(ctx, st, turn, intent)
        if intent == "modify_address":
            return address_flow(ctx, st, turn)
        if intent == "return" and turn.fine_intent == "return_policy":
            # Whether a return would be accepted is the shop's policy: the drafter answers it.
            return Step(None, intent, st, turn.fine_intent)
        if intent == "return":
            return return_flow(ctx, st, turn)
        if intent == "exchange":
            return exchange_flow(ctx, st, turn)
        if intent in DRAFTER_INTENTS:
            return Step(None, intent, st, turn.fine_intent)
        return self._not_understood(ctx, st, turn)

    @staticmethod
    def _resume_choice(turn: ParsedTurn, reason: str | None, kind: str | None, address: dict[str, str] | None) -> ParsedTurn:
        """The answer to 'which order?' carries on the request the buyer made before it."""
        slots = turn.slots.model_copy()
        if reason and not slots.reason:
            slots.reason, slots.reason_kind = reason, kind
        if address and slots.address is None:
            from bot.router.address import NewAddress

            slots.address = NewAddress.model_validate(address)
        return turn.model_copy(update={"slots": slots})

    def _confirm(self, ctx: FlowContext, st: DialogueState, turn: ParsedTurn) -> Step:
        p = st.pending
        if p is None:
            return Step(ctx.t.render("confirm_nothing"), "confirm", st, "confirm")
        if p.kind == "handoff_offer":
            return handoff(ctx, st.model_copy(update={"focus_tid": p.tid or st.focus_tid}), turn, "accepted", intent="confirm")
        if p.kind == "choose_order":
            sel = Selection(candidates=[o for o in ctx.orders if o.tid in p.options])
            step = not_selected(ctx, st, turn, sel, p.intent, p.fine or p.intent)
            step.intent = "confirm"
            return step
        if p.kind not in YES_NO_KINDS:
            # An open question (which address, which size) answered with a bare yes: ask again.
            return Step(ctx.t.render("confirm_nothing"), "confirm", st, "confirm")
        return act(ctx, st, turn, p)

    def _chitchat(self, ctx: FlowContext, st: DialogueState, turn: ParsedTurn) -> Step:
        lex = self.router.lex
        if any(w in turn.norm for w in lex.thanks_words):
            return Step(ctx.t.render("thanks"), "chitchat", st, "thanks")
        if any(w in turn.norm for w in lex.bye_words):
            return Step(ctx.t.render("goodbye"), "chitchat", st, "goodbye")
        return Step(ctx.t.render("chitchat"), "chitchat", st, "chitchat")

    def _not_understood(self, ctx: FlowContext, st: DialogueState, turn: ParsedTurn) -> Step:
        if turn.fine_intent not in ("empty", "unsure"):
            # A question no flow serves (你们工厂在哪): the drafter answers it or says it does not
            # know and offers a person. Only unintelligible turns count towards a handover.
            return Step(None, "other", st.model_copy(update={"misses": 0}), turn.fine_intent)
        misses = st.misses + 1
        st = st.model_copy(update={"misses": misses})
        if misses >= MISSES_TO_HANDOFF:
            return handoff(ctx, st, turn, "confused", intent="other")
        if turn.fine_intent == "empty":
            return Step(ctx.t.render("empty"), "other", st, "empty")
        return Step(ctx.t.render("not_understood"), "other", st, "unsure")

    # -- effects --------------------------------------------------------------------------------

    def _apply(self, ctx: FlowContext, step: Step) -> Step:
        for effect in step.effects:
            try:
                if isinstance(effect, CancelOrder):
                    order = self.orders.cancel_order(effect.tid, key=effect.key)
                    step.cards.append(views.order_card(ctx.shop, order))
                elif isinstance(effect, AddRefund):
                    order = self.orders.add_refund(effect.tid, effect.refund, close_order=effect.close_order, key=effect.key)
                    step.cards.append(self._refund_card(order, effect.refund.id))
                elif isinstance(effect, UpdateAddress):
                    order = self.orders.update_address(effect.tid, effect.address, key=effect.key)
                    step.cards.append(views.order_card(ctx.shop, order))
                elif isinstance(effect, AddTicket):
                    self.orders.add_ticket(effect.ticket, key=effect.key)
            except TellCustomer as exc:
                return self._refused(ctx, step, effect, exc)
        return step

    def _refused(self, ctx: FlowContext, step: Step, effect: Effect, exc: TellCustomer) -> Step:
        """The backend refused the change (nothing was written): tell the buyer why.

        An after-sale refused because another conversation took its items between this
        turn's read and the change is explained from the order as it is now.
        """
        step.reply = ctx.t.render("action_failed", why=str(exc))
        step.cards = []
        if isinstance(effect, AddRefund) and isinstance(exc, Conflict):
            order = self.orders.order(effect.tid)
            what = aftersale.WHAT_OF_TYPE[effect.refund.type]
            explained = aftersale.explain_blocked(ctx, order, effect.refund.items, what) if order else None
            if explained is not None:
                reply, card = explained
                step.reply = reply + "\n" + ctx.t.render("not_submitted")
                step.cards = [card]
        step.action = None
        step.quick_replies = []
        step.state = step.state.model_copy(update={"pending": None})
        return step

    def _refund_card(self, order: Order, refund_id: str) -> Card:
        refund = next((r for r in order.refunds if r.id == refund_id), order.refunds[-1])
        return views.refund_card(self.shop, order, refund)

    def _outcome(self, ctx: FlowContext, turn: ParsedTurn, step: Step, topic: str | None) -> FlowOutcome:
        entities: dict[str, Any] = turn.slots.entities()
        handoff_summary = None
        if step.handoff:
            handoff_summary = summary(ctx, step.state, turn, step.handoff_reason or "asked", topic)
        return FlowOutcome(
            reply=step.reply,
            intent=step.intent,
            fine_intent=step.fine_intent,
            action=step.action,
            handoff=step.handoff,
            handoff_summary=handoff_summary,
            cards=step.cards,
            quick_replies=step.quick_replies,
            state=step.state.dump(),
            entities=entities,
            explanation=turn.explanation,
            # A person taking over answers everything; a drafted turn answers all its questions.
            also=list(turn.also) if step.reply is not None and not step.handoff else [],
        )
