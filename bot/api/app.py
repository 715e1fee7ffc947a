"""The application factory: settings in, a FastAPI app out. No work happens at import."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import __version__, collector
from bot.api import routes_admin, routes_agent, routes_buyer, routes_eval, routes_reports, routes_suggestions
from bot.api import routes_workbench
from bot.api.auth import TokenSigner, signing_key
from bot.api.docs import install_docs
from bot.api.errors import ERROR_RESPONSES, BodyLimit, install_error_handlers
from bot.api.headers import SecurityHeaders
from bot.api.ratelimit import build_rate_limiter
from bot.config import Settings
from bot.errors import ConfigError, Conflict
from bot.health import check_ready
from bot.services import Services, build_services

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
DEMO_AGENT = ("demo", "demo12345")


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    eval_mode: bool = False,
) -> FastAPI:
    """Build the app. Without ``services`` they are built at start-up from ``settings``.

    Raises :class:`~bot.api.auth.InsecureSecretKey` when no usable ``XIAOER_SECRET_KEY`` is
    set outside demo mode (``XIAOER_DEMO``) and eval mode.
    """
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "services", None) is None:
            try:
                app.state.services = build_services(settings, eval_mode=eval_mode, serving=True)
            except ConfigError as exc:  # an unknown schema, a broken shop: say why, in one line
                log.error("%s", exc)
                raise
        _settle_demo_agent(app.state.services)
        app.state.draining.clear()
        restore = _drain_on_signal(app.state.draining)
        stop = asyncio.Event()
        ticking = None
        if not app.state.services.eval_mode:  # in eval mode the runner ticks after each wait:
            ticking = asyncio.create_task(
                app.state.services.scheduler.run_forever(settings.scheduler_interval_s, stop)
            )
        try:
            yield
        finally:
            app.state.draining.set()
            restore()
            stop.set()
            if ticking is not None:
                await ticking
            app.state.services.events.close()
            collector.release()  # what the start kept out of collections is garbage now

    app = FastAPI(
        title="店小二 xiaoer",
        version=__version__,
        description="淘宝店铺客服系统 API：买家聊天、客服审核草稿、管理与评测。",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.services = services
    app.state.draining = asyncio.Event()  # set when the server stops: streams end, /readyz is 503
    benchmark = eval_mode or (services is not None and services.eval_mode)
    key = signing_key(settings, eval_mode=benchmark)
    if key.warning:
        log.warning(key.warning)
    app.state.signer = TokenSigner(key.secret, settings.token_ttl_hours * 3600)
    app.state.rate_limiter = build_rate_limiter(settings, lifted=benchmark)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: the 413 of BodyLimit carries them too
    install_docs(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        ready = getattr(app.state, "services", None) is not None
        body = {"status": "ok" if ready else "starting", "version": __version__}
        if ready:
            body["shop"] = app.state.services.shop.info.name
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """就绪检查：数据库、事件总线与向量库都可用时 200，否则（含关闭中）503。"""
        services = getattr(app.state, "services", None)
        if services is None:
            return JSONResponse({"status": "starting", "checks": []}, status_code=503)
        state = check_ready(services, draining=app.state.draining.is_set())
        body = {
            "status": "ready" if state.ready else ("draining" if state.draining else "unavailable"),
            "checks": [asdict(c) for c in state.checks],
        }
        return JSONResponse(body, status_code=200 if state.ready else 503)

    app.include_router(routes_buyer.router)
    app.include_router(routes_agent.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_suggestions.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_workbench.router)
    if eval_mode or (services is not None and services.eval_mode):
        app.include_router(routes_eval.router)

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/console", include_in_schema=False)
    def console_page() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    @app.get("/workbench", include_in_schema=False)
    def workbench_page() -> FileResponse:
        return FileResponse(STATIC / "workbench.html")

    return app


def _drain_on_signal(draining: asyncio.Event) -> Callable[[], None]:
    """On SIGTERM/SIGINT mark the app as draining, then let the server's own handler stop it:
    live streams end at once (consoles reconnect elsewhere) while turns in flight finish."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def hook(sig: int, frame: Any) -> None:
        draining.set()
        handler = previous.get(sig)
        if callable(handler):
            handler(sig, frame)

    for sig in previous:
        signal.signal(sig, hook)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is hook:
                signal.signal(sig, handler)

    return restore


def _settle_demo_agent(services: Services) -> None:
    """The demo agent exists in demo mode only; outside it a leftover one is disabled."""
    username, password = DEMO_AGENT
    account = services.accounts.get(username)
    if services.settings.demo and services.settings.demo_login:
        if account is None:
            try:
                services.accounts.create(username, password, "agent")
            except Conflict:
                pass
        elif account.disabled:
            services.accounts.enable(username)
        return
    if account is not None and not account.disabled and services.accounts.verify(username, password):
        services.accounts.disable(username)
        log.warning(
            "演示客服账号 %s 的密码是公开的，非演示模式下已停用 / the demo agent %s has a published "
            "password and was disabled outside demo mode",
            username,
            username,
        )
