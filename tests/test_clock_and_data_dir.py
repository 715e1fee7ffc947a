"""A demo that stays alive (an offset clock from demo_now) and data kept per shop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock, OffsetClock
from bot.config import Settings
from bot.services import build_services

ROOT = Path(__file__).resolve().parent.parent
DEMO_NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def test_the_offset_clock_starts_at_its_reference_and_advances() -> None:
    base = FrozenClock(datetime.fromisoformat("2030-05-01T08:00:00+00:00"))
    clock = OffsetClock(DEMO_NOW, DEMO_NOW.tzinfo, base=base)
    assert clock.now() == DEMO_NOW
    base.advance(timedelta(minutes=5))
    assert clock.now() == DEMO_NOW + timedelta(minutes=5) and clock.now().utcoffset() == timedelta(hours=8)
    with pytest.raises(ValueError):
        OffsetClock(datetime(2026, 11, 21))


def test_demo_mode_runs_the_shop_clock_from_demo_now(tmp_path: Path) -> None:
    services = build_services(Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, demo=True), ephemeral=True)
    assert isinstance(services.clock, OffsetClock)
    assert abs(services.clock.now() - DEMO_NOW) < timedelta(minutes=5)
    # the demo shop's promotions are running at that time, whatever the day today
    assert any(p.start <= services.clock.now() <= p.end for p in services.shop.promotions)


def test_each_shop_gets_its_own_data_directory_unless_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XIAOER_DATA_DIR", raising=False)
    demo = Settings(shop_dir=ROOT / "knowledge")
    mini = Settings(shop_dir=ROOT / "tests" / "fixtures" / "mini_shop")
    assert demo.data_dir == Path("var") / "knowledge" and mini.data_dir == Path("var") / "mini_shop"
    assert demo.sqlalchemy_url != mini.sqlalchemy_url
    monkeypatch.setenv("XIAOER_DATA_DIR", "/tmp/shared-data")
    assert Settings(shop_dir=ROOT / "tests" / "fixtures" / "mini_shop").data_dir == Path("/tmp/shared-data")
