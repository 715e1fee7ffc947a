"""The bot: one buyer turn from message to stored result.

Order of work for a turn, so nothing acknowledged is ever lost:
1. store the buyer message (committed);
2. the dialogue manager routes it and runs the deterministic flows;
3. sales / product / policy questions go to the drafting pipeline; the draft becomes a
   suggestion that the shop's reply policy sends at once (guard-clean, for the
   intents it names, or every intent in ``auto`` mode) or that waits for an agent with the
   policy's timers, kept by :class:`~bot.suggestions.assist.AssistDesk`;
4. store the suggestion, the reply, the dialogue state and the turn result in one commit
   (:func:`~bot.storage.unit.unit_of_work`); then publish the live events.

While an agent has taken over, the flows stay quiet and change nothing, but every buyer
message still gets a draft for the agent (the copilot). Handing the conversation back makes
the bot answer what is open (:meth:`Bot.answer_open`).

Each step is its own short piece of storage work; no transaction stays open while the
model writes. :meth:`Bot.handle` runs the steps in the calling thread (CLI, evaluation
runner); :meth:`Bot.ahandle` is the server's: the steps run in the bot's own few worker
threads (one on SQLite with no model: local work only) and the draft is awaited, so turns
the flows answer never wait behind a slow model.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio

from bot.clock import Clock
from bot.drafting.pipeline import Draft, DraftRequest, Redraft
from bot.errors import Conflict, NotFound
from bot.events import EventBus
from bot.flows.templates import FlowTemplates
from bot.guards import check_reply
from bot.ids import IdProvider
from bot.shop.models import Shop
from bot.storage.unit import unit_of_work
from bot.suggestions.assist import AssistDesk
from bot.turns import Card, ConversationStatus, Source, TurnResult

if TYPE_CHECKING:
    from bot.conversations.store import ConversationStore, Message
    from bot.drafting.pipeline import DraftingPipeline
    from bot.flows.dialogue import DialogueManager, FlowOutcome
    from bot.router.router import AlsoAsked
    from bot.suggestions.service import Suggestion, SuggestionService

log = logging.getLogger(__name__)

T = TypeVar("T")
HISTORY_TURNS = 6
DECLINE_MEMORY_TURNS = 3
FAILSAFE_REPLY = "抱歉{term}，系统刚刚开了小差，已为您转接人工客服，请稍等～"
FAILED_SUMMARY = "系统处理这条消息时出错，请人工接手并查看买家的最后一条消息。"
# A new suggestion's event leaves out what only its detail shows.
ANNOUNCED_WITHOUT = frozenset({"facts"})
# Worker threads for the stored, deterministic part of turns: reads and writes of a few
# milliseconds, so a handful keeps up; they are the bot's own, not the server's shared pool.
TURN_THREADS = 8


@dataclass
class _Turn:
    """A turn whose buyer message is stored: what the later steps need."""

    conversation_id: str
    buyer_id: str
    text: str
    status: ConversationStatus
    state: dict[str, Any]
    message_id: str
    turn_id: str
    now: datetime
    started: float


@dataclass(frozen=True)
class _Suggested:
    """A draft of the turn as the reply policy decided it: stored with the turn's end (one
    commit) and announced to the consoles after it."""

    suggestion_id: str
    intent: str
    draft: Draft
    auto_sent: bool
    hold_at: datetime | None = None
    due_at: datetime | None = None
    origin: str = "turn"


@dataclass
class _Answer:
    """A turn's result and the dialogue state it leaves."""

    result: TurnResult
    state: dict[str, Any]
    summary: str | None = None
    # Questions asked beside the one the flow answered, still to be drafted.
    also: list[AlsoAsked] = field(default_factory=list)
    # A draft of this turn waits for an agent although the reply went out.
    waits: bool = False
    # The turn's drafts, to be stored with its end.
    suggested: list[_Suggested] = field(default_factory=list)


@dataclass
class _NeedsDraft:
    """The flows gave no reply: the turn waits for the drafting pipeline."""

    outcome: FlowOutcome
    request: DraftRequest


class Bot:
    """Handles buyer turns. Every dependency is passed in; nothing is global."""

    def __init__(
        self,
        shop: Shop,
        conversations: ConversationStore,
        dialogue: DialogueManager,
        drafting: DraftingPipeline,
        suggestions: SuggestionService,
        events: EventBus,
        clock: Clock,
        ids: IdProvider,
        reply_mode: Literal["assist", "auto"] = "assist",
        max_message_chars: int = 2000,
        turn_threads: int = TURN_THREADS,
    ) -> None:
        if reply_mode not in ("assist", "auto"):
            raise ValueError(f"reply_mode must be assist or auto, not {reply_mode!r}")
        if max_message_chars <= 0:
            raise ValueError("max_message_chars must be positive")
        if turn_threads <= 0:
            raise ValueError("turn_threads must be positive")
        self.shop = shop
        self.conversations = conversations
        self.dialogue = dialogue
        self.drafting = drafting
        self.suggestions = suggestions
        self.events = events
        self.clock = clock
        self.ids = ids
        self.reply_mode = reply_mode
        self.policy = shop.info.reply_policy
        self.max_message_chars = max_message_chars
        self.turn_threads = turn_threads
        self._workers = anyio.CapacityLimiter(turn_threads)
        templates = getattr(dialogue, "templates", None) or FlowTemplates(shop)
        self.desk = AssistDesk(
            conversations, suggestions, events, ids, clock, templates, agent_name=shop.info.persona.name
        )

    # -- conversations ----------------------------------------------------------------------

    def start_conversation(self, buyer_id: str) -> str:
        if buyer_id not in self.shop.buyers:
            raise NotFound("没有这位买家")
        conv = self.conversations.create(buyer_id, self.clock.now(), self.ids.new_id("c"))
        self.events.publish("status", {"conversation_id": conv.id, "status": conv.status})
        return conv.id

    def conversation_for(self, buyer_id: str) -> str:
        """The buyer's open conversation, or a new one."""
        conv = self.conversations.latest_for(buyer_id)
        if conv is None or conv.status == "closed":
            return self.start_conversation(buyer_id)
        return conv.id

    async def aconversation_for(self, buyer_id: str) -> str:
        return await self._in_worker(self.conversation_for, buyer_id)

    # -- a turn -----------------------------------------------------------------------------

    def handle(self, conversation_id: str, buyer_id: str, text: str) -> TurnResult:
        turn = self._open(conversation_id, buyer_id, text)
        if turn.status == "agent":
            return self._copilot(turn)
        try:
            step = self._route(turn)
            if isinstance(step, _NeedsDraft):
                step = self._drafted(turn, step, self.drafting.draft(step.request))
            elif step.also:
                step = self._beside(turn, step)
        except Exception:  # the message is stored; a person takes over rather than an error
            step = self._failed(turn)
        return self._close(turn, step)

    async def ahandle(self, conversation_id: str, buyer_id: str, text: str) -> TurnResult:
        """:meth:`handle` without holding a thread while the model writes; the draft's
        tokens are published as they come (``draft.delta`` to the consoles, and
        ``reply.delta`` to the buyer where the policy would send the draft at once).

        With no model configured every step is short local work (the template drafter answers
        in milliseconds, nothing to stream): the whole turn is one call in a worker thread, as
        :meth:`handle`, instead of a hop per step."""
        if self.drafting.llm is None:
            return await self._in_worker(self.handle, conversation_id, buyer_id, text)
        turn = await self._in_worker(self._open, conversation_id, buyer_id, text)
        if turn.status == "agent":
            return await self._acopilot(turn)
        try:
            step = await self._in_worker(self._route, turn)
            if isinstance(step, _NeedsDraft):
                draft = await self._stream_draft(turn, step, to_buyer=self._sends_at_once(step.outcome.intent))
                step = await self._in_worker(self._drafted, turn, step, draft)
            elif step.also:
                step = await self._abeside(turn, step)
        except Exception:  # the message is stored; a person takes over rather than an error
            step = self._failed(turn)
        return await self._in_worker(self._close, turn, step)

    async def _stream_draft(self, turn: _Turn, step: _NeedsDraft, *, to_buyer: bool) -> Draft:
        finished: list[Draft] = []
        base = {"conversation_id": turn.conversation_id, "turn_id": turn.turn_id}
        async for piece in self.drafting.astream(step.request, on_done=finished.append):
            self.events.publish("draft.delta", {**base, "intent": step.outcome.intent, "text": piece})
            if to_buyer:
                self.events.publish("reply.delta", {**base, "text": piece})
        draft = finished[0]
        if to_buyer and not draft.passed:  # what the buyer saw being written is not sent
            self.events.publish("reply.retract", base)
        return draft

    # -- the copilot: an agent has the conversation ----------------------------------------

    def _copilot(self, turn: _Turn) -> TurnResult:
        """The flows stay quiet (an agent is in charge and nothing changes by itself); the
        message still gets a draft with its facts and citations for the agent."""
        try:
            step = self._copilot_request(turn)
            answer = self._drafted(turn, step, self.drafting.draft(step.request), copilot=True)
        except Exception:
            log.exception("copilot draft failed in conversation %s", turn.conversation_id)
            return self._quiet(turn)
        return self._close(turn, answer)

    async def _acopilot(self, turn: _Turn) -> TurnResult:
        try:
            step = await self._in_worker(self._copilot_request, turn)
            draft = await self._stream_draft(turn, step, to_buyer=False)
            answer = await self._in_worker(self._drafted, turn, step, draft, True)
        except Exception:
            log.exception("copilot draft failed in conversation %s", turn.conversation_id)
            return await self._in_worker(self._quiet, turn)
        return await self._in_worker(self._close, turn, answer)

    def _copilot_request(self, turn: _Turn) -> _NeedsDraft:
        from bot.flows.dialogue import FlowOutcome

        parsed = self.dialogue.router.route(turn.text, dict(turn.state))
        outcome = FlowOutcome(
            reply=None, intent=parsed.intent, fine_intent=parsed.fine_intent, state=dict(turn.state),
            entities=parsed.slots.entities(),
        )
        return _NeedsDraft(outcome, self._draft_request(turn, outcome, dict(turn.state)))

    # -- handing back ------------------------------------------------------------------------

    def answer_open(self, conversation_id: str) -> TurnResult | None:
        """The bot answers what is open after an agent hands the conversation back: a
        waiting guard-clean draft goes out as drafted; otherwise the buyer's last unanswered
        message is taken as a new turn, its draft sent if guard-clean, else a handoff note.
        None when nothing is open."""
        if not self.desk.unanswered(conversation_id):
            return None
        for s in reversed(self.suggestions.list(status="pending", conversation_id=conversation_id, limit=20)):
            if not s.flags:
                self.desk.deliver(self.suggestions.send_as_drafted(s.id))
                return None
        conv = self.conversations.get(conversation_id)
        last = self.conversations.last_buyer_message(conversation_id)
        if conv is None or last is None:
            return None
        turn = _Turn(
            conversation_id=conversation_id, buyer_id=conv.buyer_id, text=last.text, status=conv.status,
            state=dict(conv.state), message_id=last.id, turn_id=self.ids.new_id("t"),
            now=self.clock.now(), started=time.perf_counter(),
        )
        try:
            step = self._route(turn)
            if isinstance(step, _NeedsDraft):
                step = self._drafted(turn, step, self.drafting.draft(step.request), force=True)
        except Exception:
            step = self._failed(turn)
        return self._close(turn, step)

    async def aanswer_open(self, conversation_id: str) -> TurnResult | None:
        return await self._in_worker(self.answer_open, conversation_id)

    # -- a draft again, for the agent's reason -----------------------------------------------

    @property
    def can_redraft(self) -> bool:
        """A model is configured, so a rejected draft can be written again for a reason."""
        return self.drafting.llm is not None

    def redraft(self, suggestion_id: str, agent: str, reason: str) -> Suggestion:
        """Draft the buyer's open question again, the model told the rejected draft and the
        agent's ``reason``. A pending draft is rejected first (with that reason). The new draft
        waits for the agent with the reply policy's wait, which replaces the old draft's, so the
        buyer still gets the guard-clean draft or a handoff note when nobody acts.

        :class:`Conflict` when the draft was already sent, or when no model is configured (the
        offline drafter answers from the same facts the same way: nothing to rewrite)."""
        if not self.can_redraft:
            raise Conflict("未配置大模型：离线模板按同样的事实作答，无法按原因改写，请编辑草稿或直接回复买家")
        old = self.suggestions.get(suggestion_id)
        if old is None:
            raise NotFound("没有找到这条建议回复")
        if old.status == "pending":
            old = self.suggestions.reject(suggestion_id, agent, reason)
            self.events.publish("suggestion.decided", old.model_dump(mode="json"))
        elif old.status != "rejected":
            raise Conflict("这条草稿已经发给买家了，不能重新生成")
        conv = self.conversations.get(old.conversation_id)
        asked = self.conversations.last_buyer_message(old.conversation_id)
        if conv is None or asked is None:
            raise NotFound("没有找到买家的问题")
        now = self.clock.now()
        turn = _Turn(
            conversation_id=conv.id, buyer_id=conv.buyer_id, text=asked.text, status=conv.status,
            state=dict(conv.state), message_id=asked.id, turn_id=old.turn_id, now=now,
            started=time.perf_counter(),
        )
        step = self._copilot_request(turn)
        request = step.request.model_copy(update={"redraft": Redraft(draft=old.draft, reason=reason.strip())})
        draft = self.drafting.draft(request)
        self.suggestions.claim_due(old.id)  # the new draft's wait replaces the old one's
        taken = conv.status == "agent"  # the agent has it: the copilot's draft waits for them
        due_at = None if taken else now + timedelta(seconds=self.policy.wait_for(step.outcome.intent))
        suggestion = self.suggestions.create(
            conv.id, old.turn_id, step.outcome.intent, draft, auto_sent=False, due_at=due_at, origin="redraft",
        )
        self._announce(suggestion)
        return suggestion

    def _announce(self, suggestion: Suggestion) -> None:
        """Tell the consoles a draft is stored: the suggestion without the facts it was drafted
        from (a console that shows them reads the suggestion; every console, the event buffer
        and the Redis stream would otherwise carry ~10 KB a drafted turn)."""
        self.events.publish("suggestion.created", suggestion.model_dump(mode="json", exclude=ANNOUNCED_WITHOUT))

    async def _in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._workers)

    # -- the steps of a turn ----------------------------------------------------------------

    def _open(self, conversation_id: str, buyer_id: str, text: str) -> _Turn:
        """Store the buyer's message (committed) before anything else happens."""
        started = time.perf_counter()
        conv = self.conversations.get(conversation_id)
        if conv is None or conv.buyer_id != buyer_id:
            raise NotFound("没有找到这个会话")
        text = (text or "").strip()[: self.max_message_chars]
        now = self.clock.now()
        message_id = self.ids.new_id("m")
        message = self.conversations.add_message(conversation_id, "buyer", text, now, message_id)
        self._publish_message(message)
        if conv.status == "closed":  # the buyer writes again after rating: reopen with the bot
            conv = self.conversations.set_status(conversation_id, "bot", now)
        return _Turn(
            conversation_id=conversation_id, buyer_id=buyer_id, text=text, status=conv.status,
            state=dict(conv.state), message_id=message_id, turn_id=self.ids.new_id("t"),
            now=now, started=started,
        )

    def _quiet(self, turn: _Turn) -> TurnResult:
        """An agent has taken over: the bot stays quiet and records the turn only."""
        result = TurnResult(
            conversation_id=turn.conversation_id, turn_id=turn.turn_id, reply="", intent="other",
            delivered=False, status="agent",
        )
        return self._finish(result, turn.message_id, turn.started)

    def _route(self, turn: _Turn) -> _Answer | _NeedsDraft:
        """Route the message and run the deterministic flows; without a reply from them the
        turn needs a draft."""
        state = dict(turn.state)
        outcome = self.dialogue.handle(state, turn.buyer_id, turn.text)
        if outcome.reply is None:
            return _NeedsDraft(outcome, self._draft_request(turn, outcome, state))
        flags = check_reply(
            outcome.reply, {}, self.shop, buyer=turn.buyer_id, check_numbers=False, known_texts=[turn.text]
        )
        result = TurnResult(reply=outcome.reply, flags=[f.code for f in flags], **self._base(turn, outcome))
        return _Answer(result, outcome.state, outcome.handoff_summary, also=list(outcome.also))

    def _beside(self, turn: _Turn, step: _Answer) -> _Answer:
        """The questions asked beside the one the flow answered ("7003到哪了 顺便问下T恤会起球吗")
        are drafted like any product question. A draft the reply policy sends at once joins the
        flow's reply; one that waits goes to the agents with the policy's wait, the
        conversation waiting for it as for any draft (the buyer has the flow's answer already)."""
        drafts = [self.drafting.draft(request) for request in self._beside_requests(turn, step)]
        return self._beside_drafted(turn, step, drafts)

    async def _abeside(self, turn: _Turn, step: _Answer) -> _Answer:
        """:meth:`_beside` without holding a worker thread while the model writes."""
        requests = await self._in_worker(self._beside_requests, turn, step)
        drafts = [await self.drafting.adraft(request) for request in requests]
        return await self._in_worker(self._beside_drafted, turn, step, drafts)

    def _beside_requests(self, turn: _Turn, step: _Answer) -> list[DraftRequest]:
        from bot.flows.dialogue import FlowOutcome

        requests = []
        for also in step.also:
            outcome = FlowOutcome(
                reply=None, intent=also.intent, fine_intent=also.intent, state=step.state,
                entities=also.slots.entities(),
            )
            requests.append(self._draft_request(replace(turn, text=also.text), outcome, step.state))
        return requests

    def _beside_drafted(self, turn: _Turn, step: _Answer, drafts: list[Draft]) -> _Answer:
        result, waits, suggested = step.result, False, list(step.suggested)
        lead = re.compile(rf"^{re.escape(self.shop.info.persona.address_term)}[，,～]?")
        for also, draft in zip(step.also, drafts, strict=True):
            auto = draft.passed and self._sends_at_once(also.intent)
            due_at = None if auto else turn.now + timedelta(seconds=self.policy.wait_for(also.intent))
            suggested.append(_Suggested(self.suggestions.new_id(), also.intent, draft, auto, due_at=due_at))
            text = draft.text.strip()
            if not auto:
                waits = True
                result.also_draft = "\n".join(t for t in (result.also_draft, text) if t)
                continue
            # One address term per reply: "亲，…\n另外，…", not a second "亲，".
            result.reply = f"{result.reply}\n另外，{lead.sub('', text, count=1) or text}"
            result.sources.extend(s if isinstance(s, Source) else Source.model_validate(s) for s in draft.citations)
            result.flags.extend(f for f in draft.flags if f not in result.flags)
        return replace(step, result=result, also=[], waits=waits, suggested=suggested)

    def _draft_request(self, turn: _Turn, outcome: FlowOutcome, state: dict[str, Any]) -> DraftRequest:
        engine_state = state.get("engine", {})
        turns = int(engine_state.get("turns", 0))
        declined_at = engine_state.get("declined_at")
        declined = declined_at is not None and turns - int(declined_at) < DECLINE_MEMORY_TURNS
        return DraftRequest(
            conversation_id=turn.conversation_id,
            buyer=self.shop.buyers[turn.buyer_id],
            question=outcome.question or turn.text,
            intent=outcome.intent,
            entities=dict(outcome.entities),
            history=self._history(turn.conversation_id),
            declined=declined,
            now=self.clock.now(),
        )

    def _sends_at_once(self, intent: str) -> bool:
        return self.policy.sends_at_once(intent, self.reply_mode)

    def _drafted(self, turn: _Turn, step: _NeedsDraft, draft: Draft, copilot: bool = False,
                 *, force: bool = False) -> _Answer:
        """The draft as a suggestion, stored with the turn's end. The reply policy sends it at
        once when it passed every guard and its intent is sent at once (``force``: the agent
        handed back, any guard-clean draft). Otherwise it waits for an agent with the policy's
        timers; a copilot draft waits for the agent who has the conversation, with only the
        holding message's timer."""
        outcome = step.outcome
        policy, now = self.policy, turn.now
        if copilot:
            auto, hold_at, due_at = False, now + timedelta(seconds=policy.hold_s), None
        else:
            # A draft that passed every guard is one the shop stands behind, the template's
            # too (it answers from the same facts when the model is busy, slow or refused).
            auto = draft.passed and (force or self._sends_at_once(outcome.intent))
            wait = policy.wait_for(outcome.intent)
            hold_at = now + timedelta(seconds=policy.hold_s) if not auto and policy.hold_s < wait else None
            due_at = None if auto else now + timedelta(seconds=0 if force else wait)
        suggested = _Suggested(
            self.suggestions.new_id(), outcome.intent, draft, auto, hold_at=hold_at, due_at=due_at,
            origin="copilot" if copilot else "turn",
        )
        result = TurnResult(
            reply=draft.text,
            sources=[s if isinstance(s, Source) else Source.model_validate(s) for s in draft.citations],
            suggestion_id=suggested.suggestion_id,
            delivered=auto,
            flags=list(draft.flags),
            **self._base(turn, outcome),
        )
        return _Answer(result, outcome.state, outcome.handoff_summary, suggested=[suggested])

    def _failed(self, turn: _Turn) -> _Answer:
        log.exception("turn failed in conversation %s", turn.conversation_id)
        result = TurnResult(
            conversation_id=turn.conversation_id, turn_id=turn.turn_id,
            reply=FAILSAFE_REPLY.format(term=self.shop.info.persona.address_term),
            intent="other", action="handoff", handoff=True,
        )
        return _Answer(result, dict(turn.state), FAILED_SUMMARY)

    def _close(self, turn: _Turn, step: _Answer) -> TurnResult:
        """Store the dialogue state, a handoff, the delivered reply and the turn.

        A draft that waits for an agent puts a conversation the bot had in 待接入 (``parked``
        in the engine's state, so that it goes back to the bot once its drafts are decided); a
        handoff puts it there for a person."""
        result, cid, now = step.result, turn.conversation_id, turn.now
        engine_state = dict(step.state.get("engine", {}))
        engine_state["turns"] = int(engine_state.get("turns", 0)) + 1
        if result.intent == "deny":
            engine_state["declined_at"] = engine_state["turns"]
        parks = (bool(result.suggestion_id) and not result.delivered or step.waits) and turn.status == "bot"
        if result.handoff:
            engine_state["parked"] = False
        elif parks:
            engine_state["parked"] = True
        status = turn.status
        events: list[tuple[str, dict[str, Any]]] = []  # published once the unit is committed
        reply: Message | None = None
        stored: list[Suggestion] = []
        with unit_of_work():  # drafts, state, status, reply and the turn's record: one commit
            for d in step.suggested:
                stored.append(self.suggestions.create(
                    cid, turn.turn_id, d.intent, d.draft, auto_sent=d.auto_sent, hold_at=d.hold_at,
                    due_at=d.due_at, origin=d.origin, suggestion_id=d.suggestion_id,
                ))
            self.conversations.save_state(cid, {**step.state, "engine": engine_state}, now)
            if result.handoff and (turn.status != "waiting" or step.summary):
                updated = self.conversations.set_status(cid, "waiting", now, summary=step.summary)
                events.append(("status", {"conversation_id": cid, "status": updated.status}))
                status = "waiting"
            elif parks:
                updated = self.conversations.set_status(cid, "waiting", now)
                events.append(("status", {"conversation_id": cid, "status": updated.status, "waiting_for_draft": True}))
                status = "waiting"
            result.status = status  # type: ignore[assignment]
            if result.delivered and result.reply:
                reply = self.conversations.add_message(
                    cid, "bot", result.reply, now, self.ids.new_id("m"), turn_id=turn.turn_id
                )
                self.suggestions.settle(cid, holds_only=True)  # the buyer has a first reply
            self._record(result, turn.message_id, turn.started)
        for suggestion in stored:
            self._announce(suggestion)
        for kind, data in events:
            self.events.publish(kind, data)
        if reply is not None:
            self._publish_message(reply)
            if status == "waiting" and not result.handoff:
                self.desk.resume(cid)
        self.events.publish("turn", result.model_dump(mode="json"))
        return result

    def _base(self, turn: _Turn, outcome: FlowOutcome) -> dict[str, Any]:
        return {
            "conversation_id": turn.conversation_id,
            "turn_id": turn.turn_id,
            "intent": outcome.intent,
            "fine_intent": outcome.fine_intent,
            "action": outcome.action,
            "handoff": outcome.handoff,
            "cards": [Card.model_validate(c) if isinstance(c, dict) else c for c in outcome.cards],
            "quick_replies": list(outcome.quick_replies),
        }

    def _history(self, conversation_id: str) -> list[tuple[str, str]]:
        lines = self.conversations.recent_lines(conversation_id, HISTORY_TURNS * 2 + 1)
        # The last message is the buyer's current one; the drafter gets it as the question.
        return lines[:-1]

    def _finish(self, result: TurnResult, message_id: str, started: float) -> TurnResult:
        self._record(result, message_id, started)
        self.events.publish("turn", result.model_dump(mode="json"))
        return result

    def _record(self, result: TurnResult, message_id: str, started: float) -> None:
        result.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        self.conversations.add_turn(result, message_id, self.clock.now())

    def _publish_message(self, message: Message) -> None:
        self.events.publish(
            "message",
            {"conversation_id": message.conversation_id, "message": message.model_dump(mode="json")},
        )
