"""Chinese names of intents and statuses, from the labels the web pages use."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LABELS_FILE = Path(__file__).resolve().parent.parent / "web" / "static" / "labels.json"


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(LABELS_FILE.read_text(encoding="utf-8"))
    return data


def label(table: str, code: str | None) -> str:
    """The Chinese label of ``code`` in ``table`` (``intent``, ``action``…), else the code."""
    if not code:
        return ""
    return _labels().get(table, {}).get(code, code)
