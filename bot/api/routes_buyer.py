"""Buyer routes: demo login, chat, own conversations and orders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from bot.api.auth import AGENT_COOKIE, BUYER_COOKIE, Principal
from bot.api.deps import (
    BuyerDep,
    RateLimiterDep,
    ServicesDep,
    SignerDep,
    client_ip,
    enforce,
    limit_chat,
    presented_tokens,
    require_demo_login,
)
from bot.api.schemas import (
    AgentLoginIn,
    BuyerPublic,
    ChatIn,
    ConversationPublic,
    DemoLoginIn,
    RatingIn,
    conversation_public,
    turn_for_buyer,
)
from bot.api.sse import event_stream
from bot.services import Services

router = APIRouter()
# What a buyer's page hears of its own conversation; drafts for agents (draft.delta,
# suggestion.*) never reach it.
BUYER_EVENTS = frozenset({"message", "status", "reply.delta", "reply.retract"})


def _buyer_public(services: Services, buyer_id: str) -> BuyerPublic:
    b = services.shop.buyers[buyer_id]
    return BuyerPublic(id=b.id, nick=b.nick, vip_level=b.vip_level)


def _own_conversation(services: Services, conversation_id: str, buyer_id: str) -> Any:
    conv = services.conversations.get(conversation_id)
    if conv is None or conv.buyer_id != buyer_id:
        raise HTTPException(404, "没有找到这个会话")
    return conv


@router.get(
    "/api/auth/demo-buyers",
    response_model=list[BuyerPublic],
    tags=["auth"],
    dependencies=[Depends(require_demo_login)],
)
def demo_buyers(services: ServicesDep) -> list[BuyerPublic]:
    """演示登录：列出店铺的买家（仅在演示模式 XIAOER_DEMO 且 XIAOER_DEMO_LOGIN 开启时）。"""
    return [_buyer_public(services, b) for b in services.shop.buyers]


@router.post("/api/auth/demo-login", tags=["auth"], dependencies=[Depends(require_demo_login)])
def demo_login(
    body: DemoLoginIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    signer: SignerDep,
    limiter: RateLimiterDep,
) -> dict[str, Any]:
    """以演示买家身份登录，返回签名令牌（同时写入 cookie）。仅在演示模式开启；按客户端 IP 限流。"""
    enforce(limiter.hit("demo_login", client_ip(request)), "demo_login")
    if body.buyer_id not in services.shop.buyers:
        raise HTTPException(404, "没有这位买家")
    token = signer.issue(Principal("buyer", body.buyer_id, "buyer"))
    response.set_cookie(BUYER_COOKIE, token, httponly=True, samesite="strict")
    return {"token": token, "buyer": _buyer_public(services, body.buyer_id)}


@router.post("/api/auth/agent-login", tags=["auth"])
def agent_login(
    body: AgentLoginIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    signer: SignerDep,
    limiter: RateLimiterDep,
) -> dict[str, Any]:
    """客服/管理员登录。按客户端 IP 限制尝试次数，按用户名限制失败次数（超过返回 429）。"""
    enforce(limiter.hit("login_ip", client_ip(request)), "login_ip")
    who = body.username.strip().casefold()
    enforce(limiter.check("login_user", who), "login_user")
    account = services.accounts.verify(body.username, body.password)
    if account is None:
        limiter.hit("login_user", who)
        raise HTTPException(401, "用户名或密码错误")
    limiter.clear("login_user", who)
    token = signer.issue(Principal("agent", account.username, account.role, account.token_version))
    response.set_cookie(AGENT_COOKIE, token, httponly=True, samesite="strict")
    return {"token": token, "username": account.username, "role": account.role}


@router.post("/api/auth/logout", tags=["auth"])
def logout(request: Request, response: Response, services: ServicesDep, signer: SignerDep) -> dict[str, bool]:
    """退出登录：本次请求带来的令牌（Authorization 头与 cookie 中的）立即作废。"""
    for token in presented_tokens(request):
        verified = signer.verify(token)
        if verified is not None:
            services.accounts.revoked.revoke(verified.token_id, verified.expires)
    response.delete_cookie(BUYER_COOKIE)
    response.delete_cookie(AGENT_COOKIE)
    return {"ok": True}


@router.get("/api/me", response_model=BuyerPublic, tags=["buyer"])
def me(buyer: BuyerDep, services: ServicesDep) -> BuyerPublic:
    return _buyer_public(services, buyer.buyer_id)


@router.post("/api/conversations", tags=["buyer"])
def new_conversation(buyer: BuyerDep, services: ServicesDep) -> dict[str, str]:
    """开始一个新会话。"""
    return {"conversation_id": services.bot.start_conversation(buyer.buyer_id)}


@router.get("/api/conversations/{conversation_id}", response_model=ConversationPublic, tags=["buyer"])
def get_conversation(conversation_id: str, buyer: BuyerDep, services: ServicesDep) -> ConversationPublic:
    conv = _own_conversation(services, conversation_id, buyer.buyer_id)
    return conversation_public(
        conv, services.conversations.messages(conversation_id), agent_name=services.shop.info.persona.name
    )


@router.post("/api/chat", tags=["buyer"], dependencies=[Depends(limit_chat)])
async def chat(body: ChatIn, buyer: BuyerDep, services: ServicesDep) -> dict[str, Any]:
    """发送一条买家消息，返回本轮结果（回复、规范意图、动作、是否转人工、引用来源）。

    消息先落库再回复。等待客服审核的草稿不会返回给买家（``delivered=false``）。
    模型繁忙或超时时由模板起草，订单、物流等流程回复不受模型快慢影响。
    """
    cid = body.conversation_id or await services.bot.aconversation_for(buyer.buyer_id)
    # ahandle refuses (404) a conversation that is not this buyer's before storing anything.
    result = await services.bot.ahandle(cid, buyer.buyer_id, body.text)
    return turn_for_buyer(result, full=services.eval_mode)


@router.post("/api/conversations/{conversation_id}/rating", tags=["buyer"])
def rate(conversation_id: str, body: RatingIn, buyer: BuyerDep, services: ServicesDep) -> dict[str, bool]:
    """会话结束时的满意度评价（1–5）；评价后会话结束。"""
    _own_conversation(services, conversation_id, buyer.buyer_id)
    now = services.clock.now()
    services.conversations.rate(conversation_id, body.score, now)
    conv = services.conversations.set_status(conversation_id, "closed", now)
    services.events.publish(
        "status", {"conversation_id": conversation_id, "status": conv.status, "rating": body.score}
    )
    return {"ok": True}


@router.get("/api/conversations/{conversation_id}/events", tags=["buyer"])
def buyer_events(
    conversation_id: str, request: Request, buyer: BuyerDep, services: ServicesDep
) -> Any:
    """本会话的实时事件（SSE）：新消息、状态变化，以及自动发送的回复正在生成的文字
    （``reply.delta``；未通过合规检查时 ``reply.retract`` 撤回）。"""
    _own_conversation(services, conversation_id, buyer.buyer_id)

    def accept(event: dict[str, Any]) -> bool:
        data = event["data"]
        if event["kind"] not in BUYER_EVENTS or data.get("conversation_id") != conversation_id:
            return False
        # Notes for agents (an override, a handoff reason) are system messages: never the buyer's.
        return not (event["kind"] == "message" and (data.get("message") or {}).get("role") == "system")

    return event_stream(request, services.events, accept)


@router.get("/api/orders", tags=["buyer"])
def my_orders(buyer: BuyerDep, services: ServicesDep) -> list[dict[str, Any]]:
    """我的订单（只含本人订单）。"""
    return [o.model_dump(mode="json") for o in services.orders.orders_of(buyer.buyer_id)]
