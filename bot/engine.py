"""The bot: one buyer turn from message to stored result.

Order of work for a turn, so nothing acknowledged is ever lost:
1. store the buyer message (committed);
2. the dialogue manager routes it and runs the deterministic flows;
3. sales / product / policy questions go to the drafting pipeline; the draft becomes a
   suggestion that waits for an agent (``assist``) or is sent when every guard passes (``auto``);
4. store the reply, the dialogue state and the turn result; publish live events.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from bot.clock import Clock
from bot.drafting.pipeline import DraftRequest
from bot.errors import NotFound
from bot.events import EventBus
from bot.guards import check_reply
from bot.ids import IdProvider
from bot.shop.models import Shop
from bot.turns import Card, Source, TurnResult

if TYPE_CHECKING:
    from bot.conversations.store import ConversationStore, Message
    from bot.drafting.pipeline import DraftingPipeline
    from bot.flows.dialogue import DialogueManager, FlowOutcome
    from bot.suggestions.service import SuggestionService

log = logging.getLogger(__name__)

HISTORY_TURNS = 6
DECLINE_MEMORY_TURNS = 3
FAILSAFE_REPLY = "抱歉{term}，系统刚刚开了小差，已为您转接人工客服，请稍等～"


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
    ) -> None:
        if reply_mode not in ("assist", "auto"):
            raise ValueError(f"reply_mode must be assist or auto, not {reply_mode!r}")
        if max_message_chars <= 0:
            raise ValueError("max_message_chars must be positive")
        self.shop = shop
        self.conversations = conversations
        self.dialogue = dialogue
        self.drafting = drafting
        self.suggestions = suggestions
        self.events = events
        self.clock = clock
        self.ids = ids
        self.reply_mode = reply_mode
        self.max_message_chars = max_message_chars

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

    # -- a turn -----------------------------------------------------------------------------

    def handle(self, conversation_id: str, buyer_id: str, text: str) -> TurnResult:
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
        turn_id = self.ids.new_id("t")

        if conv.status == "agent":
            # An agent has taken over: the bot stays quiet and records the turn only.
            result = TurnResult(
                conversation_id=conversation_id, turn_id=turn_id, reply="", intent="other",
                delivered=False, status="agent",
            )
            return self._finish(result, message_id, started)

        state = dict(conv.state)
        summary: str | None = None
        try:
            outcome = self.dialogue.handle(state, buyer_id, text)
            summary = outcome.handoff_summary
            result = self._result_of(conversation_id, turn_id, buyer_id, text, outcome, state)
            new_state = outcome.state
        except Exception:  # the message is stored; a person takes over rather than an error
            log.exception("turn failed in conversation %s", conversation_id)
            summary = "系统处理这条消息时出错，请人工接手并查看买家的最后一条消息。"
            result = TurnResult(
                conversation_id=conversation_id, turn_id=turn_id,
                reply=FAILSAFE_REPLY.format(term=self.shop.info.persona.address_term),
                intent="other", action="handoff", handoff=True,
            )
            new_state = state
        engine_state = dict(new_state.get("engine", {}))
        engine_state["turns"] = int(engine_state.get("turns", 0)) + 1
        if result.intent == "deny":
            engine_state["declined_at"] = engine_state["turns"]
        new_state = {**new_state, "engine": engine_state}
        self.conversations.save_state(conversation_id, new_state, now)

        if result.handoff and conv.status != "waiting":
            updated = self.conversations.set_status(
                conversation_id, "waiting", now, summary=summary
            )
            self.events.publish(
                "status", {"conversation_id": conversation_id, "status": updated.status}
            )
        result.status = "waiting" if result.handoff else conv.status
        if result.delivered and result.reply:
            reply = self.conversations.add_message(
                conversation_id, "bot", result.reply, now, self.ids.new_id("m"), turn_id=turn_id
            )
            self._publish_message(reply)
        return self._finish(result, message_id, started)

    def _result_of(
        self,
        conversation_id: str,
        turn_id: str,
        buyer_id: str,
        text: str,
        outcome: FlowOutcome,
        state: dict[str, Any],
    ) -> TurnResult:
        base: dict[str, Any] = {
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "intent": outcome.intent,
            "fine_intent": outcome.fine_intent,
            "action": outcome.action,
            "handoff": outcome.handoff,
            "cards": [Card.model_validate(c) if isinstance(c, dict) else c for c in outcome.cards],
            "quick_replies": list(outcome.quick_replies),
        }
        if outcome.reply is not None:
            flags = check_reply(
                outcome.reply, {}, self.shop, buyer=buyer_id, check_numbers=False, known_texts=[text]
            )
            return TurnResult(reply=outcome.reply, flags=[f.code for f in flags], **base)

        engine_state = state.get("engine", {})
        turns = int(engine_state.get("turns", 0))
        declined_at = engine_state.get("declined_at")
        declined = declined_at is not None and turns - int(declined_at) < DECLINE_MEMORY_TURNS
        request = DraftRequest(
            conversation_id=conversation_id,
            buyer=self.shop.buyers[buyer_id],
            question=text,
            intent=outcome.intent,
            entities=dict(outcome.entities),
            history=self._history(conversation_id),
            declined=declined,
            now=self.clock.now(),
        )
        draft = self.drafting.draft(request)
        auto = self.reply_mode == "auto" and draft.passed
        suggestion = self.suggestions.create(
            conversation_id, turn_id, outcome.intent, draft, auto_sent=auto
        )
        self.events.publish("suggestion.created", suggestion.model_dump(mode="json"))
        return TurnResult(
            reply=draft.text,
            sources=[s if isinstance(s, Source) else Source.model_validate(s) for s in draft.citations],
            suggestion_id=suggestion.id,
            delivered=auto,
            flags=list(draft.flags),
            **base,
        )

    def _history(self, conversation_id: str) -> list[tuple[str, str]]:
        messages = self.conversations.messages(conversation_id)
        # The last message is the buyer's current one; the drafter gets it as the question.
        return [(m.role, m.text) for m in messages[-(HISTORY_TURNS * 2 + 1) : -1]]

    def _finish(self, result: TurnResult, message_id: str, started: float) -> TurnResult:
        result.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        self.conversations.add_turn(result, message_id, self.clock.now())
        self.events.publish("turn", result.model_dump(mode="json"))
        return result

    def _publish_message(self, message: Message) -> None:
        self.events.publish(
            "message",
            {"conversation_id": message.conversation_id, "message": message.model_dump(mode="json")},
        )
