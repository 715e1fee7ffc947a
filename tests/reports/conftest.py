"""Two scripted days of the demo shop, played once through the real bot on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.reports.service import ReportService
from bot.services import Services
from tests.reports.shop_day import ShopDay, demo_services, play_two_days


@pytest.fixture(scope="session")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopDay]:
    services = demo_services(tmp_path_factory.mktemp("shop-days"))
    yield play_two_days(services)


@pytest.fixture(scope="session")
def played_services(played: ShopDay) -> Services:
    return played.services


@pytest.fixture
def reports(played_services: Services) -> ReportService:
    s = played_services
    return ReportService(s.db, s.shop, s.orders, s.clock)
