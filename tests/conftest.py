"""Fixtures shared by every test package: shops, clocks, temp data directories."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.ids import SequentialIds
from bot.shop import Shop, load_shop

ROOT = Path(__file__).resolve().parent.parent
DEMO_SHOP_DIR = ROOT / "knowledge"
MINI_SHOP_DIR = Path(__file__).parent / "fixtures" / "mini_shop"
DEMO_NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture(scope="session")
def demo_shop() -> Shop:
    return load_shop(DEMO_SHOP_DIR)


@pytest.fixture(scope="session")
def mini_shop() -> Shop:
    """A three-product tea shop: the spec's own example, to prove any shop works."""
    return load_shop(MINI_SHOP_DIR)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEMO_NOW)


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()
