"""FastAPI dependencies: the services container, the authenticated caller, rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bot.api.auth import AGENT_COOKIE, BUYER_COOKIE, TokenSigner, VerifiedToken
from bot.api.ratelimit import RateLimiter, Rule, Verdict
from bot.services import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise HTTPException(503, "服务正在启动，请稍后再试")
    return services


def get_signer(request: Request) -> TokenSigner:
    return request.app.state.signer  # type: ignore[no-any-return]


def get_rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def demo_mode(services: Services) -> bool:
    """Demo accounts and throwaway keys are allowed (``XIAOER_DEMO``, or a benchmark server)."""
    return bool(services.settings.demo or services.eval_mode)


def require_demo_login(services: ServicesDep) -> None:
    """Demo buyer login exists only in demo mode, and there only with ``XIAOER_DEMO_LOGIN``."""
    if not (demo_mode(services) and services.settings.demo_login):
        raise HTTPException(403, "演示登录未开启")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_REFUSALS: dict[Rule, str] = {
    "login_user": "该账号登录失败次数过多，请 {s} 秒后再试",
    "login_ip": "登录尝试过于频繁，请 {s} 秒后再试",
    "demo_login": "登录尝试过于频繁，请 {s} 秒后再试",
    "chat": "消息发送过于频繁，请 {s} 秒后再试",
}


def enforce(verdict: Verdict, rule: Rule) -> None:
    """429 with a reason and ``Retry-After`` when the limiter said no."""
    if not verdict.allowed:
        raise HTTPException(
            429,
            _REFUSALS[rule].format(s=verdict.retry_after_s),
            headers={"Retry-After": str(verdict.retry_after_s)},
        )


def presented_tokens(request: Request, cookie: str | None = None) -> list[str]:
    """The bearer token, then the named cookie (or both cookies when none is named)."""
    found: list[str] = []
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        found.append(header[7:].strip())
    for name in (cookie,) if cookie else (BUYER_COOKIE, AGENT_COOKIE):
        value = request.cookies.get(name)
        if value and value not in found:
            found.append(value)
    return found


def live_token(token: str, signer: TokenSigner, services: Services) -> VerifiedToken | None:
    """The token when its signature is good, it has not expired and it was not revoked."""
    verified = signer.verify(token)
    if verified is None or services.accounts.revoked.is_revoked(verified.token_id):
        return None
    return verified


def _caller(request: Request, cookie: str, signer: TokenSigner, services: Services) -> VerifiedToken | None:
    # The bearer header, when sent, names the caller; the cookie is for the pages.
    tokens = presented_tokens(request, cookie)
    return live_token(tokens[0], signer, services) if tokens else None


@dataclass(frozen=True)
class BuyerPrincipal:
    buyer_id: str


@dataclass(frozen=True)
class AgentPrincipal:
    username: str
    role: str


def require_buyer(request: Request, signer: SignerDep, services: ServicesDep) -> BuyerPrincipal:
    token = _caller(request, BUYER_COOKIE, signer, services)
    if token is None or token.principal.kind != "buyer":
        raise HTTPException(401, "请先登录买家账号", headers={"WWW-Authenticate": "Bearer"})
    if token.principal.subject not in services.shop.buyers:
        raise HTTPException(401, "买家账号不存在")
    return BuyerPrincipal(token.principal.subject)


def require_agent(request: Request, signer: SignerDep, services: ServicesDep) -> AgentPrincipal:
    token = _caller(request, AGENT_COOKIE, signer, services)
    if token is None or token.principal.kind != "agent":
        raise HTTPException(401, "请先登录客服账号", headers={"WWW-Authenticate": "Bearer"})
    account = services.accounts.get(token.principal.subject)
    if account is None or account.disabled:
        raise HTTPException(401, "客服账号不存在或已停用")
    if account.token_version != token.principal.version:
        raise HTTPException(401, "登录已失效，请重新登录", headers={"WWW-Authenticate": "Bearer"})
    return AgentPrincipal(account.username, account.role)


def require_admin(agent: Annotated[AgentPrincipal, Depends(require_agent)]) -> AgentPrincipal:
    if agent.role != "admin":
        raise HTTPException(403, "需要管理员权限")
    return agent


def limit_chat(buyer: Annotated[BuyerPrincipal, Depends(require_buyer)], limiter: RateLimiterDep) -> None:
    """Chat messages per buyer."""
    enforce(limiter.hit("chat", buyer.buyer_id), "chat")


BuyerDep = Annotated[BuyerPrincipal, Depends(require_buyer)]
AgentDep = Annotated[AgentPrincipal, Depends(require_agent)]
AdminDep = Annotated[AgentPrincipal, Depends(require_admin)]
