"""The canonical intent and action names of the transcript format, read from a data file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot import yamlfiles


_FILE = Path(__file__).parent / "data" / "canonical.yaml"


@dataclass(frozen=True)
class Vocabulary:
    intents: tuple[str, ...]
    actions: tuple[str, ...]
    no_action: str

    @property
    def expectable_actions(self) -> tuple[str, ...]:
        """Actions an expectation may name, ``none`` included."""
        return (*self.actions, self.no_action)


@lru_cache(maxsize=1)
def canonical() -> Vocabulary:
    data = yamlfiles.read(_FILE)
    return Vocabulary(
        intents=tuple(data["intents"]),
        actions=tuple(data["actions"]),
        no_action=str(data["no_action"]),
    )
