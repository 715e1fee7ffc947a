"""FastAPI dependencies: the services container and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bot.api.auth import AGENT_COOKIE, BUYER_COOKIE, Principal, TokenSigner
from bot.services import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise HTTPException(503, "服务正在启动，请稍后再试")
    return services


def get_signer(request: Request) -> TokenSigner:
    return request.app.state.signer  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]


def _token(request: Request, cookie: str) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(cookie)


@dataclass(frozen=True)
class BuyerPrincipal:
    buyer_id: str


@dataclass(frozen=True)
class AgentPrincipal:
    username: str
    role: str


def require_buyer(request: Request, signer: SignerDep, services: ServicesDep) -> BuyerPrincipal:
    token = _token(request, BUYER_COOKIE)
    principal = signer.verify(token) if token else None
    if principal is None or principal.kind != "buyer":
        raise HTTPException(401, "请先登录买家账号", headers={"WWW-Authenticate": "Bearer"})
    if principal.subject not in services.shop.buyers:
        raise HTTPException(401, "买家账号不存在")
    return BuyerPrincipal(principal.subject)


def require_agent(request: Request, signer: SignerDep, services: ServicesDep) -> AgentPrincipal:
    token = _token(request, AGENT_COOKIE)
    principal: Principal | None = signer.verify(token) if token else None
    if principal is None or principal.kind != "agent":
        raise HTTPException(401, "请先登录客服账号", headers={"WWW-Authenticate": "Bearer"})
    account = services.accounts.get(principal.subject)
    if account is None:
        raise HTTPException(401, "客服账号不存在或已停用")
    return AgentPrincipal(account.username, account.role)


def require_admin(agent: Annotated[AgentPrincipal, Depends(require_agent)]) -> AgentPrincipal:
    if agent.role != "admin":
        raise HTTPException(403, "需要管理员权限")
    return agent


BuyerDep = Annotated[BuyerPrincipal, Depends(require_buyer)]
AgentDep = Annotated[AgentPrincipal, Depends(require_agent)]
AdminDep = Annotated[AgentPrincipal, Depends(require_admin)]
