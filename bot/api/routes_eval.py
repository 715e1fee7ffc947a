"""Test-only routes for the benchmark runner (``xiaoer serve --eval-mode``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bot.api.deps import ServicesDep
from bot.api.schemas import EvalResetIn

router = APIRouter(prefix="/api/eval", tags=["eval"])


@router.post("/reset")
def reset(body: EvalResetIn, services: ServicesDep) -> dict[str, Any]:
    """Re-seed orders, freeze the clock at ``now`` and restart ids (one benchmark case)."""
    services.reset_for_case(body.now)
    return {"ok": True, "now": services.clock.now().isoformat()}


@router.get("/orders")
def orders(services: ServicesDep) -> dict[str, Any]:
    return services.orders.export().model_dump(mode="json")


@router.get("/shop")
def shop(services: ServicesDep) -> dict[str, Any]:
    return {"name": services.shop.info.name, "root": str(services.shop.root)}
