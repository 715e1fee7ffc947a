"""Matching a turn against its expectation, and the final orders against the expected state.

Final-state rules (transcript-format.md): nested maps match partially; a list matches when
it has the same length and each expected element matches a distinct actual element;
strings compare with white space removed; money compares as decimals. Every order not
named must be exactly as seeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Sequence

from bot.evaluation.suite import Expect
from bot.evaluation.vocabulary import canonical
from bot.shop.models import Order

_SPACE = re.compile(r"\s+")

REPLY_KEYS = ("reply_contains", "reply_any", "reply_not_contains")


def squash(text: str) -> str:
    """Text with every white space removed, as the spec compares strings."""
    return _SPACE.sub("", text)


@dataclass(frozen=True)
class CheckOutcome:
    """One expectation key checked on one turn."""

    key: str
    passed: bool
    expected: Any
    actual: Any
    message: str = ""


def check_turn(expect: Expect, *, reply: str, intent: str, action: str | None, handoff: bool) -> list[CheckOutcome]:
    """Every key the expectation gives, checked against what the bot did at this turn."""
    out: list[CheckOutcome] = []
    if expect.intent is not None:
        ok = intent in expect.intent
        out.append(CheckOutcome("intent", ok, _one(expect.intent), intent,
                                "" if ok else f"intent {intent!r}, expected {_one(expect.intent)!r}"))
    if expect.action is not None:
        none = canonical().no_action
        got = action or none
        ok = got in expect.action
        out.append(CheckOutcome("action", ok, _one(expect.action), got,
                                "" if ok else f"action {got!r}, expected {_one(expect.action)!r}"))
    flat = squash(reply)
    if expect.reply_contains:
        missing = [s for s in expect.reply_contains if squash(s) not in flat]
        out.append(CheckOutcome("reply_contains", not missing, expect.reply_contains, reply,
                                f"reply lacks {missing}" if missing else ""))
    if expect.reply_any:
        ok = any(squash(s) in flat for s in expect.reply_any)
        out.append(CheckOutcome("reply_any", ok, expect.reply_any, reply,
                                "" if ok else f"reply has none of {expect.reply_any}"))
    if expect.reply_not_contains:
        present = [s for s in expect.reply_not_contains if squash(s) in flat]
        out.append(CheckOutcome("reply_not_contains", not present, expect.reply_not_contains, reply,
                                f"reply contains forbidden {present}" if present else ""))
    if expect.handoff is not None:
        ok = handoff == expect.handoff
        out.append(CheckOutcome("handoff", ok, expect.handoff, handoff,
                                "" if ok else f"handoff {handoff}, expected {expect.handoff}"))
    return out


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


# --- final state ---------------------------------------------------------------------------


def match_value(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Mismatches of ``actual`` against the partial ``expected`` (empty when it matches)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or '(value)'}: expected a mapping, got {_show(actual)}"]
        problems: list[str] = []
        for key, sub in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                problems.append(f"{where}: missing (expected {_show(sub)})")
            else:
                problems.extend(match_value(sub, actual[key], where))
        return problems
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        return _match_list(expected, actual, path)
    if _scalar_equal(expected, actual):
        return []
    return [f"{path or '(value)'}: expected {_show(expected)}, got {_show(actual)}"]


def _match_list(expected: Sequence[Any], actual: Any, path: str) -> list[str]:
    where = path or "(list)"
    if not isinstance(actual, Sequence) or isinstance(actual, str):
        return [f"{where}: expected a list, got {_show(actual)}"]
    if len(expected) != len(actual):
        return [f"{where}: expected {len(expected)} element(s), got {len(actual)}"]
    fits = [[j for j, a in enumerate(actual) if not match_value(e, a)] for e in expected]
    assigned = _assignment(fits, len(actual))
    problems: list[str] = []
    for i, j in enumerate(assigned):
        if j is None:
            closest = min(actual, key=lambda a: len(match_value(expected[i], a)))
            detail = "; ".join(match_value(expected[i], closest, f"{where}.{i}")[:3])
            problems.append(f"{where}.{i}: no distinct element matches ({detail})" if detail
                            else f"{where}.{i}: its match is taken by another expected element")
    return problems


def _assignment(fits: list[list[int]], n_actual: int) -> list[int | None]:
    """Maximum bipartite matching of expected to actual elements (Kuhn's algorithm)."""
    owner: list[int | None] = [None] * n_actual

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if owner[j] is None or augment(owner[j], seen):  # type: ignore[arg-type]
                owner[j] = i
                return True
        return False

    for i in range(len(fits)):
        augment(i, set())
    result: list[int | None] = [None] * len(fits)
    for j, i in enumerate(owner):
        if i is not None:
            result[i] = j
    return result


def _scalar_equal(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return _as_bool(expected) == _as_bool(actual)
    e_time, a_time = _as_time(expected), _as_time(actual)
    if e_time is not None and a_time is not None:
        return e_time == a_time
    e_num, a_num = _as_decimal(expected), _as_decimal(actual)
    if e_num is not None and a_num is not None:
        return e_num == a_num
    return squash(str(expected)) == squash(str(actual))


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(squash(value))
        except InvalidOperation:
            return None
    return None


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return None
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and "T" in value:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return repr(value)


def order_view(order: Order) -> dict[str, Any]:
    """An order as the plain data the matcher compares (Decimals and datetimes kept)."""
    return order.model_dump(mode="python")


def check_final_state(
    expected: Mapping[str, Mapping[str, Any]],
    seed: Iterable[Order],
    actual: Iterable[Order],
) -> list[str]:
    """Problems with the orders after a case: the named orders against their partial
    expectation, every other order against its seed."""
    seeded = {o.tid: o for o in seed}
    now = {o.tid: o for o in actual}
    problems: list[str] = []
    for tid, partial in expected.items():
        order = now.get(tid)
        if order is None:
            problems.append(f"order {tid}: missing after the case")
            continue
        problems.extend(f"order {tid}: {p}" for p in match_value(partial, order_view(order)))
    for tid, before in seeded.items():
        if tid in expected:
            continue
        after = now.get(tid)
        if after is None:
            problems.append(f"order {tid}: disappeared (not named in final_state)")
        elif after != before:
            changes = "; ".join(diff(order_view(before), order_view(after))[:4])
            problems.append(f"order {tid} changed but is not named in final_state: {changes}")
    for tid in now.keys() - seeded.keys():
        problems.append(f"order {tid}: appeared but is not in the seed")
    return problems


def diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Paths where two plain values differ, each with its old and new value."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[str] = []
        for key in list(before) + [k for k in after if k not in before]:
            out.extend(diff(before.get(key), after.get(key), f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} → {len(after)} element(s)"]
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out.extend(diff(b, a, f"{path}.{i}"))
        return out
    if before == after:
        return []
    return [f"{path}: {_show(before)} → {_show(after)}"]
