"""``xiaoer report ops | review | export`` on the data the scripted days stored."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.evaluation.suite import load_suite
from bot.services import Services


def data_dir(services: Services) -> str:
    return str(services.settings.data_dir)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_help_explains_the_window_the_formats_and_the_definitions() -> None:
    result = invoke("report", "ops", "--help")
    assert result.exit_code == 0
    for word in ("--since", "--until", "--format", "--out", "html", "csv", "json", "docs/reports.md"):
        assert word in result.output, word
    listing = invoke("report", "--help").output
    assert all(name in listing for name in ("ops", "review", "export", "suggestions"))


def test_ops_writes_html_csv_and_json(played_services: Services, tmp_path: Path) -> None:
    d = data_dir(played_services)
    html = tmp_path / "ops.html"
    result = invoke("report", "ops", "--data-dir", d, "--out", str(html))
    assert result.exit_code == 0, result.output
    assert "询单转化率：40.0%（2/5）" in result.output
    assert html.read_text(encoding="utf-8").count("<svg") == 5

    out = tmp_path / "ops.csv"
    result = invoke("report", "ops", "--data-dir", d, "--since", "2026-11-21", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[:2] for r in rows[1:3]] == [["合计", "棉麻小铺"], ["日期", "2026-11-21"]]

    result = invoke("report", "ops", "--data-dir", d, "--format", "json", "--until", "2026-11-20")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["total"]["conversations"] == 5 and figures["timezone"] == "Asia/Shanghai"


def test_bad_input_exits_2_with_the_reason(played_services: Services, tmp_path: Path) -> None:
    result = invoke("report", "ops", "--data-dir", data_dir(played_services), "--since", "昨天")
    assert result.exit_code == 2 and "无法识别的时间" in result.output
    result = invoke("report", "ops", "--data-dir", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "no data yet" in result.output
    result = invoke("report", "export", "--data-dir", data_dir(played_services), "--out", str(tmp_path / "x.yaml"))
    assert result.exit_code == 2 and "请至少选择一段对话" in result.output


def test_review_lists_and_export_writes_a_suite_next_to_the_shop(played_services: Services, tmp_path: Path) -> None:
    d = data_dir(played_services)
    result = invoke("report", "review", "--data-dir", d, "--json", str(tmp_path / "review.json"))
    assert result.exit_code == 0, result.output
    assert "询单未转化" in result.output and "草稿被驳回" in result.output
    items = json.loads((tmp_path / "review.json").read_text(encoding="utf-8"))
    assert len(items) == 3 and all(i["transcript"] for i in items)

    out = tmp_path / "suites" / "review.yaml"
    result = invoke("report", "export", "--data-dir", d, "--all", "--out", str(out), "--name", "复盘-双十一")
    assert result.exit_code == 0, result.output
    assert "3 case(s)" in result.output
    suite = load_suite(out)  # the shop path in the file is relative to the file
    assert suite.name == "复盘-双十一" and len(suite.cases) == 3
    assert not Path(out.read_text(encoding="utf-8").split("shop: ")[1].split("\n")[0]).is_absolute()
