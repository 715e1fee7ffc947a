"""How agents treated the bot's drafts, per intent: the ``xiaoer report suggestions`` view.

The figures come from :meth:`bot.suggestions.service.SuggestionService.stats` (acceptance
rate = sent unchanged / decided by an agent; edit rate; rejection rate; mean Levenshtein
distance of edits; rejection reasons with counts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

ALL = "_all"


def load_feedback(settings: Any) -> dict[str, Any]:
    """Per-intent figures of the stored suggestions; raises FileNotFoundError when the
    SQLite database does not exist (rather than creating an empty one)."""
    from bot.clock import SystemClock
    from bot.ids import UuidIds
    from bot.storage.db import make_engine
    from bot.suggestions.service import SuggestionService

    url = settings.sqlalchemy_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
    engine = make_engine(url)
    try:
        return SuggestionService(engine, SystemClock(), UuidIds()).stats()
    finally:
        engine.dispose()


def _share(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def feedback_table(figures: dict[str, Any]) -> Table:
    table = Table(title="agent feedback on drafted replies", title_justify="left")
    for col in ("intent", "drafts", "decided", "accepted", "edited", "rejected",
                "mean edit distance", "rejection reasons"):
        table.add_column(col, justify="left" if col in ("intent", "rejection reasons") else "right")
    rows = [(k, v) for k, v in figures.items() if k != ALL]
    if ALL in figures:
        rows.append(("(all)", figures[ALL]))
    for intent, row in rows:
        decided = row.get("accepted", 0) + row.get("edited", 0) + row.get("rejected", 0)
        distance = row.get("mean_edit_distance")
        reasons = row.get("rejection_reasons") or {}
        table.add_row(
            intent, str(row.get("total", 0)), str(decided),
            _share(row.get("acceptance_rate")), _share(row.get("edit_rate")), _share(row.get("rejection_rate")),
            "—" if distance is None else f"{distance:.1f}",
            "; ".join(f"{k or '(none)'} ×{n}" for k, n in list(reasons.items())[:4]),
        )
    if not rows:
        table.add_row("(no suggestions yet)", "0", "0", "—", "—", "—", "—", "")
    return table
