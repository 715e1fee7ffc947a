"""``xiaoer admin``: agent accounts for the console."""


from pathlib import Path
from typing import Annotated, Optional

import typer


def _database(data_dir: Path | None):  # type: ignore[no-untyped-def]
    """The service's database, migrated as ``serve`` would (or refused with its reason)."""
    from bot.config import Settings
    from bot.errors import ConfigError
    from bot.storage.db import make_engine
    from bot.storage.schema import prepare

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))  # type: ignore[arg-type]
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        prepare(engine, auto_upgrade=settings.db_auto_upgrade)
    except ConfigError as exc:
        typer.echo(f"✗ {exc}", err=True)
        raise typer.Exit(1) from None
    return engine


def register(app: typer.Typer) -> None:
    admin = typer.Typer(help="客服账号管理 — agent and admin accounts.", no_args_is_help=True)
    app.add_typer(admin, name="admin")

    def _create(username: str, password: str, role: str, data_dir: Path | None) -> None:
        from bot.accounts import AccountStore
        from bot.errors import Conflict, TellCustomer

        engine = _database(data_dir)
        try:
            account = AccountStore(engine).create(username, password, role)  # type: ignore[arg-type]
        except (Conflict, TellCustomer) as exc:
            typer.echo(f"✗ {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"✓ created {account.role} {account.username}")

    DataDir = Annotated[
        Optional[Path], typer.Option("--data-dir", help="where the SQLite file lives (default ./var)")
    ]
    Password = Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="at least 8 characters")
    ]

    @admin.command("create-admin")
    def create_admin(
        username: Annotated[str, typer.Argument(help="login name")],
        password: Password,
        data_dir: DataDir = None,
    ) -> None:
        """Create an admin (can manage agents and re-ingest the shop)."""
        _create(username, password, "admin", data_dir)

    @admin.command("create-agent")
    def create_agent(
        username: Annotated[str, typer.Argument(help="login name")],
        password: Password,
        data_dir: DataDir = None,
    ) -> None:
        """Create an agent account for the console."""
        _create(username, password, "agent", data_dir)

    def _switch(username: str, enabled: bool, data_dir: Path | None) -> None:
        from bot.accounts import AccountStore
        from bot.errors import NotFound

        engine = _database(data_dir)
        store = AccountStore(engine)
        try:
            account = store.enable(username) if enabled else store.disable(username)
        except NotFound as exc:
            typer.echo(f"✗ {exc}", err=True)
            raise typer.Exit(1) from None
        state = "enabled (log in again)" if enabled else "disabled; its tokens no longer work"
        typer.echo(f"✓ {account.role} {account.username} {state}")

    @admin.command("disable")
    def disable(
        username: Annotated[str, typer.Argument(help="login name")],
        data_dir: DataDir = None,
    ) -> None:
        """停用账号 — the account can no longer log in and every token it holds stops working."""
        _switch(username, False, data_dir)

    @admin.command("enable")
    def enable(
        username: Annotated[str, typer.Argument(help="login name")],
        data_dir: DataDir = None,
    ) -> None:
        """重新启用账号 — the account may log in again (tokens from before stay invalid)."""
        _switch(username, True, data_dir)
