"""Services on the outreach fixture shop (云岭茶庄) over a SQLite file in a temp dir."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import IdProvider, UuidIds
from bot.services import Services, build_services

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "outreach_shop"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def make(data_dir: Path, now: datetime, *, ids: IdProvider | None = None, **settings: object) -> Services:
    """A server's set-up (random ids, a database file that outlives the process) on a frozen clock."""
    return build_services(
        Settings(shop_dir=SHOP, data_dir=data_dir, **settings),  # type: ignore[arg-type]
        clock=FrozenClock(now), ids=ids or UuidIds(), ephemeral=True,
    )


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make(tmp_path, at("2026-11-21T09:50:00+08:00"))
