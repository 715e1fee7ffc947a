"""Admin routes: agent accounts (create, disable, enable) and re-ingesting the shop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from bot import collector
from bot.api.deps import AdminDep, ServicesDep
from bot.api.schemas import AgentCreateIn
from bot.errors import ShopInvalid
from bot.services import reload_shop

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/agents")
def list_agents(admin: AdminDep, services: ServicesDep) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in services.accounts.list()]


@router.post("/agents", status_code=201)
def create_agent(body: AgentCreateIn, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """新建客服账号（密码以 argon2 哈希保存）。"""
    account = services.accounts.create(body.username, body.password, body.role)  # type: ignore[arg-type]
    return account.model_dump(mode="json")


@router.post("/agents/{username}/disable")
def disable_agent(username: str, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """停用客服账号：不能再登录，已签发的令牌立即失效。"""
    if username == admin.username:
        raise HTTPException(409, "不能停用自己的账号")
    return services.accounts.disable(username).model_dump(mode="json")


@router.post("/agents/{username}/enable")
def enable_agent(username: str, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """重新启用客服账号（停用前签发的令牌仍然无效，需要重新登录）。"""
    return services.accounts.enable(username).model_dump(mode="json")


@router.post("/reingest")
def reingest(request: Request, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """重新读取店铺目录并增量更新检索索引（只重新嵌入变化的段落）。店铺数据有误时返回 422 并列出问题，服务保持原样。"""
    try:
        fresh, summary = reload_shop(services)
    except ShopInvalid as exc:
        raise HTTPException(422, [str(p) for p in exc.problems]) from None
    request.app.state.services = fresh
    collector.release()  # the replaced services are collected like any garbage
    return summary
