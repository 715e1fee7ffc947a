"""The ``Drafter`` seam: turns a request and its facts into reply text."""

from __future__ import annotations

from typing import Any, Protocol

from bot.drafting.facts import Facts


class Drafter(Protocol):
    name: str

    def draft(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> str:
        """Reply text for ``req`` grounded in ``facts``; raise RetryModel when it cannot."""
        ...
