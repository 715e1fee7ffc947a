"""Response times from message timestamps: who answered a buyer, and how long it took.

* An *answer* is the first reply after one or more buyer messages; it is timed from the
  first of those buyer messages. The bot's replies to a turn count for the bot; an agent's
  message, or a draft an agent accepted or edited, counts for that agent. System messages,
  holding messages and messages the shop sends unprompted answer nothing
  (:attr:`ChatMessage.kind`).
* The bot's *first response* in a conversation is timed from the buyer's first message to
  the shop's first reply, when that reply is the bot's: an answer, or the reply policy's
  holding message (which exists so that no buyer waits long for a first word). A holding
  message ends no wait for an answer.
* An agent's *first response* in a conversation is timed from the moment the buyer first
  needed a person — the handoff, or the buyer message the agent's first message answers,
  whichever came first — to that agent message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.reports.activity import ConversationRecord

Responder = Literal["bot", "agent"]


@dataclass(frozen=True)
class Wait:
    """How long a buyer waited for ``responder`` (and ``agent``, for an agent)."""

    conversation_id: str
    responder: Responder
    agent: str | None
    asked_at: datetime
    answered_at: datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.answered_at - self.asked_at).total_seconds())


@dataclass(frozen=True)
class Timings:
    answers: tuple[Wait, ...]  # every answer: average response time
    firsts: tuple[Wait, ...]  # first responses: first-response time


def timings_of(conv: ConversationRecord) -> Timings:
    handoffs = sorted(t.created for t in conv.turns if t.handoff)
    answers: list[Wait] = []
    firsts: list[Wait] = []
    pending: datetime | None = None
    replied = False  # the shop has replied to the buyer at least once
    seen_agents: set[str] = set()
    for msg in conv.messages:
        if msg.kind == "buyer":
            pending = pending or msg.created
            continue
        if msg.kind == "holding":
            if pending is not None and not replied:
                firsts.append(Wait(conv.id, "bot", None, pending, msg.created))
            replied = replied or pending is not None
            continue
        if msg.kind != "answer":
            continue
        agent = msg.agent
        responder: Responder = "bot" if agent is None else "agent"
        if pending is not None:
            wait = Wait(conv.id, responder, agent, pending, msg.created)
            answers.append(wait)
            if agent is None and not replied:
                firsts.append(wait)
        if agent is not None and agent not in seen_agents:
            seen_agents.add(agent)
            handoff = handoffs[0] if handoffs and handoffs[0] <= msg.created else None
            needed = [t for t in (pending, handoff) if t is not None]
            if needed:
                firsts.append(Wait(conv.id, "agent", agent, min(needed), msg.created))
        replied = replied or pending is not None
        pending = None
    return Timings(tuple(answers), tuple(firsts))
