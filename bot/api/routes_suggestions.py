"""Agent routes for drafted replies: list, read, accept, edit, reject, regenerate.

Accepting or editing posts the final text to the conversation as a bot message authored by
the agent and publishes ``suggestion.decided`` (:meth:`bot.suggestions.assist.AssistDesk.deliver`).
Rejecting leaves the buyer's question open: the console opens the reply box on it, and the
reply policy's timer still ends in an answer (a handoff note) when no one writes. Two agents deciding the same suggestion: the
first wins, the second gets 409. Regenerating asks the model again with the agent's reason. A text that fails the guards is refused with 422 and its
flags; sent again with ``override: true`` it goes out and the override is recorded.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.api.deps import AgentDep, ServicesDep
from bot.api.schemas import Body, ErrorOut
from bot.services import Services
from bot.suggestions.service import FlaggedReply, Suggestion

router = APIRouter(tags=["suggestions"])

StatusParam = Literal["pending", "accepted", "edited", "rejected", "auto_sent"]


class EditIn(Body):
    text: str = Field(min_length=1, max_length=4000, description="修改后发送给买家的回复")
    override: bool = Field(default=False, description="已看过合规标记，仍然发送（记录操作人和时间）")


class AcceptIn(Body):
    override: bool = Field(default=False, description="已看过合规标记，仍然发送（记录操作人和时间）")


class FlaggedOut(BaseModel):
    detail: str = Field(description="中文原因：未通过的合规检查")
    flags: list[str] = Field(description="合规标记代码")
    flag_details: list[str] = Field(description="每个标记的说明（code: detail）")


# 422 is also what a malformed request gets (ErrorOut, as on every route).
FLAGGED = {
    422: {
        "model": FlaggedOut | ErrorOut,
        "description": "回复未通过合规检查（带 override: true 重新提交才会发送），或请求参数有误",
    }
}


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=500, description="驳回原因")


def _found(services: Services, suggestion_id: str) -> Suggestion:
    suggestion = services.suggestions.get(suggestion_id)
    if suggestion is None:
        raise HTTPException(404, "没有找到这条建议回复")
    return suggestion


def flagged_response(exc: FlaggedReply) -> JSONResponse:
    flags = list(dict.fromkeys(f.code for f in exc.flags))
    return JSONResponse({"detail": str(exc), "flags": flags, "flag_details": [str(f) for f in exc.flags]}, status_code=422)


def _deliver(services: Services, suggestion: Suggestion) -> None:
    """Send the decided text to the buyer's conversation and tell the consoles."""
    services.bot.desk.deliver(suggestion)


@router.get("/api/agent/suggestions", response_model=list[Suggestion])
def list_suggestions(
    services: ServicesDep, agent: AgentDep, status: StatusParam | None = None, conversation_id: str | None = None
) -> list[Suggestion]:
    """建议回复列表（可按状态、会话筛选）。"""
    return services.suggestions.list(status=status, conversation_id=conversation_id)


@router.get("/api/agent/suggestions/{suggestion_id}", response_model=Suggestion)
def get_suggestion(suggestion_id: str, services: ServicesDep, agent: AgentDep) -> Suggestion:
    """一条建议回复：草稿、依据的事实、引用和合规标记。"""
    return _found(services, suggestion_id)


@router.post("/api/agent/suggestions/{suggestion_id}/accept", response_model=Suggestion, responses=FLAGGED)  # type: ignore[arg-type]
def accept_suggestion(
    suggestion_id: str, services: ServicesDep, agent: AgentDep, body: AcceptIn | None = None
) -> Suggestion | JSONResponse:
    """原样发送草稿。草稿未通过合规检查时返回 422 和合规标记（带 override 重新提交才发送）；
    已被处理过则返回 409。"""
    _found(services, suggestion_id)
    try:
        decided = services.suggestions.accept(suggestion_id, agent.username, override=bool(body and body.override))
    except FlaggedReply as exc:
        return flagged_response(exc)
    _deliver(services, decided)
    return decided


@router.post("/api/agent/suggestions/{suggestion_id}/edit", response_model=Suggestion, responses=FLAGGED)  # type: ignore[arg-type]
def edit_suggestion(suggestion_id: str, body: EditIn, services: ServicesDep, agent: AgentDep) -> Suggestion | JSONResponse:
    """修改后发送，记录编辑距离。修改后的回复未通过合规检查时返回 422 和合规标记（带 override
    重新提交才发送，并记录操作人和时间）；已被处理过则返回 409。"""
    _found(services, suggestion_id)
    try:
        decided = services.suggestions.edit(suggestion_id, agent.username, body.text, override=body.override)
    except FlaggedReply as exc:
        return flagged_response(exc)
    _deliver(services, decided)
    return decided


@router.post("/api/agent/suggestions/{suggestion_id}/reject", response_model=Suggestion)
def reject_suggestion(suggestion_id: str, body: RejectIn, services: ServicesDep, agent: AgentDep) -> Suggestion:
    """驳回草稿并填写原因（不会发送给买家）。已被处理过则返回 409。"""
    _found(services, suggestion_id)
    decided = services.suggestions.reject(suggestion_id, agent.username, body.reason)
    services.events.publish("suggestion.decided", decided.model_dump(mode="json"))
    return decided


@router.post("/api/agent/suggestions/{suggestion_id}/regenerate", response_model=Suggestion, status_code=201)
def regenerate_suggestion(suggestion_id: str, body: RejectIn, services: ServicesDep, agent: AgentDep) -> Suggestion:
    """按驳回原因重新生成草稿：待处理的草稿先以该原因驳回，模型带着上一版和原因重写买家的问题，
    新草稿等待客服处理（接替原草稿的回复计时）。草稿已发出，或未配置大模型（离线模板无法改写）时返回 409。"""
    _found(services, suggestion_id)
    return services.bot.redraft(suggestion_id, agent.username, body.reason)
