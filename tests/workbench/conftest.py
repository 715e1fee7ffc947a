"""Services on the workbench fixture shop (云岭茶庄), over a SQLite file per test."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "outreach_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def make(data_dir: Path, now: datetime = NOW, **settings: object) -> Services:
    return build_services(
        Settings(shop_dir=SHOP, data_dir=data_dir, **settings),  # type: ignore[arg-type]
        clock=FrozenClock(now), ids=SequentialIds(), ephemeral=True,
    )


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make(tmp_path)
