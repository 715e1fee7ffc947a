"""Readiness: can this process serve a turn? Database, event bus and vector store checked.

Liveness (``/healthz``) only says the process answers; readiness (``/readyz``) says each
dependency answered just now, so a proxy or orchestrator sends traffic only to replicas that
can use it — and none to a replica that is shutting down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    ms: float
    detail: str = ""


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...] = field(default_factory=tuple)
    draining: bool = False

    @property
    def ready(self) -> bool:
        return not self.draining and all(c.ok for c in self.checks)


def _timed(name: str, probe: object) -> Check:
    started = time.perf_counter()
    try:
        detail = probe() or ""  # type: ignore[operator]
        ok = True
    except Exception as exc:  # any failure of a dependency means "not ready", with its reason
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return Check(name, ok, round((time.perf_counter() - started) * 1000, 1), str(detail))


def check_ready(services: Services, *, draining: bool = False) -> Readiness:
    def database() -> str:
        with services.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        return services.db.dialect.name

    def events() -> str:
        services.events.ping()
        return type(services.events).__name__

    def vectors() -> str:
        if services.settings.chroma_url and not services.ephemeral:
            services.retriever.store.client.heartbeat()
            return "chroma server"
        return "embedded"  # opened when a query first needs it; nothing to ask before that

    checks = (_timed("database", database), _timed("events", events), _timed("vectors", vectors))
    return Readiness(checks=checks, draining=draining)
