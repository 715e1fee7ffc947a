"""Errors become 4xx JSON with a Chinese reason; nothing leaks a stack trace.

Every error body is ``{"detail": "<中文原因>"}``, the envelope the pages read; a request that
fails validation also lists its problems under ``errors``. The rejected input is never echoed.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api import validation
from bot.api.headers import SECURITY_HEADERS
from bot.api.schemas import ErrorOut
from bot.errors import Conflict, Forbidden, NotFound, TellCustomer

log = logging.getLogger(__name__)

# Reasons for the errors FastAPI and Starlette raise themselves (in English).
STATUS_REASONS: dict[int, str] = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "没有这个地址",
    406: "无法提供所要求的格式",
    409: "请求与当前状态冲突",
    413: "请求体过大",
    415: "请求体须为 JSON，请设置 Content-Type: application/json",
    422: "请求参数有误",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
    503: "服务暂不可用，请稍后再试",
}
ENGLISH_REASONS: dict[str, str] = {
    "There was an error parsing the body": "请求体无法解析，须为 UTF-8 编码的 JSON",
}
# Declared once for every operation of the app (what any route may answer besides success).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "请求无法处理，如请求体不是 UTF-8 编码",
        401: "未登录，或令牌无效、已过期",
        403: "没有权限，或演示登录未开启",
        404: "没有找到（会话、买家、建议回复或地址）",
        409: "与当前状态冲突，如已被其他客服接管、建议已被处理",
        413: "请求体过大",
        415: "请求体不是以 JSON 发送",
        422: "请求参数有误或请求体不是有效的 JSON，errors 逐项列出",
        429: "请求过于频繁，请稍后再试",
    }.items()
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NOT_JSON_BODY = {"model_attributes_type", "model_type", "dict_type"}


class ErrorResponse(JSONResponse):
    """A JSON error that always renders: text JSON cannot carry (a lone surrogate that came
    in through a field name) is escaped instead of failing the response."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (UnicodeEncodeError, ValueError):
            return json.dumps(content, ensure_ascii=True, separators=(",", ":"), default=str).encode()


def error(status: int, detail: Any, headers: dict[str, str] | None = None, **extra: Any) -> ErrorResponse:
    return ErrorResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    def handler(status: int) -> Any:
        async def handle(_request: Request, exc: Exception) -> Response:
            return error(status, str(exc))

        return handle

    app.add_exception_handler(NotFound, handler(404))
    app.add_exception_handler(Conflict, handler(409))
    app.add_exception_handler(Forbidden, handler(403))
    app.add_exception_handler(TellCustomer, handler(400))
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette sends this outside every middleware, so it carries the headers itself.
        return error(500, STATUS_REASONS[500], headers=dict(SECURITY_HEADERS))

    app.add_exception_handler(Exception, unexpected)


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """415 for a body not sent as JSON, 422 otherwise (malformed JSON included)."""
    found = validation.problems(exc.errors())
    status = 422
    if _not_sent_as_json(request) and any(p.loc == ("body",) and p.type in NOT_JSON_BODY for p in found):
        status = 415
    detail = STATUS_REASONS[415] if status == 415 else validation.summary(found)
    return error(status, detail, errors=[p.public() for p in found])


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(status_code=exc.status_code, headers=headers)
    if exc.status_code == 405:
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = ", ".join(allowed_methods(request))
    detail: Any = exc.detail
    if isinstance(detail, str):
        detail = _chinese(exc.status_code, detail, request, headers)
    return error(exc.status_code, detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes. Starlette names only those of the first
    route that matched the path, and GET and POST of one path are often two routes."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return allowed or ["GET", "HEAD"]  # a mounted directory of static files


def _chinese(status: int, detail: str, request: Request, headers: dict[str, str]) -> str:
    if detail in ENGLISH_REASONS:
        return ENGLISH_REASONS[detail]
    if detail != _phrase(status):
        return detail  # the route's own (Chinese) reason
    if status == 405:
        allowed = headers.get("Allow")
        return f"此地址不支持 {request.method} 请求" + (f"（可用：{allowed}）" if allowed else "")
    return STATUS_REASONS.get(status, f"请求未能完成（{status}）")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _not_sent_as_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not (kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")))


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.app = app
        self.max_bytes = max_bytes

    @property
    def reason(self) -> str:
        return f"请求体过大（上限 {self.max_bytes} 字节）"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
        if b"%00" in raw_path or "\x00" in scope.get("path", "") or b"%00" in (scope.get("query_string") or b""):
            # No store keeps a NUL character (PostgreSQL refuses it): refuse it at the door.
            await error(400, "请求地址或参数里含有无法处理的字符")(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error(413, self.reason)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI lets an HTTPException raised while reading the body through to
                    # the handlers, which answer 413; anything else it would turn into a 400.
                    raise HTTPException(413, self.reason)
            return message

        await self.app(scope, limited, send)
