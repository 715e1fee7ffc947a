"""Injected id providers, so transcripts replay with the same ids."""

from __future__ import annotations

import itertools
import uuid
from typing import Protocol


class IdProvider(Protocol):
    def new_id(self, prefix: str) -> str: ...


class UuidIds:
    """Random ids for production."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:16]}"


class SequentialIds:
    """Deterministic ids: ``prefix`` + a counter per prefix."""

    def __init__(self, start: int = 1) -> None:
        self._start = start
        self._counters: dict[str, itertools.count[int]] = {}

    def new_id(self, prefix: str) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(self._start))
        return f"{prefix}{next(counter)}"

    def reset(self) -> None:
        """Start every counter again (the benchmark runner does this before each case)."""
        self._counters.clear()
