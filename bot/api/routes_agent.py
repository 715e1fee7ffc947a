"""Agent console routes: the conversation queue, one conversation, take over, reply."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request

from bot.api.deps import AgentDep, ServicesDep
from bot.api.routes_suggestions import FLAGGED, flagged_response
from bot.api.schemas import AgentTextIn
from bot.api.sse import event_stream
from bot.conversations.store import Conversation
from bot.services import Services
from bot.suggestions.guard import check_agent_text
from bot.suggestions.service import FlaggedReply

router = APIRouter(prefix="/api/agent", tags=["agent"])
log = logging.getLogger(__name__)


def _conversation(services: Services, conversation_id: str) -> Conversation:
    conv = services.conversations.get(conversation_id)
    if conv is None:
        raise HTTPException(404, "没有找到这个会话")
    return conv


def _row(services: Services, conv: Conversation, pending: dict[str, int]) -> dict[str, Any]:
    buyer = services.shop.buyers.get(conv.buyer_id)
    messages = services.conversations.messages(conv.id)
    return {
        "id": conv.id,
        "buyer_id": conv.buyer_id,
        "buyer_nick": buyer.nick if buyer else conv.buyer_id,
        "vip_level": buyer.vip_level if buyer else 0,
        "status": conv.status,
        "agent": conv.agent,
        "waiting_since": conv.waiting_since,
        "updated": conv.updated,
        "last_message": messages[-1].text if messages else "",
        "summary": conv.summary,
        "pending_suggestions": pending.get(conv.id, 0),
    }


@router.get("/conversations")
def list_conversations(
    agent: AgentDep, services: ServicesDep, status: Literal["bot", "waiting", "agent", "closed"] | None = None
) -> list[dict[str, Any]]:
    """会话队列：等待人工的排在最前。"""
    pending: dict[str, int] = {}
    for s in services.suggestions.list(status="pending"):
        pending[s.conversation_id] = pending.get(s.conversation_id, 0) + 1
    return [_row(services, c, pending) for c in services.conversations.list(status)]  # type: ignore[arg-type]


@router.get("/conversations/{conversation_id}")
def conversation_detail(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """整段会话：消息、每轮的意图/动作/来源、草稿建议。"""
    conv = _conversation(services, conversation_id)
    buyer = services.shop.buyers.get(conv.buyer_id)
    return {
        "conversation": conv.model_dump(mode="json"),
        "buyer": buyer.model_dump(mode="json", exclude={"phone"}) if buyer else None,
        "messages": [m.model_dump(mode="json") for m in services.conversations.messages(conversation_id)],
        "turns": [t.model_dump(mode="json") for t in services.conversations.turns(conversation_id)],
        "suggestions": [
            s.model_dump(mode="json") for s in services.suggestions.list(conversation_id=conversation_id)
        ],
    }


def _announce(services: Services, conv: Conversation) -> dict[str, Any]:
    services.events.publish(
        "status", {"conversation_id": conv.id, "status": conv.status, "agent": conv.agent}
    )
    return conv.model_dump(mode="json")


@router.post("/conversations/{conversation_id}/takeover")
def takeover(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """人工接管：机器人不再自动回复。已被其他客服接待时返回 409。"""
    conv = services.conversations.claim(conversation_id, agent.username, services.clock.now())
    return _announce(services, conv)


@router.post("/conversations/{conversation_id}/release")
def release(conversation_id: str, agent: AgentDep, services: ServicesDep) -> dict[str, Any]:
    """交还机器人。"""
    _conversation(services, conversation_id)
    conv = services.conversations.set_status(conversation_id, "bot", services.clock.now())
    return _announce(services, conv)


@router.post("/conversations/{conversation_id}/messages", responses=FLAGGED)
def agent_message(conversation_id: str, body: AgentTextIn, agent: AgentDep, services: ServicesDep) -> Any:
    """客服直接发送一条消息给买家。未通过合规检查时返回 422 和标记，带 override 重新提交才发送。"""
    conv = _conversation(services, conversation_id)
    flags = check_agent_text(services.shop, body.text, conv.buyer_id)
    if flags and not body.override:
        return flagged_response(FlaggedReply(flags))
    if flags:
        log.warning(
            "agent %s sent a flagged message in %s: %s", agent.username, conversation_id, "; ".join(map(str, flags))
        )
        services.events.publish(
            "override", {"conversation_id": conversation_id, "agent": agent.username, "flags": [str(f) for f in flags]}
        )
    message = services.conversations.add_message(
        conversation_id, "agent", body.text, services.clock.now(), services.ids.new_id("m"),
        author=agent.username,
    )
    services.events.publish(
        "message", {"conversation_id": conversation_id, "message": message.model_dump(mode="json")}
    )
    return message.model_dump(mode="json")


@router.get("/events")
def agent_events(request: Request, agent: AgentDep, services: ServicesDep) -> Any:
    """所有会话的实时事件（SSE）。"""
    return event_stream(request, services.events, lambda _event: True)
