"""What the router's tests share: the demo shop's buyer b01 with a cancellation asked."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import Services, build_services
from bot.turns import TurnResult

ROOT = Path(__file__).resolve().parents[2]

AfterCancelAsked = Callable[[str], tuple[Services, TurnResult]]


@pytest.fixture
def after_cancel_asked() -> AfterCancelAsked:
    """A function: on fresh services, buyer b01 asks to cancel the unpaid order 7001, then
    answers the given text; it returns the services and the answer's result."""

    def run(answer: str) -> tuple[Services, TurnResult]:
        services = build_services(
            Settings(shop_dir=ROOT / "knowledge", data_dir=Path(tempfile.mkdtemp()), database_url=None),
            eval_mode=True, ephemeral=True,
        )
        services.clock.set(datetime.fromisoformat("2026-11-20T10:00:00+08:00"))  # type: ignore[attr-defined]
        cid = services.bot.start_conversation("b01")
        asked = services.bot.handle(cid, "b01", "取消7001")
        assert "确认要取消订单 7001" in asked.reply
        return services, services.bot.handle(cid, "b01", answer)

    return run
