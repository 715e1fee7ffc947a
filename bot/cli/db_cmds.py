"""``xiaoer db``: the database schema's migrations (upgrade, current revision)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="数据库结构迁移 — schema migrations (Alembic) of XIAOER_DATABASE_URL.",
                     no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def upgrade(
        revision: Annotated[str, typer.Argument(help="target revision (default: the newest)")] = "head",
    ) -> None:
        """升级数据库结构 — migrate the database to the newest schema (safe to run twice, and
        from several processes at once: the upgrade holds a lock)."""
        from rich.console import Console

        from bot.errors import ConfigError
        from bot.storage import schema

        console = Console()
        engine = _engine()
        try:
            before = schema.status(engine)
            after = schema.upgrade(engine, revision)
        except ConfigError as exc:
            console.print(f"[red]✗ {exc}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        if before.current == after.current:
            console.print(f"数据库结构已是最新 / already at {after.current} ({_where()})", highlight=False)
        else:
            console.print(
                f"[green]✓[/green] 数据库结构 {before.current or '（空）'} → {after.current} "
                f"/ upgraded {before.current or '(empty)'} → {after.current} ({_where()})",
                highlight=False,
            )

    @db.command("current")
    def current() -> None:
        """当前数据库结构版本 — the database's revision and the newest this code knows.

        Exits 1 when the database is behind (needs `xiaoer db upgrade`) or at a revision this
        code does not know."""
        from rich.console import Console

        from bot.storage import schema

        console = Console()
        engine = _engine()
        try:
            state = schema.status(engine)
        finally:
            engine.dispose()
        console.print(f"current {state.current or '-'}  head {state.head}  ({_where()})", highlight=False)
        if not state.known:
            console.print("[red]✗ 不认识的结构版本 / a revision this code does not know[/red]")
            raise typer.Exit(1)
        if not state.up_to_date:
            console.print("[yellow]! 需要升级：xiaoer db upgrade / behind: run `xiaoer db upgrade`[/yellow]")
            raise typer.Exit(1)


    @db.command("revision")
    def revision(message: Annotated[str, typer.Argument(help="what the revision changes")]) -> None:
        """写一个新的迁移 — write a revision from what the models declare beyond the newest one.

        Compares the models with a scratch SQLite database migrated to the newest revision
        and writes bot/storage/migrations/versions/NNNN_….py; read it before committing."""
        import tempfile
        from pathlib import Path

        from alembic import command
        from rich.console import Console

        from bot.storage import schema
        from bot.storage.db import make_engine

        console = Console()
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
            engine = make_engine(url)
            schema.upgrade(engine)
            changes = schema.differences(engine)
            engine.dispose()
            if not changes:
                console.print("模型与迁移一致，无需新迁移 / models and migrations agree: nothing to write")
                return
            number = max(int(r.revision) for r in schema.scripts().walk_revisions() if r.revision.isdigit())
            command.revision(schema.alembic_config(url), message, autogenerate=True, rev_id=f"{number + 1:04d}")
        for line in changes:
            console.print(f"  {line}", highlight=False)


def _engine() -> Engine:
    from bot.config import Settings
    from bot.storage.db import make_engine

    settings = Settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.sqlalchemy_url)


def _where() -> str:
    """The database, without its password."""
    from sqlalchemy.engine import make_url

    from bot.config import Settings

    return make_url(Settings().sqlalchemy_url).render_as_string(hide_password=True)
