"""Agent console routes: the conversation queue, one conversation with the buyer's side panel,
take over, hand back (the bot answers what is open), reply (guarded, an override recorded)."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from bot.api.deps import AgentDep, ServicesDep
from bot.api.routes_suggestions import FLAGGED, flagged_response
from bot.api.schemas import AgentTextIn, TextIn, buyer_profile
from bot.api.sse import event_stream
from bot.conversations.paging import BadCursor, Cursor
from bot.conversations.store import Conversation, Message
from bot.services import Services
from bot.suggestions.guard import check_agent_text
from bot.suggestions.service import FlaggedReply

OVERRIDE_NOTE = "{agent} 已看过合规标记，仍然发送：{flags}"

QUEUE_PAGE = 200  # conversations per page of the queue unless the client asks otherwise
QUEUE_MAX_PAGE = 1000

router = APIRouter(prefix="/api/agent", tags=["agent"])
log = logging.getLogger(__name__)


def _conversation(services: Services, conversation_id: str) -> Conversation:
    conv = services.conversations.get(conversation_id)
    if conv is None:
        raise HTTPException(404, "没有找到这个会话")
    return conv


def _row(services: Services, conv: Conversation, pending: dict[str, int], last: dict[str, Message]) -> dict[str, Any]:
    buyer = services.shop.buyers.get(conv.buyer_id)
    newest = last.get(conv.id)
    return {
        "id": conv.id,
        "buyer_id": conv.buyer_id,
        "buyer_nick": buyer.nick if buyer else conv.buyer_id,
        "vip_level": buyer.vip_level if buyer else 0,
        "status": conv.status,
        "agent": conv.agent,
        "waiting_since": conv.waiting_since,
        "updated": conv.updated,
        "last_message": newest.text if newest else "",
        "summary": conv.summary,
        "pending_suggestions": pending.get(conv.id, 0),
        # 待接入 because a draft waits for an agent (the reply policy's timer runs), not a handoff.
        "waiting_for_draft": conv.status == "waiting" and bool(conv.state.get("engine", {}).get("parked")),
    }


@router.get("/conversations")
def list_conversations(
    agent: AgentDep,
    services: ServicesDep,
    response: Response,
    status: Literal["bot", "waiting", "agent", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=QUEUE_MAX_PAGE, description="每页条数")] = QUEUE_PAGE,
    cursor: Annotated[str | None, Query(max_length=512, description="上一页响应头 X-Next-Cursor 的值")] = None,
) -> list[dict[str, Any]]:
    """会话队列：等待人工的排在最前。按页返回；还有下一页时响应头 ``X-Next-Cursor`` 给出它的 cursor。"""
    try:
        after = Cursor.decode(cursor) if cursor else None
    except BadCursor:
        # The page such a cursor names does not exist (a cursor is only ever read back as given).
        raise HTTPException(404, "找不到这一页（cursor 无效），请从第一页重新获取") from None
    page = services.conversations.page(status, limit=limit, cursor=after)
    pending = services.suggestions.pending_counts([c.id for c in page.items])
    last = services.conversations.last_messages([c.id for c in page.items])
    if page.next is not None:
        response.headers["X-Next-Cursor"] = page.next.encode()
    return [_row(services, c, pending, last) for c in page.items]


@router.get("/conversations/{conversation_id}")
def conversation_detail(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """整段会话：消息、每轮的意图/动作/来源、草稿建议。"""
    conv = _conversation(services, conversation_id)
    buyer = services.shop.buyers.get(conv.buyer_id)
    profile = None
    if buyer is not None:
        orders = services.orders.orders_of(buyer.id)
        own = {o.tid for o in orders}
        tickets = [t for t in services.orders.tickets() if t.buyer == buyer.id or t.tid in own]
        earlier = [c for c in services.conversations.list(limit=500) if c.buyer_id == buyer.id]
        profile = buyer_profile(services.shop, buyer, orders, tickets, earlier, current=conv.id)
    return {
        "conversation": conv.model_dump(mode="json"),
        "buyer": buyer.model_dump(mode="json", exclude={"phone"}) if buyer else None,
        "profile": profile.model_dump(mode="json") if profile else None,
        "shop": {"timezone": services.shop.info.timezone, "persona": services.shop.info.persona.name},
        "now": services.clock.now().isoformat(),  # the shop's clock (demo mode runs it from demo_now)
        "can_redraft": services.bot.can_redraft,  # a model is configured: a rejected draft may be redrafted
        "messages": [m.model_dump(mode="json") for m in services.conversations.messages(conversation_id)],
        "turns": [t.model_dump(mode="json") for t in services.conversations.turns(conversation_id)],
        "suggestions": [
            s.model_dump(mode="json") for s in services.suggestions.list(conversation_id=conversation_id)
        ],
    }


def _announce(services: Services, conv: Conversation) -> dict[str, Any]:
    # Buyers hear status events too: the agent goes by the shop's persona, never the account name.
    agent_name = services.shop.info.persona.name if conv.agent else None
    services.events.publish("status", {"conversation_id": conv.id, "status": conv.status, "agent": agent_name})
    return conv.model_dump(mode="json")


@router.post("/conversations/{conversation_id}/takeover")
def takeover(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """人工接管：机器人不再自动回复。已被其他客服接待时返回 409。"""
    conv = services.conversations.claim(conversation_id, agent.username, services.clock.now())
    return _announce(services, conv)


@router.post("/conversations/{conversation_id}/release")
def release(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """交还机器人：机器人接着回答买家还没得到回复的问题（待审的合规草稿直接发送，否则重新回答或转人工提示）。"""
    _conversation(services, conversation_id)
    conv = services.conversations.set_status(conversation_id, "bot", services.clock.now())
    out = _announce(services, conv)
    services.bot.answer_open(conversation_id)
    return out


@router.post("/conversations/{conversation_id}/check")
def check_message(conversation_id: str, body: TextIn, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """发送前检查客服要发的文字：返回合规标记（与发送时的检查相同）。"""
    conv = _conversation(services, conversation_id)
    flags = check_agent_text(services.shop, body.text, conv.buyer_id)
    return {"flags": list(dict.fromkeys(f.code for f in flags)), "flag_details": [str(f) for f in flags]}


@router.post("/conversations/{conversation_id}/messages", responses=FLAGGED)
def agent_message(conversation_id: str, body: AgentTextIn, agent: AgentDep, services: ServicesDep) -> Any:
    """客服直接发送一条消息给买家（会话未由本人接待时先接管）。未通过合规检查时返回 422 和标记，
    带 override 重新提交才发送，并在会话中记录谁在何时确认发送了哪些标记。"""
    conv = _conversation(services, conversation_id)
    flags = check_agent_text(services.shop, body.text, conv.buyer_id)
    if flags and not body.override:
        return flagged_response(FlaggedReply(flags))
    if conv.status != "agent" or conv.agent != agent.username:
        # Writing to the buyer (the reply box a rejected draft opens) takes the conversation.
        _announce(services, services.conversations.claim(conversation_id, agent.username, services.clock.now()))
    desk = services.bot.desk
    if flags:
        details = [str(f) for f in flags]
        log.warning("agent %s sent a flagged message in %s: %s", agent.username, conversation_id, "; ".join(details))
        desk.post(conversation_id, OVERRIDE_NOTE.format(agent=agent.username, flags="；".join(details)), role="system")
        services.events.publish("override", {"conversation_id": conversation_id, "agent": agent.username, "flags": details})
    message = desk.post(conversation_id, body.text, role="agent", author=agent.username)
    services.suggestions.settle(conversation_id)  # answered in person: no late draft for what was open
    return message.model_dump(mode="json")


@router.get("/events")
def agent_events(request: Request, agent: AgentDep, services: ServicesDep) -> Any:
    """所有会话的实时事件（SSE）。"""
    return event_stream(request, services.events, lambda _event: True)
