"""Request bodies and the public (buyer-facing) views of internal records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.conversations.store import Conversation, Message
from bot.turns import TurnResult


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatIn(Body):
    text: str = Field(description="买家发送的消息；超长部分截断，空消息也会得到回复")
    conversation_id: str | None = Field(default=None, description="会话 id；不填则使用当前会话")


class DemoLoginIn(Body):
    buyer_id: str = Field(min_length=1, max_length=64)


class AgentLoginIn(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RatingIn(Body):
    score: int = Field(ge=1, le=5, description="满意度 1–5")


class TextIn(Body):
    text: str = Field(min_length=1, max_length=2000)


class AgentCreateIn(Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: str = Field(default="agent", pattern="^(agent|admin)$")


class EvalResetIn(Body):
    now: datetime


class BuyerPublic(BaseModel):
    id: str
    nick: str
    vip_level: int


class MessagePublic(BaseModel):
    id: str
    seq: int
    role: str
    text: str
    created: datetime


class ConversationPublic(BaseModel):
    id: str
    status: str
    agent: str | None = Field(default=None, description="接待中的客服")
    rating: int | None
    messages: list[MessagePublic]


def message_public(m: Message) -> MessagePublic:
    return MessagePublic(id=m.id, seq=m.seq, role=m.role, text=m.text, created=m.created)


def conversation_public(conv: Conversation, messages: list[Message]) -> ConversationPublic:
    return ConversationPublic(
        id=conv.id, status=conv.status, agent=conv.agent, rating=conv.rating,
        messages=[message_public(m) for m in messages if m.role != "system"],
    )


def turn_for_buyer(result: TurnResult, *, full: bool) -> dict[str, Any]:
    """What the buyer's client receives: an undelivered draft stays with the agents."""
    data = result.model_dump(mode="json")
    if not full:
        data.pop("flags", None)
        if not result.delivered:
            data["reply"] = ""
    return data
