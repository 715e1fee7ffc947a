"""How much drafting with the model runs at once, and for how long.

A turn that wants the model takes a slot. When every slot is taken the turn is refused at
once — its caller answers with the template draft — instead of queueing behind calls that
may hang. A turn holding a slot has one deadline for all its model work, regeneration
included. Slots are counted under a thread lock, so turns drafted in threads (the CLI, the
evaluation runner) and on the server's event loop share one limit.
"""

from __future__ import annotations

import threading

from bot.config import Settings


class ModelLimit:
    def __init__(self, concurrency: int, deadline_s: float) -> None:
        if concurrency <= 0:
            raise ValueError("concurrency must be positive")
        if deadline_s <= 0:
            raise ValueError("deadline_s must be positive")
        self.concurrency = concurrency
        self.deadline_s = deadline_s
        self._in_use = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelLimit:
        return cls(settings.llm_concurrency, settings.llm_deadline_s)

    @property
    def in_use(self) -> int:
        """Slots taken now."""
        return self._in_use

    def try_acquire(self) -> bool:
        """Take a slot if one is free; never waits. Pair a ``True`` with :meth:`release`."""
        with self._lock:
            if self._in_use >= self.concurrency:
                return False
            self._in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self._in_use <= 0:
                raise RuntimeError("release() without a slot taken")
            self._in_use -= 1

    def busy_reason(self) -> str:
        return f"model busy: {self.concurrency} drafts already with the model"

    def deadline_reason(self, *, regenerating: bool = False) -> str:
        during = " while regenerating" if regenerating else ""
        return f"deadline: no model draft within {self.deadline_s:g}s{during}"
