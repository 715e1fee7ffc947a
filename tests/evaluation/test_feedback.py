"""``xiaoer report suggestions`` shows how agents treated the drafts, per intent."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from typer.testing import CliRunner

from bot.cli.report_cmds import register
from bot.clock import FrozenClock
from bot.drafting.pipeline import Draft
from bot.ids import SequentialIds
from bot.storage.db import make_engine
from bot.suggestions.service import SuggestionService


def draft(text: str) -> Draft:
    return Draft(text=text, citations=[], facts={}, flags=[], drafter="template", passed=True)


def test_report_suggestions_from_the_stored_decisions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'xiaoer.db'}")
    service = SuggestionService(engine, FrozenClock(datetime.fromisoformat("2026-11-21T10:00:00+08:00")),
                                SequentialIds())
    a = service.create("c1", "t1", "price_promotion", draft("亲，这款现价143.10元"), auto_sent=False)
    b = service.create("c1", "t2", "price_promotion", draft("亲，这款现价143.10元"), auto_sent=False)
    c = service.create("c2", "t3", "size_advice", draft("亲，建议L码"), auto_sent=False)
    d = service.create("c2", "t4", "size_advice", draft("亲，建议M码"), auto_sent=False)
    service.accept(a.id, "agent1")
    service.edit(b.id, "agent1", "亲，这款现价143.10元，满159还能用券")
    service.reject(c.id, "agent2", "尺码推荐错了")
    service.reject(d.id, "agent2", "尺码推荐错了")
    engine.dispose()

    app = typer.Typer()
    register(app)
    out = tmp_path / "feedback.json"
    result = CliRunner().invoke(app, ["report", "suggestions", "--json", str(out)],
                                env={"XIAOER_DATA_DIR": str(tmp_path), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "price_promotion" in result.output and "尺码推荐错了 ×2" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["price_promotion"]["acceptance_rate"] == 0.5
    assert figures["price_promotion"]["edit_rate"] == 0.5
    assert figures["price_promotion"]["mean_edit_distance"] == len("，满159还能用券")
    assert figures["size_advice"]["rejection_rate"] == 1.0


def test_report_suggestions_without_a_database_says_so(tmp_path):
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["report", "suggestions"], env={"XIAOER_DATA_DIR": str(tmp_path / "none")})
    assert result.exit_code == 2
    assert "no stored suggestions" in result.output
