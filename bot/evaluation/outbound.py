"""Judging ``outbound_*`` expectations over the messages the shop sent unprompted since the
previous turn (joined, white space removed, as replies are compared)."""

from __future__ import annotations

from bot.evaluation.matching import CheckOutcome, squash
from bot.evaluation.suite import Expect


def check_outbound(expect: Expect, sent: list[str]) -> list[CheckOutcome]:
    out: list[CheckOutcome] = []
    flat = squash("\n".join(sent))
    if expect.outbound == "none":
        ok = not sent
        out.append(CheckOutcome("outbound", ok, "none", sent,
                                "" if ok else f"expected nothing sent unprompted, got {sent}"))
    if expect.outbound_contains:
        missing = [s for s in expect.outbound_contains if squash(s) not in flat]
        out.append(CheckOutcome("outbound_contains", not missing, expect.outbound_contains, sent,
                                f"unprompted messages lack {missing} (sent: {sent or 'nothing'})" if missing else ""))
    if expect.outbound_any:
        ok = any(squash(s) in flat for s in expect.outbound_any)
        out.append(CheckOutcome("outbound_any", ok, expect.outbound_any, sent,
                                "" if ok else f"unprompted messages have none of {expect.outbound_any} "
                                              f"(sent: {sent or 'nothing'})"))
    if expect.outbound_not_contains:
        present = [s for s in expect.outbound_not_contains if squash(s) in flat]
        out.append(CheckOutcome("outbound_not_contains", not present, expect.outbound_not_contains, sent,
                                f"unprompted messages contain forbidden {present}" if present else ""))
    return out
