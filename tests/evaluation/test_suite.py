"""Suites load as written, and a malformed one names the file, case and key and runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.suite import SuiteInvalid, load_suite, load_suites

GOOD_CASE = """
cases:
  - id: cancel-unpaid
    buyer: b01
    tags: [cancel]
    turns:
      - user: 那个还没付款的单子不要了
        expect: {intent: cancel_order, reply_contains: ["7003"]}
      - user: 嗯确认
        expect: {intent: [confirm, other], action: order.cancel}
    final_state:
      orders:
        7003: {status: TRADE_CLOSED}
"""


def problems(exc: pytest.ExceptionInfo[SuiteInvalid]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_a_valid_suite_loads_with_its_shop_and_clock(write_suite):
    suite = load_suite(write_suite(GOOD_CASE))
    assert suite.name == "测试"
    assert suite.shop.info.name == "山语茶舍"
    (case,) = suite.cases
    assert case.now.isoformat() == "2026-11-21T10:00:00+08:00"
    assert case.case.turns[0].expect.intent == ["cancel_order"]
    assert case.case.final_state.orders == {"7003": {"status": "TRADE_CLOSED"}}


def test_a_case_clock_overrides_the_suite_clock_and_naive_times_take_the_shop_zone(write_suite):
    suite = load_suite(write_suite("""
cases:
  - {id: a, buyer: b01, now: "2026-11-22T09:30:00", turns: [{user: 你好}]}
"""))
    assert suite.cases[0].now.isoformat() == "2026-11-22T09:30:00+08:00"


def test_yaml_syntax_error_names_the_file_and_line(write_suite):
    path = write_suite("cases:\n  - id: x\n    turns: [{user: 你好\n")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    (msg,) = problems(exc)
    assert "suite.yaml:" in msg and "YAML syntax error" in msg


def test_unknown_key_names_file_case_and_key(write_suite):
    path = write_suite("""
cases:
  - id: typo-case
    buyer: b01
    turns:
      - user: 你好
        expect: {intnet: greeting}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    (problem,) = exc.value.problems
    assert problem.file.endswith("suite.yaml")
    assert problem.case == "typo-case"
    assert problem.key == "cases.0.turns.0.expect.intnet"
    assert problem.line == 10  # three header lines, a blank line, then the case
    assert "unknown key" in problem.message


def test_unknown_intent_is_an_error_not_a_silent_miss(write_suite):
    path = write_suite("""
cases:
  - id: bad-intent
    buyer: b01
    turns:
      - user: 退款
        expect: {intent: refnud}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    (problem,) = exc.value.problems
    assert problem.case == "bad-intent"
    assert problem.key.startswith("cases.0.turns.0.expect.intent")
    assert "unknown intent 'refnud'" in problem.message


def test_unknown_action_is_an_error(write_suite):
    path = write_suite("""
cases:
  - id: bad-action
    buyer: b01
    turns:
      - user: 取消
        expect: {action: [none, order.delete]}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    assert "unknown action 'order.delete'" in problems(exc)[0]


def test_unknown_buyer_and_unknown_order_are_errors(write_suite):
    path = write_suite("""
cases:
  - id: ghost
    buyer: b99
    turns: [{user: 你好}]
    final_state: {orders: {"9999": {status: TRADE_CLOSED}}}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    keys = {p.key for p in exc.value.problems}
    assert keys == {"cases.0.buyer", "cases.0.final_state.orders.9999"}


def test_final_state_keys_and_values_are_checked_against_the_orders_schema(write_suite):
    path = write_suite("""
cases:
  - id: state-typos
    buyer: b01
    turns: [{user: 你好}]
    final_state:
      orders:
        "7001": {stauts: TRADE_CLOSED, refunds: [{type: REFUND, amount: 142.80}]}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    found = {p.key: p.message for p in exc.value.problems}
    assert "unknown key" in found["cases.0.final_state.orders.7001.stauts"]
    assert "'REFUND' is not one of" in found["cases.0.final_state.orders.7001.refunds.0.type"]


def test_missing_keys_and_duplicate_ids_are_reported(write_suite):
    path = write_suite("""
cases:
  - {id: same, buyer: b01, turns: [{user: 你好}]}
  - {id: same, buyer: b01, turns: [{user: 你好}]}
""")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    assert any("used twice" in m and "cases.1.id" in m for m in problems(exc))

    path = write_suite("cases:\n  - {id: empty, buyer: b01}\n", name="missing.yaml")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    (problem,) = exc.value.problems
    assert (problem.case, problem.key, problem.message) == ("empty", "cases.0.turns", "required key is missing")


def test_one_bad_suite_in_a_folder_stops_the_whole_run(write_suite, tmp_path: Path):
    write_suite(GOOD_CASE, name="suites/good.yaml")
    write_suite("cases:\n  - {id: x, buyer: b01, turns: [{user: hi, expect: {intent: nope}}]}\n",
                name="suites/bad.yaml")
    with pytest.raises(SuiteInvalid) as exc:
        load_suites([tmp_path / "suites"])
    (msg,) = problems(exc)
    assert "bad.yaml" in msg and "case 'x'" in msg


def test_a_missing_path_or_shop_is_reported(write_suite, tmp_path: Path):
    with pytest.raises(SuiteInvalid) as exc:
        load_suites([tmp_path / "nowhere"])
    assert "no such file or folder" in problems(exc)[0]

    path = tmp_path / "noshop.yaml"
    path.write_text("suite: x\nshop: ./no-shop-here\nnow: 2026-11-21T10:00:00+08:00\n"
                    "cases: [{id: a, buyer: b01, turns: [{user: hi}]}]\n", encoding="utf-8")
    with pytest.raises(SuiteInvalid) as exc:
        load_suite(path)
    (problem,) = exc.value.problems
    assert problem.key == "shop" and "cannot be loaded" in problem.message


def test_shop_override_runs_a_suite_against_another_shop(write_suite, tmp_path: Path):
    path = tmp_path / "elsewhere.yaml"
    path.write_text("suite: x\nshop: ./not-used\nnow: 2026-11-21T10:00:00+08:00\n"
                    "cases: [{id: a, buyer: b02, turns: [{user: hi}]}]\n", encoding="utf-8")
    mini = Path(__file__).resolve().parent.parent / "fixtures" / "mini_shop"
    assert load_suite(path, shop_override=mini).shop.info.name == "山语茶舍"


def test_other_yaml_in_a_folder_is_skipped_but_a_named_file_must_be_a_suite(write_suite, tmp_path: Path):
    write_suite(GOOD_CASE, name="suites/good.yaml")
    labelled = tmp_path / "suites" / "retrieval" / "queries.yaml"
    labelled.parent.mkdir(parents=True)
    labelled.write_text("- {query: 卫衣起球吗, relevant: [WY01]}\n", encoding="utf-8")
    skipped: list[Path] = []
    suites = load_suites([tmp_path / "suites"], skipped=skipped)
    assert [s.name for s in suites] == ["测试"]
    assert skipped == [labelled.resolve()]
    with pytest.raises(SuiteInvalid):
        load_suites([labelled])
