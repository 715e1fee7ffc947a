"""Replay the after-sales transcript suites (eval/aftersales) through the dialogue manager on
the embedded SQL order backend, checking every turn's intent/action/reply/handoff and each
case's final state, as the transcript format defines them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.router import Router, build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine

ROOT = Path(__file__).resolve().parents[2]
SUITES = sorted((ROOT / "eval" / "aftersales").glob("*.yaml"))


def _cases() -> list[tuple[Path, dict[str, Any], str]]:
    out = []
    for path in SUITES:
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            out.append((path, case, str(suite["now"])))
    return out


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return False
        used: set[int] = set()
        for e in expected:
            hit = next((i for i, a in enumerate(actual) if i not in used and _same(e, a)), None)
            if hit is None:
                return False
            used.add(hit)
        return True
    if isinstance(expected, (int, float, Decimal)) and not isinstance(expected, bool):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except InvalidOperation:
            return False
    return "".join(str(expected).split()) == "".join(str(actual).split())


def _expect_ok(expected: Any, actual: str | None) -> bool:
    options = expected if isinstance(expected, list) else [expected]
    return (actual or "none") in options


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(ROOT / "knowledge")


@pytest.fixture(scope="module")
def router(shop: Shop) -> Router:
    return build_router(shop)


@pytest.fixture(scope="module")
def backend(shop: Shop) -> SqlOrderBackend:
    engine = make_engine("sqlite://")
    create_all(engine)
    return SqlOrderBackend(engine, shop)


def run_case(shop: Shop, router: Router, backend: SqlOrderBackend, case: dict[str, Any], now: str) -> tuple[list[str], int, int]:
    """Replay one case; return (failures, intents right, turns)."""
    backend.reset()
    seeded = {o.tid: o.model_dump(mode="json") for o in backend.export().orders}
    clock = FrozenClock(datetime.fromisoformat(str(case.get("now", now))))
    dm = DialogueManager(shop, backend, router, clock, SequentialIds())
    state: dict[str, Any] = {}
    failures: list[str] = []
    right = 0
    for n, turn in enumerate(case["turns"], 1):
        out = dm.handle(state, str(case["buyer"]), str(turn["user"]))
        state = out.state
        exp = turn.get("expect", {})
        reply = "".join((out.reply or "").split())
        where = f"turn {n} {turn['user'][:20]!r}"
        if "intent" in exp:
            if _expect_ok(exp["intent"], out.intent):
                right += 1
            else:
                failures.append(f"{where}: intent {out.intent} ({out.explanation}) != {exp['intent']}")
        if "action" in exp and not _expect_ok(exp["action"], out.action):
            failures.append(f"{where}: action {out.action} != {exp['action']}")
        for s in exp.get("reply_contains", []):
            if "".join(str(s).split()) not in reply:
                failures.append(f"{where}: reply lacks {s!r}: {out.reply!r}")
        if exp.get("reply_any") and not any("".join(str(s).split()) in reply for s in exp["reply_any"]):
            failures.append(f"{where}: reply has none of {exp['reply_any']}")
        for s in exp.get("reply_not_contains", []):
            if "".join(str(s).split()) in reply:
                failures.append(f"{where}: reply contains {s!r}")
        if "handoff" in exp and bool(exp["handoff"]) != out.handoff:
            failures.append(f"{where}: handoff {out.handoff} != {exp['handoff']}")
    final = {o.tid: o.model_dump(mode="json") for o in backend.export().orders}
    expected = {str(k): v for k, v in ((case.get("final_state") or {}).get("orders") or {}).items()}
    for tid, doc in final.items():
        if tid in expected:
            if not _same(expected[tid], doc):
                failures.append(f"final state of {tid}: {doc} does not match {expected[tid]}")
        elif doc != seeded.get(tid):
            failures.append(f"side effect on order {tid}")
    return failures, right, sum(1 for t in case["turns"] if "intent" in t.get("expect", {}))


@pytest.mark.parametrize(("path", "case", "now"), _cases(), ids=lambda v: v["id"] if isinstance(v, dict) else "")
def test_case(shop: Shop, router: Router, backend: SqlOrderBackend, path: Path, case: dict[str, Any], now: str) -> None:
    failures, _, _ = run_case(shop, router, backend, case, now)
    assert not failures, f"{path.name}#{case['id']}:\n" + "\n".join(failures)


def test_intent_accuracy_and_final_state(shop: Shop, router: Router, backend: SqlOrderBackend, capsys: pytest.CaptureFixture[str]) -> None:
    right = total = cases_ok = 0
    cases = _cases()
    for _, case, now in cases:
        failures, r, t = run_case(shop, router, backend, case, now)
        right, total = right + r, total + t
        cases_ok += not any(f.startswith(("final state", "side effect")) for f in failures)
    with capsys.disabled():
        print(f"\naftersales suites: turn intent accuracy {right}/{total} = {right / total:.3f}; "
              f"final-state {cases_ok}/{len(cases)} = {cases_ok / len(cases):.3f}")
    assert right / total >= 0.97
    assert cases_ok == len(cases)
