"""The ops report counts what really happened in stored conversations and draws it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.ops_report import ops_figures, render_html
from bot.services import build_services

ROOT = Path(__file__).resolve().parent.parent


def test_ops_report_from_stored_turns(tmp_path: Path) -> None:
    services = build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path),
        clock=FrozenClock(datetime.fromisoformat("2026-11-21T10:00:00+08:00")),
        ids=SequentialIds(),
        ephemeral=True,
    )
    cid = services.bot.start_conversation("b01")
    for text in ("你好", "我要找人工客服", "满多少包邮"):
        services.bot.handle(cid, "b01", text)
    services.conversations.rate(cid, 4, services.clock.now())

    figures = ops_figures(services.db)
    assert figures["turns"] == 3 and figures["conversations"] == 1
    assert figures["intents"]["human_agent"] == 1 and figures["handoffs_by_intent"] == {"human_agent": 1}
    assert figures["ratings"] == {4: 1}
    html = render_html(figures)
    assert html.count("<svg") == 5 and "转人工率" in html and "http" not in html.replace("http://www.w3.org", "")

    out = tmp_path / "ops.json"
    result = CliRunner().invoke(app, ["report", "ops", "--data-dir", str(tmp_path), "--json", str(out), "--html", str(tmp_path / "ops.html")])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["turns"] == 3


def test_ops_report_without_data_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "ops", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no data yet" in result.output
