"""After-sales workbench routes: what waits, the actions of the shop's people, their log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query
from pydantic import BaseModel

from bot.api.deps import AgentDep, ServicesDep
from bot.workbench.actions import ActionOutcome, StaffActionBody
from bot.workbench.items import OpenItem

router = APIRouter(prefix="/api/workbench", tags=["workbench"])

REFUSED = {409: {"description": "操作不符合当前状态，没有执行（原因见 detail）"}}


class WorkbenchMeta(BaseModel):
    shop: str
    timezone: str
    carriers: list[str]
    ship_within_hours: int


@router.get("/meta")
def meta(agent: AgentDep, services: ServicesDep) -> WorkbenchMeta:
    """店铺名称、时区、合作快递和发货时效（页面的下拉框和时间显示用）。"""
    info = services.shop.info
    return WorkbenchMeta(shop=info.name, timezone=info.timezone, carriers=list(info.policy.carriers),
                         ship_within_hours=info.policy.ship_within_hours)


@router.get("/items")
def items(agent: AgentDep, services: ServicesDep) -> list[OpenItem]:
    """待处理：待发货订单、进行中的仅退款/退货/换货和工单，最早的在前，附等待时长和可做的操作。"""
    return services.workbench.open_items()


@router.post("/actions", responses=REFUSED)
def perform(
    body: StaffActionBody,
    agent: AgentDep,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None, Header(max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="同一操作重发时带相同的值，只执行一次")
    ] = None,
) -> ActionOutcome:
    """执行一项售后操作（发货、同意/拒绝售后、确认收到退货、退款、换货发出、关闭工单）。

    不符合当前状态的操作不会执行，返回 409 和原因；同一个 ``Idempotency-Key`` 重发只执行一次。"""
    key = f"{agent.username}:{idempotency_key}" if idempotency_key else None
    outcome = services.workbench.perform(body, agent.username, request_key=key)
    if not outcome.done:
        raise HTTPException(409, outcome.message)
    return outcome


@router.get("/actions")
def history(
    agent: AgentDep,
    services: ServicesDep,
    tid: Annotated[str | None, Query(max_length=64, description="只看这个订单")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ActionOutcome]:
    """操作记录（谁、何时、做了什么、是否被拒），最新的在前。"""
    return services.workbench.history(tid=tid, limit=limit)
