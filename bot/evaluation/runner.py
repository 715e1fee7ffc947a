"""Replays suites against a target: a fresh shop per case, checks per turn, the final state.

The runner knows nothing of how the bot is built: it drives a :class:`Target` made by
``make_target(shop, now)``, one per shop, and asks an optional ``audit`` for guard
violations in each reply (the same audit runs in process and against a server).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from bot.evaluation.audit import RAW_ID
from bot.evaluation.matching import check_final_state, check_turn
from bot.evaluation.metrics import compute_metrics
from bot.evaluation.results import CaseRecord, CaseRun, Check, Report, SuiteRecord, TurnRecord
from bot.evaluation.outbound import check_outbound
from bot.evaluation.suite import LoadedCase, Suite, Turn
from bot.evaluation.target import Chat, Target
from bot.shop import Shop
from bot.turns import TurnResult

ReplyAudit = Callable[[TurnResult, Shop, str, Sequence[str]], list[str]]
"""``audit(result, shop, buyer_id, said)`` → the guard violations found in ``result.reply``;
``said`` is every buyer message of the case so far."""

TargetFactory = Callable[[Shop, datetime], Target]


def run_suites(
    suites: list[Suite],
    make_target: TargetFactory,
    *,
    repeat: int = 1,
    audit: ReplyAudit | None = None,
    on_case: Callable[[CaseRecord], None] | None = None,
    created: str = "",
    label: str = "",
) -> Report:
    """Run every case ``repeat`` times (pass^k: a case passes when all its runs pass)."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    targets: dict[Path, Target] = {}
    records: list[SuiteRecord] = []
    try:
        for suite in suites:
            target = targets.get(suite.shop.root)
            if target is None:
                target = targets[suite.shop.root] = make_target(suite.shop, suite.cases[0].now)
            cases: list[CaseRecord] = []
            for loaded in suite.cases:
                runs = [run_case(loaded, suite.shop, target, audit) for _ in range(repeat)]
                record = _case_record(suite, loaded, runs)
                cases.append(record)
                if on_case is not None:
                    on_case(record)
            records.append(SuiteRecord(name=suite.name, file=_shown(suite.path),
                                       shop=str(suite.shop.root), cases=cases))
    finally:
        for target in targets.values():
            target.close()
    names = sorted({t.name for t in targets.values()}) or ["none"]
    report = Report(target=", ".join(names), repeat=repeat, created=created, label=label, suites=records)
    report.metrics = compute_metrics(report)
    return report


def run_case(loaded: LoadedCase, shop: Shop, target: Target, audit: ReplyAudit | None = None) -> CaseRun:
    """One replay of one case on a freshly reset target."""
    case = loaded.case
    try:
        target.reset(loaded.now)
        chat = target.open(case.buyer)
    except Exception as exc:  # the target is a boundary: report, keep benchmarking
        return CaseRun(passed=False, turns=[], final_state_passed=False, error=_err(exc))

    turns: list[TurnRecord] = []
    outbox = _OutboundCursor(target, case.buyer)
    for i, turn in enumerate(case.turns):
        record = TurnRecord(index=i, user=turn.label, kind=turn.kind,
                            expect=turn.expect.model_dump(exclude_defaults=True))
        start = time.perf_counter()
        try:
            if turn.kind == "wait":
                _wait(target, turn)
            elif turn.kind == "staff":
                _staff(target, turn, record)
            else:
                _say(chat, turn, record, case.turns[: i + 1], shop, case.buyer, audit)
            record.outbound = outbox.new() if outbox.wanted(turn) else []
        except Exception as exc:  # a crash fails this turn, the rest still run
            record.error = _err(exc)
            record.checks = [Check(key="turn", passed=False, message=record.error)]
        record.wall_ms = (time.perf_counter() - start) * 1000
        if turn.kind != "user" or record.latency_ms <= 0:
            record.latency_ms = record.wall_ms
        if record.error is None:
            record.checks += [
                Check(key=o.key, passed=o.passed, expected=o.expected, message=o.message)
                for o in check_outbound(turn.expect, record.outbound)
            ]
        turns.append(record)

    expected = case.final_state.orders if case.final_state else {}
    try:
        problems = check_final_state(expected, shop.orders, target.orders().orders)
    except Exception as exc:
        problems = [f"orders could not be read: {_err(exc)}"]
    passed = all(t.passed for t in turns) and not problems
    return CaseRun(passed=passed, turns=turns, final_state_passed=not problems,
                   final_state_problems=problems)


def _say(chat: Chat, turn: Turn, record: TurnRecord, so_far: Sequence[Turn], shop: Shop, buyer: str,
         audit: ReplyAudit | None) -> None:
    assert turn.user is not None
    result = chat.say(turn.user)
    if result.also_draft:
        # What the buyer would see: the reply, and the draft for the second question as if
        # an agent accepted it unchanged.
        result = result.model_copy(update={"reply": f"{result.reply}\n{result.also_draft}"})
    record.reply = result.reply
    record.intent = result.intent
    record.fine_intent = result.fine_intent
    record.action = result.action
    record.handoff = result.handoff
    record.flags = list(result.flags)
    record.latency_ms = result.latency_ms
    record.checks = [
        Check(key=o.key, passed=o.passed, expected=o.expected, message=o.message)
        for o in check_turn(turn.expect, reply=result.reply, intent=result.intent,
                            action=result.action, handoff=result.handoff)
    ]
    if audit is not None:
        said = [t.user for t in so_far if t.user is not None]
        record.violations = audit(result, shop, buyer, said)
        ids = [v for v in record.violations if v.startswith(f"{RAW_ID}:")]
        if ids:
            # A buyer never sees an internal id: that fails the turn whatever it expected.
            record.checks.append(Check(key=RAW_ID, passed=False, expected=None, message="；".join(ids)))


def _wait(target: Target, turn: Turn) -> None:
    """The clock moves on and the scheduled work that fell due runs."""
    target.advance(turn.wait_delta)


def _staff(target: Target, turn: Turn, record: TurnRecord) -> None:
    """A workbench action; a refused one changed nothing and is recorded as refused."""
    assert turn.staff is not None
    outcome = target.staff(turn.staff)
    record.reply = outcome.message
    record.action = outcome.action if outcome.done else None
    record.refused = not outcome.done
    if record.refused:
        record.flags = ["refused"]
    record.checks = [
        Check(key=o.key, passed=o.passed, expected=o.expected, message=o.message)
        for o in check_turn(turn.expect, reply=outcome.message, intent="", action=record.action,
                            handoff=False)
    ]


class _OutboundCursor:
    """The unprompted messages to the case's buyer, read on from where the last turn left off.

    A target that cannot tell them (an older server) is only asked when a turn expects them."""

    def __init__(self, target: Target, buyer: str) -> None:
        self._target = target
        self._buyer = buyer
        self._seen = 0
        self._able = callable(getattr(target, "outbound", None))

    def wanted(self, turn: Turn) -> bool:
        return self._able or turn.expect.expects_outbound()

    def new(self) -> list[str]:
        sent = self._target.outbound(self._buyer)
        fresh, self._seen = sent[self._seen:], len(sent)
        return fresh


def _case_record(suite: Suite, loaded: LoadedCase, runs: list[CaseRun]) -> CaseRecord:
    raw = loaded.case.model_dump(mode="json", exclude_defaults=True)
    raw["now"] = loaded.now.isoformat()
    return CaseRecord(suite=suite.name, file=_shown(suite.path), id=loaded.id, buyer=loaded.case.buyer,
                      now=loaded.now.isoformat(), tags=list(loaded.case.tags), raw=raw, runs=runs)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
