"""The result of one buyer turn, as the API, the web pages and the benchmark runner see it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ConversationStatus = Literal["bot", "waiting", "agent", "closed"]


class Source(BaseModel):
    """A retrieved passage the reply rests on, cited as ``citation`` (e.g. ``退换货.md#七天无理由``)."""

    id: str
    citation: str
    title: str = ""
    score: float | None = None


class Card(BaseModel):
    """Structured content the chat page renders: an order, a parcel, a product, a refund."""

    kind: Literal["order", "parcel", "product", "refund", "orders"]
    data: dict[str, Any]


class TurnResult(BaseModel):
    conversation_id: str
    turn_id: str
    reply: str = Field(description="what the buyer sees, or the draft as if accepted unchanged")
    intent: str = Field(description="canonical intent of the turn")
    fine_intent: str | None = None
    action: str | None = Field(default=None, description="canonical action done at this turn")
    handoff: bool = False
    sources: list[Source] = Field(default_factory=list)
    cards: list[Card] = Field(default_factory=list)
    quick_replies: list[str] = Field(default_factory=list)
    suggestion_id: str | None = Field(
        default=None, description="set when the reply is a draft waiting for an agent"
    )
    delivered: bool = Field(default=True, description="false while the draft waits for an agent")
    also_draft: str = Field(
        default="",
        description="the draft answering a second question of the message, waiting for an agent "
        "(as if accepted unchanged); the reply went out without it",
    )
    status: ConversationStatus = "bot"
    flags: list[str] = Field(default_factory=list, description="guard flags on the reply")
    latency_ms: float = 0.0
