"""`xiaoer admin create-admin` / `disable` on a fresh data directory: the database is made by
the migrations, exactly as `serve` would, so the service then starts on it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.accounts import AccountStore
from bot.cli import app
from bot.storage import schema
from bot.storage.db import make_engine


def test_accounts_made_from_the_command_line_are_on_a_migrated_database(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["admin", "create-admin", "boss", "--data-dir", str(tmp_path)],
                         input="s3cret-pass\ns3cret-pass\n")
    assert made.exit_code == 0, made.output
    engine = make_engine(f"sqlite:///{tmp_path / 'xiaoer.db'}")
    state = schema.status(engine)
    assert state.current == state.head  # stamped by the migrations, not tables made bare
    assert AccountStore(engine).verify("boss", "s3cret-pass") is not None
    off = runner.invoke(app, ["admin", "disable", "boss", "--data-dir", str(tmp_path)])
    assert off.exit_code == 0 and "disabled" in off.output, off.output
    assert AccountStore(engine).verify("boss", "s3cret-pass") is None
    engine.dispose()
