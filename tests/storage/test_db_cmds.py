"""`xiaoer db upgrade | current`, and `xiaoer serve` refusing a schema it does not know."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.storage import schema
from bot.storage.db import make_engine


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAOER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("XIAOER_DATABASE_URL", raising=False)
    return tmp_path


def test_current_says_behind_then_upgrade_brings_it_to_the_head(data_dir: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 1 and "xiaoer db upgrade" in before.output
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0, up.output
    assert schema.head() in up.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "已是最新" in again.output
    now = runner.invoke(app, ["db", "current"])
    assert now.exit_code == 0 and f"current {schema.head()}" in now.output


def test_serve_refuses_a_schema_it_does_not_know(data_dir: Path) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'xiaoer.db'}")
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    engine.dispose()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "xiaoer"), "serve", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1
    assert "f00d" in done.stdout and "不认识" in done.stdout and "refusing to start" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
