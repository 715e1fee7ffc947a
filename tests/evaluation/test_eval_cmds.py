"""``xiaoer eval`` and ``xiaoer eval compare`` as a user runs them (against a real HTTP server)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from bot.cli.eval_cmds import register

SUITE = """
cases:
  - id: greet
    buyer: b01
    turns: [{user: 你好, expect: {intent: greeting}}]
  - id: price
    buyer: b02
    turns: [{user: 龙井多少钱, expect: {intent: price_promotion, reply_contains: ["168.00"]}}]
  - id: wrong
    buyer: b01
    turns: [{user: 乱取消, expect: {action: none}}]
"""


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def invoke(*args: str):
    return CliRunner().invoke(cli(), list(args), env={"COLUMNS": "200"})


def test_exit_code_is_non_zero_below_min_pass(write_suite, eval_server, tmp_path):
    url, _ = eval_server
    path = write_suite(SUITE)
    out = tmp_path / "report.json"
    result = invoke("eval", str(path), "--url", url, "--min-pass", "0.9", "--json", str(out))
    assert result.exit_code == 1, result.output
    assert "below --min-pass" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["metrics"]["cases"] == {"passed": 2, "total": 3, "rate": 2 / 3}
    assert (tmp_path / "failed.yaml").exists()

    result = invoke("eval", str(path), "--url", url, "--min-pass", "0.6")
    assert result.exit_code == 0, result.output


def test_output_shows_a_table_per_suite_and_each_failure(write_suite, eval_server):
    url, _ = eval_server
    result = invoke("eval", "run", str(write_suite(SUITE)), "--url", url, "--quiet")
    assert result.exit_code == 0
    result = invoke("eval", str(write_suite(SUITE)), "--url", url)
    assert "测试" in result.output and "FAIL" in result.output
    assert "turn 1 买家: 乱取消" in result.output
    assert "expected action: 'none'" in result.output
    assert "好的亲，已取消" in result.output  # what the bot said


def test_a_malformed_suite_runs_nothing(write_suite, eval_server, tmp_path):
    url, services = eval_server
    write_suite(SUITE, name="suites/ok.yaml")
    write_suite("cases:\n  - {id: typo, buyer: b01, turns: [{user: 你好, expect: {intent: greting}}]}\n",
                name="suites/bad.yaml")
    result = invoke("eval", str(tmp_path / "suites"), "--url", url)
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "case 'typo'" in result.output
    assert "unknown intent 'greting'" in result.output
    assert services.resets == 0 and services.conversations == 0


def test_compare_two_reports(write_suite, eval_server, tmp_path):
    url, _ = eval_server
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    invoke("eval", str(write_suite(SUITE)), "--url", url, "--json", str(a), "--quiet")
    fixed = SUITE.replace("expect: {action: none}}]", "expect: {action: order.cancel}}]\n"
                          "    final_state: {orders: {'7001': {status: TRADE_CLOSED}}}")
    invoke("eval", str(write_suite(fixed)), "--url", url, "--json", str(b), "--html", str(tmp_path / "b.html"),
           "--quiet")
    result = invoke("eval", "compare", str(a), str(b), "--json", str(tmp_path / "cmp.json"))
    assert result.exit_code == 0, result.output
    assert "better (1)" in result.output and "测试::wrong" in result.output
    assert json.loads((tmp_path / "cmp.json").read_text(encoding="utf-8"))["better"][0]["case"] == "测试::wrong"
    assert (tmp_path / "b.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_an_unreachable_server_is_a_clear_error(write_suite):
    result = invoke("eval", str(write_suite(SUITE)), "--url", "http://127.0.0.1:9")
    assert result.exit_code == 3
    assert "cannot reach the bot" in result.output
