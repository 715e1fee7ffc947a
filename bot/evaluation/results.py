"""What a benchmark run records: per turn, per case run, per case, per suite — the JSON report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

REPORT_VERSION = 1


class Check(BaseModel):
    key: str
    passed: bool
    expected: Any = None
    message: str = ""


class TurnRecord(BaseModel):
    index: int
    user: str
    kind: Literal["user", "wait", "staff"] = Field("user", description="a buyer message, the clock moving on, or a staff action")
    outbound: list[str] = Field(default_factory=list, description="unprompted messages to the buyer since the previous turn")
    refused: bool | None = Field(default=None, description="staff turns: the workbench refused the action (nothing changed)")
    expect: dict[str, Any] = Field(default_factory=dict)
    reply: str = ""
    intent: str | None = None
    fine_intent: str | None = None
    action: str | None = None
    handoff: bool = False
    flags: list[str] = Field(default_factory=list)
    violations: list[str] = Field(default_factory=list, description="guard violations found in the reply")
    latency_ms: float = Field(0.0, description="the bot's own figure, else the runner's wall time")
    wall_ms: float = 0.0
    checks: list[Check] = Field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


class CaseRun(BaseModel):
    """One replay of a case."""

    passed: bool
    turns: list[TurnRecord]
    final_state_passed: bool
    final_state_problems: list[str] = Field(default_factory=list)
    error: str | None = None


class CaseRecord(BaseModel):
    suite: str
    file: str
    id: str
    buyer: str
    now: str
    tags: list[str] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, description="the case as written, to re-run it")
    runs: list[CaseRun]

    @property
    def key(self) -> str:
        return f"{self.suite}::{self.id}"

    @property
    def passed(self) -> bool:
        """pass^k: every run passed."""
        return bool(self.runs) and all(r.passed for r in self.runs)

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.runs) / len(self.runs) if self.runs else 0.0

    def first_failure(self) -> str:
        """Where the case first failed, in its first failing run ("" when it passed)."""
        for run in self.runs:
            if run.passed:
                continue
            if run.error:
                return run.error
            for turn in run.turns:
                bad = turn.failures()
                if bad:
                    return f"turn {turn.index + 1} 「{turn.user}」: {bad[0].message}"
            if run.final_state_problems:
                return f"final state: {run.final_state_problems[0]}"
        return ""


class SuiteRecord(BaseModel):
    name: str
    file: str
    shop: str
    cases: list[CaseRecord]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)


class Report(BaseModel):
    version: int = REPORT_VERSION
    target: str
    repeat: int = 1
    created: str = ""
    label: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict)
    suites: list[SuiteRecord]

    def cases(self) -> list[CaseRecord]:
        return [c for s in self.suites for c in s.cases]
