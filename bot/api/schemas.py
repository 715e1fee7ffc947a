"""Request bodies and the public (buyer-facing) views of internal records."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bot.conversations.store import Conversation, Message
from bot.turns import TurnResult

if TYPE_CHECKING:
    from bot.orders.backend import Ticket
    from bot.shop.models import Buyer, Order, Shop


UNSTORABLE = {
    "text_unstorable": "含有无法保存的字符（孤立的 UTF-16 代理项或 NUL）",
    "number_not_finite": "数字超出范围或不是有效数字",
}


# What the OpenAPI says of every text field of a body: no NUL. Lone surrogates are refused
# too, but a JSON Schema regex cannot name them (validators reading patterns as Unicode reject
# a surrogate range), and a client encoding its JSON as UTF-8 cannot produce them anyway.
STORABLE_TEXT = "^[^\\u0000]*$"


def _document_storable(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        for branch in [prop, *prop.get("anyOf", [])]:
            if branch.get("type") == "string" and "pattern" not in branch and "format" not in branch:
                branch["pattern"] = STORABLE_TEXT


def unstorable(value: Any) -> str | None:
    """Why ``value`` (decoded JSON) cannot be stored, as a key of ``UNSTORABLE``, or None.

    JSON allows ``"\\ud800"`` (a lone surrogate, which no database can encode), ``"\\u0000"``
    (refused by PostgreSQL text) and, as Python reads it, ``1e999``, ``Infinity`` and ``NaN``.
    Nested values are walked without recursion, however deep the JSON.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _encodes(item)):
                return "text_unstorable"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "number_not_finite"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Body(BaseModel):
    """The base of every request body: unknown fields, text that cannot be stored and numbers
    that are not numbers are refused at validation, before anything reaches the services."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_storable)

    @field_validator("*", mode="before")
    @classmethod
    def _as_documented(cls, value: Any, info: ValidationInfo) -> Any:
        problem = unstorable(value)
        if problem is not None:
            raise PydanticCustomError(problem, UNSTORABLE[problem])
        # The JSON types the OpenAPI names, where pydantic would also take "5" or true for an
        # integer, "yes" or 1 for a boolean and a number of seconds for a date-time.
        kind = cls.model_fields[info.field_name].annotation if info.field_name else None
        if kind is int and isinstance(value, (str, bool)):
            raise PydanticCustomError("int_type", "应为整数")
        if kind is bool and not isinstance(value, bool):
            raise PydanticCustomError("bool_type", "应为 true 或 false")
        if kind is datetime and not isinstance(value, str):
            raise PydanticCustomError("datetime_type", "应为 ISO 8601 日期时间")
        return value


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


class AgentTextIn(TextIn):
    override: bool = Field(default=False, description="已看过合规标记，仍然发送（记录操作人）")


class AgentCreateIn(Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: str = Field(default="agent", pattern="^(agent|admin)$")


class EvalResetIn(Body):
    now: datetime = Field(description="冻结时钟的时刻（ISO 8601，带时区）")


class ProblemOut(BaseModel):
    loc: list[str | int] = Field(description="出错的位置，如 [\"body\", \"text\"]")
    field: str = Field(description="出错的字段")
    msg: str = Field(description="中文原因")
    type: str = Field(description="错误类型代码")


class ErrorOut(BaseModel):
    """Every error body: the pages show ``detail`` to the person."""

    detail: str | list[str] = Field(description="中文原因")
    errors: list[ProblemOut] | None = Field(default=None, description="请求参数有误时逐项列出")


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
    agent: str | None = Field(default=None, description="接待中的客服（店铺的客服昵称）")
    rating: int | None
    waiting_for_draft: bool = Field(default=False, description="等待中的是客服对回复的确认，而非转人工")
    messages: list[MessagePublic]


class OrderBrief(BaseModel):
    tid: str
    status: str
    status_text: str
    items: str
    total_paid: str
    created: datetime


class RefundBrief(BaseModel):
    tid: str
    type_text: str
    status: str
    status_text: str
    amount: str
    created: datetime | None = None


class TicketBrief(BaseModel):
    tid: str | None
    kind: str
    note: str
    status: str
    created: datetime


class ConversationBrief(BaseModel):
    id: str
    status: str
    created: datetime
    updated: datetime
    summary: str | None = None
    rating: int | None = None


class BuyerProfile(BaseModel):
    """The console's side panel (like 千牛's): who the buyer is and what they have with the shop."""

    buyer_id: str
    nick: str
    vip_level: int
    orders: list[OrderBrief]
    refunds: list[RefundBrief]
    tickets: list[TicketBrief]
    conversations: list[ConversationBrief]


def buyer_profile(
    shop: Shop, buyer: Buyer, orders: list[Order], tickets: list[Ticket], conversations: list[Conversation],
    *, current: str | None = None,
) -> BuyerProfile:
    """The side panel of ``buyer``: orders newest first, their after-sales, tickets, and the
    buyer's other conversations (not ``current``); times in the shop's timezone."""
    from bot.flows import views
    from bot.money import fmt

    tz = shop.tz
    return BuyerProfile(
        buyer_id=buyer.id, nick=buyer.nick, vip_level=buyer.vip_level,
        orders=[
            OrderBrief(
                tid=o.tid, status=o.status, status_text=views.STATUS_TEXT.get(o.status, o.status),
                items=views.items_text(shop, o), total_paid=fmt(o.total_paid), created=o.created.astimezone(tz),
            )
            for o in orders
        ],
        refunds=[
            RefundBrief(
                tid=o.tid, type_text=views.REFUND_TYPE_TEXT[r.type], status=r.status,
                status_text=views.REFUND_STATUS_TEXT[r.status], amount=fmt(r.amount),
                created=r.created.astimezone(tz) if r.created else None,
            )
            for o in orders for r in o.refunds
        ],
        tickets=[
            TicketBrief(tid=t.tid, kind=t.kind, note=t.note, status=t.status, created=t.created.astimezone(tz))
            for t in tickets
        ],
        conversations=[
            ConversationBrief(
                id=c.id, status=c.status, created=c.created.astimezone(tz), updated=c.updated.astimezone(tz),
                summary=c.summary, rating=c.rating,
            )
            for c in conversations if c.id != current
        ][:10],
    )


def message_public(m: Message) -> MessagePublic:
    return MessagePublic(id=m.id, seq=m.seq, role=m.role, text=m.text, created=m.created)


def conversation_public(conv: Conversation, messages: list[Message], *, agent_name: str) -> ConversationPublic:
    """The buyer's view: the agent is named by the shop's persona (``agent_name``), never by
    an account name."""
    return ConversationPublic(
        id=conv.id, status=conv.status, agent=agent_name if conv.agent else None, rating=conv.rating,
        waiting_for_draft=conv.status == "waiting" and bool(conv.state.get("engine", {}).get("parked")),
        messages=[message_public(m) for m in messages if m.role != "system"],
    )


def turn_for_buyer(result: TurnResult, *, full: bool) -> dict[str, Any]:
    """What the buyer's client receives: an undelivered draft stays with the agents."""
    data = result.model_dump(mode="json")
    if not full:
        data.pop("flags", None)
        data.pop("also_draft", None)
        if not result.delivered:
            data["reply"] = ""
    return data
