"""``xiaoer serve``: build everything for a shop and start the web service.

With ``--workers N`` the shop is checked, the database migrated and the index built once
here; then uvicorn starts N worker processes, each building its app with
:func:`worker_app` from the same environment (the throwaway demo key included).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        shop: Annotated[
            Optional[Path], typer.Option("--shop", help="shop directory (default: the demo shop)")
        ] = None,
        host: Annotated[Optional[str], typer.Option(help="bind address (default 127.0.0.1)")] = None,
        port: Annotated[Optional[int], typer.Option(help="port (default 8000)")] = None,
        data_dir: Annotated[
            Optional[Path], typer.Option("--data-dir", help="SQLite file and index folder (default ./var)")
        ] = None,
        eval_mode: Annotated[
            bool,
            typer.Option(
                "--eval-mode",
                help="benchmark server: frozen settable clock, sequential ids, /api/eval routes",
            ),
        ] = False,
        workers: Annotated[
            Optional[int],
            typer.Option(
                "--workers", min=1,
                help="worker processes (default XIAOER_WORKERS or 1); more than one wants "
                "PostgreSQL (XIAOER_DATABASE_URL) and Redis (XIAOER_REDIS_URL)",
            ),
        ] = None,
    ) -> None:
        """启动客服服务 — start the chat page, the agent console and the HTTP API.

        Uses embedded defaults: a SQLite file and a chromadb index under --data-dir, and the
        offline template drafter unless XIAOER_LLM_MODEL (plus OPENAI_BASE_URL /
        OPENAI_API_KEY) is set. Open the printed URL; API docs are at /docs.

        Needs XIAOER_SECRET_KEY (32+ characters) to sign logins, unless XIAOER_DEMO=true
        (demo accounts, a throwaway key) or --eval-mode.

        The database is migrated at start (XIAOER_DB_AUTO_UPGRADE=false: refuse instead,
        until `xiaoer db upgrade`). On SIGTERM the server stops taking connections, ends
        live streams and lets turns in flight finish (up to XIAOER_SHUTDOWN_GRACE_S).
        """
        import uvicorn
        from pydantic import SecretStr
        from rich.console import Console

        from bot.api.app import DEMO_AGENT, create_app
        from bot.api.auth import InsecureSecretKey, signing_key
        from bot.config import Settings
        from bot.errors import ConfigError, ShopInvalid
        from bot.services import build_services

        console = Console()
        overrides: dict[str, object] = {}
        if shop is not None:
            overrides["shop_dir"] = shop
        if data_dir is not None:
            overrides["data_dir"] = data_dir
        if host is not None:
            overrides["host"] = host
        if port is not None:
            overrides["port"] = port
        if workers is not None:
            overrides["workers"] = workers
        settings = Settings(**overrides)  # type: ignore[arg-type]
        if settings.workers > 1 and eval_mode:
            console.print("[red]✗ 评测模式只能单进程运行 / --eval-mode runs one process: drop --workers[/red]")
            raise typer.Exit(1)
        try:
            key = signing_key(settings, eval_mode=eval_mode)
        except InsecureSecretKey as exc:
            console.print(f"[red]✗ {exc}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        if key.warning:
            console.print(f"[bold yellow]! {key.warning}[/bold yellow]", highlight=False, soft_wrap=True)
            # one throwaway key for this process, so the app does not make (and warn about) another
            settings = settings.model_copy(update={"secret_key": SecretStr(key.secret)})
        busy = _port_taken(settings.host, settings.port)
        if busy:
            console.print(f"[red]✗ 端口 {settings.port} 已被占用 (port in use: {busy})；换一个：--port 8001[/red]")
            raise typer.Exit(1)
        try:
            services = build_services(settings, eval_mode=eval_mode, progress=True, serving=settings.workers == 1)
        except ShopInvalid as exc:
            for problem in exc.problems:
                console.print(f"[red]✗[/red] {problem}", highlight=False)
            raise typer.Exit(1) from None
        except ConfigError as exc:  # e.g. a database schema this code does not know
            console.print(f"[red]✗ {exc}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        url = f"http://{settings.host}:{settings.port}"
        drafter = f"LLM {settings.llm_model}" if settings.llm_model else "离线模板 (offline templates)"
        console.print(f"[bold green]店小二已启动[/bold green] · {services.shop.info.name}")
        console.print(f"  买家聊天  {url}/")
        console.print(f"  客服工作台 {url}/console" + (
            f"  (演示账号 {DEMO_AGENT[0]} / {DEMO_AGENT[1]})" if settings.demo and settings.demo_login else ""))
        console.print(f"  API 文档  {url}/docs")
        console.print(f"  起草方式  {drafter} · 数据目录 {settings.data_dir.resolve()}")
        if settings.demo:
            console.print("  [yellow]演示模式 (XIAOER_DEMO)：演示账号已开启，请勿用于真实店铺[/yellow]")
        if eval_mode:
            console.print("  [yellow]评测模式：时钟可设置，/api/eval 已开启，不限流[/yellow]")
        grace = settings.shutdown_grace_s
        if settings.workers == 1:
            application = create_app(settings, services)
            uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning",
                        timeout_graceful_shutdown=grace)
            return
        console.print(f"  工作进程  {settings.workers} (workers)")
        if not settings.redis_url:
            console.print("  [yellow]! 未设置 XIAOER_REDIS_URL：各进程的实时事件、限流与定时任务互不相通 / "
                          "without Redis, live events, rate limits and job leases stay per process[/yellow]")
        services.db.dispose()
        del services  # each worker builds its own; the parent only supervises
        os.environ.update(_worker_env(settings))
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=settings.workers,
                    host=settings.host, port=settings.port, log_level="warning",
                    timeout_graceful_shutdown=grace)


def worker_app() -> object:
    """The app of one worker process, from the environment ``serve`` prepared."""
    from bot.api.app import create_app
    from bot.config import Settings

    return create_app(Settings())


def _worker_env(settings: object) -> dict[str, str]:
    """The settings given on the command line, as the environment the workers read."""
    from bot.config import Settings

    assert isinstance(settings, Settings)
    env = {
        "XIAOER_SHOP_DIR": str(Path(settings.shop_dir).resolve()),
        "XIAOER_DATA_DIR": str(Path(settings.data_dir).resolve()),
        "XIAOER_HOST": settings.host,
        "XIAOER_PORT": str(settings.port),
        "XIAOER_WORKERS": str(settings.workers),
    }
    if settings.secret_key is not None:
        env["XIAOER_SECRET_KEY"] = settings.secret_key.get_secret_value()
    return env


def _port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound, or None when it can (checked before the slow build)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None
