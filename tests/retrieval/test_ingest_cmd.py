"""`xiaoer ingest --shop DIR` indexes that shop into its own data directory, never the demo's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"


def test_ingest_of_another_shop_writes_that_shops_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the data directory defaults to ./var/<shop>
    for key in ("XIAOER_DATA_DIR", "XIAOER_SHOP_DIR"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(app, ["ingest", "--shop", str(MINI)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "mini_shop" / "chroma").is_dir(), result.output
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["mini_shop"]
