"""Failed cases written back as suites one can re-run (``xiaoer eval failed.yaml``)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from bot.evaluation.results import CaseRecord, Report


def failed_suites(report: Report, out_dir: Path) -> list[dict[str, Any]]:
    """One suite per shop holding every failed case, its shop path relative to ``out_dir``."""
    by_shop: dict[str, list[CaseRecord]] = defaultdict(list)
    for suite in report.suites:
        for case in suite.cases:
            if not case.passed:
                by_shop[suite.shop].append(case)
    suites: list[dict[str, Any]] = []
    for shop, cases in by_shop.items():
        taken: set[str] = set()
        written: list[dict[str, Any]] = []
        for case in cases:
            raw = dict(case.raw) or {"id": case.id, "buyer": case.buyer, "turns": []}
            raw["now"] = case.now
            if raw["id"] in taken:  # two suites may use the same id
                raw["id"] = f"{case.suite}/{raw['id']}"
            taken.add(raw["id"])
            written.append(_ordered(raw))
        names = sorted({c.suite for c in cases})
        suites.append({
            "suite": "failed: " + ", ".join(names),
            "shop": Path(os.path.relpath(shop, out_dir.resolve())).as_posix(),
            "cases": written,
        })
    return suites


def write_failed(report: Report, path: Path) -> list[Path]:
    """Write the failed cases to ``path`` (``failed-2.yaml``… when several shops failed)."""
    suites = failed_suites(report, path.parent)
    written: list[Path] = []
    for i, suite in enumerate(suites):
        target = path if i == 0 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            yaml.safe_dump(suite, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
        )
        written.append(target)
    return written


def _ordered(raw: dict[str, Any]) -> dict[str, Any]:
    first = ["id", "buyer", "now", "tags", "turns", "final_state"]
    return {k: raw[k] for k in first if k in raw} | {k: v for k, v in raw.items() if k not in first}
