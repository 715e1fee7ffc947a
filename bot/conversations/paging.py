"""Keyset pages of the conversation queue: a page and the cursor of the next one.

A cursor names where the previous page stopped (the part of the queue and the sort keys of
its last row), so the next page starts there with an index seek, however long the queue. It
travels as an opaque URL-safe string; one that does not decode is the caller's mistake.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.conversations.store import Conversation

Part = Literal["waiting", "others", "others-start"]
_PARTS = ("waiting", "others", "others-start")


class BadCursor(ValueError):
    """A cursor string that no page of this queue gave out."""


@dataclass(frozen=True)
class Cursor:
    part: Part  # waiting: inside the waiting ones; others: inside the rest; others-start: the rest from its top
    waiting_since: datetime | None = None
    updated: datetime | None = None
    n: int = 0

    def encode(self) -> str:
        doc = {
            "p": self.part,
            "w": self.waiting_since.isoformat() if self.waiting_since else None,
            "u": self.updated.isoformat() if self.updated else None,
            "n": self.n,
        }
        raw = json.dumps(doc, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            doc = json.loads(raw)
            part = doc["p"]
            if part not in _PARTS or not isinstance(doc["n"], int):
                raise BadCursor(text)
            waiting = datetime.fromisoformat(doc["w"]) if doc["w"] else None
            updated = datetime.fromisoformat(doc["u"]) if doc["u"] else None
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise BadCursor(text) from exc
        if part == "waiting" and (waiting is None or updated is None):
            raise BadCursor(text)
        if part == "others" and updated is None:
            raise BadCursor(text)
        for value in (waiting, updated):
            if value is not None and value.tzinfo is None:
                raise BadCursor(text)
        return cls(part, waiting, updated, doc["n"])


@dataclass(frozen=True)
class Page:
    items: list[Conversation]
    next: Cursor | None
