"""Admin routes: agent accounts and re-ingesting the shop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bot.api.deps import AdminDep, ServicesDep
from bot.api.schemas import AgentCreateIn

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/agents")
def list_agents(admin: AdminDep, services: ServicesDep) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in services.accounts.list()]


@router.post("/agents", status_code=201)
def create_agent(body: AgentCreateIn, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """新建客服账号（密码以 argon2 哈希保存）。"""
    account = services.accounts.create(body.username, body.password, body.role)  # type: ignore[arg-type]
    return account.model_dump(mode="json")


@router.post("/reingest")
def reingest(admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """重新读取店铺目录并增量更新检索索引（只重建变化的文件）。"""
    from bot.retrieval import reingest as do_reingest

    return do_reingest(services)
