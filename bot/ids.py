"""Injected id providers, so transcripts replay with the same ids."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Protocol


_INTERNAL_ID = re.compile(r"^[A-Za-z]{1,3}(?=[0-9a-f]*[a-f])[0-9a-f]{8,}$")


def internal_id(value: object) -> bool:
    """An id :class:`UuidIds` made (``Rde4c801a08ec47d3``), meaningless to a buyer."""
    return isinstance(value, str) and bool(_INTERNAL_ID.match(value))


class IdProvider(Protocol):
    def new_id(self, prefix: str) -> str: ...


class NumberProvider(Protocol):
    """Short numbers a person can read out (售后单 3, 工单 5), one sequence per ``kind``,
    shared by every process of a deployment (the order store keeps them)."""

    def next_number(self, kind: str) -> int: ...


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


class SequentialNumbers:
    """Numbers counted in this process only (tests)."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}

    def next_number(self, kind: str) -> int:
        return next(self._counters.setdefault(kind, itertools.count(1)))
