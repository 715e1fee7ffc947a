"""Test-only routes for the benchmark runner (``xiaoer serve --eval-mode``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.api.deps import ServicesDep
from bot.api.schemas import EvalResetIn
from bot.evaluation.target import TRANSCRIPT_STAFF
from bot.workbench.actions import ActionOutcome, StaffActionBody

router = APIRouter(prefix="/api/eval", tags=["eval"])


class EvalWaitIn(BaseModel):
    seconds: float = Field(gt=0, le=366 * 86400, description="how far the frozen clock moves on")


class OutboundOut(BaseModel):
    kind: str
    tid: str | None
    text: str
    sent_at: str | None


@router.post("/reset")
def reset(body: EvalResetIn, services: ServicesDep) -> dict[str, Any]:
    """Re-seed orders, freeze the clock at ``now`` and restart ids (one benchmark case)."""
    services.reset_for_case(body.now)
    return {"ok": True, "now": services.clock.now().isoformat()}


@router.post("/wait")
def wait(body: EvalWaitIn, services: ServicesDep) -> dict[str, Any]:
    """A transcript's ``wait:`` turn: the clock moves on, then the scheduler ticks once."""
    services.clock.advance(timedelta(seconds=body.seconds))  # type: ignore[attr-defined]
    report = services.scheduler.tick()
    return {"now": services.clock.now().isoformat(), "done": report.done, "failed": list(report.failed)}


@router.post("/staff")
def staff(body: StaffActionBody, services: ServicesDep) -> ActionOutcome:
    """A transcript's ``staff:`` turn; a refused action is an outcome too, not an error."""
    return services.workbench.perform(body, TRANSCRIPT_STAFF)


@router.get("/outbound")
def outbound(buyer_id: str, services: ServicesDep) -> list[OutboundOut]:
    """Unprompted messages delivered to the buyer since the case began, in order."""
    return [
        OutboundOut(kind=m.kind, tid=m.tid, text=m.text, sent_at=m.sent_at.isoformat() if m.sent_at else None)
        for m in services.outreach.sent_to(buyer_id)
    ]


@router.get("/orders")
def orders(services: ServicesDep) -> dict[str, Any]:
    return services.orders.export().model_dump(mode="json")


@router.get("/shop")
def shop(services: ServicesDep) -> dict[str, Any]:
    return {"name": services.shop.info.name, "root": str(services.shop.root)}
