"""The assist loop's desk: decided drafts reach the buyer, and no buyer is left waiting.

A draft that waits for an agent carries the reply policy's two timers (see
docs/reply-policy.md). :class:`AssistDesk` is the scheduler :class:`~bot.scheduling.Job` that
keeps them: when nothing has answered the buyer by ``hold_at`` a short holding message goes
out; when no agent acted by ``due_at`` the guard-clean draft is sent as drafted, and a draft
that failed a guard or was rejected becomes a handoff note, with the conversation waiting
for a person. Each timer is claimed with one conditional update before anything is sent, so
a tick run twice — or by two processes — sends nothing twice.

Every reply that leaves through the desk is stored before it is announced, and answering a
buyer settles the timers of what was open.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import Clock
from bot.conversations.store import ConversationStore, Message
from bot.errors import Conflict
from bot.events import EventBus
from bot.flows.templates import FlowTemplates
from bot.ids import IdProvider
from bot.suggestions.service import Suggestion, SuggestionService

log = logging.getLogger(__name__)

HOLD_TEMPLATE = "assist_hold"
HANDOFF_TEMPLATE = "assist_handoff"
HANDOFF_SUMMARY = "草稿{why}，{minutes}内无人处理：请人工回复买家的问题「{question}」"
_WHY = {"flagged": "未通过合规检查", "rejected": "已被驳回"}


class AssistDesk:
    """Delivers decided drafts and keeps the reply policy's timers (a scheduler Job)."""

    name = "assist.waiting_drafts"

    def __init__(
        self,
        conversations: ConversationStore,
        suggestions: SuggestionService,
        events: EventBus,
        ids: IdProvider,
        clock: Clock,
        templates: FlowTemplates,
        *,
        agent_name: str = "人工客服",
    ) -> None:
        """``agent_name`` is how buyers see every agent (the shop's persona), whatever the
        account that wrote."""
        for key in (HOLD_TEMPLATE, HANDOFF_TEMPLATE):
            if key not in templates:
                raise ValueError(f"the flow templates lack {key!r}")
        self.conversations = conversations
        self.suggestions = suggestions
        self.events = events
        self.ids = ids
        self.clock = clock
        self.templates = templates
        self.agent_name = agent_name

    # --- delivering ------------------------------------------------------------------------

    def deliver(self, suggestion: Suggestion) -> Message | None:
        """Post what was decided to the buyer (stored, then announced) and settle the open
        timers; a conversation that waited only for this draft goes back to the bot."""
        message = None
        if suggestion.sent_text:
            message = self.post(
                suggestion.conversation_id, suggestion.sent_text,
                author=None if suggestion.decided_by == "bot" else suggestion.decided_by,
                turn_id=suggestion.turn_id,
            )
            self.suggestions.settle(suggestion.conversation_id, holds_only=True)
            self.resume(suggestion.conversation_id)
        self.events.publish("suggestion.decided", suggestion.model_dump(mode="json"))
        return message

    def post(self, conversation_id: str, text: str, *, role: str = "bot", author: str | None = None,
             turn_id: str | None = None) -> Message:
        message = self.conversations.add_message(
            conversation_id, role, text, self.clock.now(), self.ids.new_id("m"),  # type: ignore[arg-type]
            author=author, turn_id=turn_id,
        )
        # The event reaches the buyer's page too: no account name in it. Consoles read the
        # author from the conversation itself.
        shown = message.model_dump(mode="json")
        shown["author"] = self.agent_name if message.author else None
        self.events.publish("message", {"conversation_id": conversation_id, "message": shown})
        return message

    def resume(self, conversation_id: str) -> None:
        """Back to the bot when the conversation waited for drafts only (the engine parked
        it) and none is pending any more."""
        conv = self.conversations.get(conversation_id)
        if conv is None or conv.status != "waiting" or not conv.state.get("engine", {}).get("parked"):
            return
        # One row says whether any is pending (the index on conversation and status finds it).
        if self.suggestions.has_pending(conversation_id):
            return
        updated = self.conversations.set_status(conversation_id, "bot", self.clock.now())
        self.events.publish("status", {"conversation_id": conversation_id, "status": updated.status})

    def _since_buyer(self, conversation_id: str) -> list[Message] | None:
        """The messages after the buyer's last one (None when the buyer wrote nothing): read
        from that message on, so the cost does not grow with the conversation."""
        return self.conversations.since_buyer(conversation_id)

    @staticmethod
    def _answers(m: Message) -> bool:
        # A reply to the buyer is a turn's (it has a turn id) or a person's; the desk's own
        # notes and the shop's unprompted messages (催付, notices) answer nothing.
        return m.role == "agent" or (m.role == "bot" and m.turn_id is not None)

    def unanswered(self, conversation_id: str) -> bool:
        """The buyer's last message has no reply after it."""
        return self._unanswered(self._since_buyer(conversation_id))

    def _unanswered(self, after: list[Message] | None) -> bool:
        return after is not None and not any(self._answers(m) for m in after)

    def _needs_hold(self, conversation_id: str) -> bool:
        hold = self.templates.render(HOLD_TEMPLATE)
        after = self._since_buyer(conversation_id)
        return after is not None and not any(self._answers(m) or m.text == hold for m in after)

    # --- the timers (Job) ------------------------------------------------------------------

    def run_due(self, now: datetime) -> int:
        done = 0
        for s in self.suggestions.holds_due(now):
            if self.suggestions.claim_hold(s.id) and self._needs_hold(s.conversation_id):
                self.post(s.conversation_id, self.templates.render(HOLD_TEMPLATE))
                done += 1
        for s in self.suggestions.drafts_due(now):
            if self.suggestions.claim_due(s.id):
                done += self._wait_over(s)
        return done

    def _wait_over(self, s: Suggestion) -> int:
        conv = self.conversations.get(s.conversation_id)
        if conv is None or conv.status in ("agent", "closed"):
            return 0  # a person has the conversation: it is theirs to answer
        if s.status == "pending" and not s.flags:
            try:
                sent = self.suggestions.send_as_drafted(s.id)
            except Conflict:  # an agent decided it at this very moment
                return 0
            self.deliver(sent)
            return 1
        note = self.templates.render(HANDOFF_TEMPLATE)
        after = self._since_buyer(s.conversation_id)
        if not self._unanswered(after) or any(m.text == note for m in after or []):
            return 0
        self.post(s.conversation_id, note)
        question = str(s.facts.get("question") or "")[:80]
        waited = (s.due_at - s.created).total_seconds() if s.due_at else 0
        summary = HANDOFF_SUMMARY.format(
            why=_WHY["rejected" if s.status == "rejected" else "flagged"],
            minutes=_span(waited), question=question,
        )
        now = self.clock.now()
        # Waiting for a person now, not for drafts: no reply of the bot ends the wait.
        state = dict(conv.state)
        state["engine"] = {**state.get("engine", {}), "parked": False}
        self.conversations.save_state(s.conversation_id, state, now)
        updated = self.conversations.set_status(s.conversation_id, "waiting", now, summary=summary)
        self.events.publish("status", {"conversation_id": s.conversation_id, "status": updated.status})
        return 1


def _span(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}秒"
    return f"{seconds // 60}分钟" if seconds % 60 == 0 else f"{seconds // 60}分{seconds % 60}秒"
