"""An obedient model for the attack tests: a real OpenAI-compatible HTTP server
(tests/fakes/openai_server.py) scripted per test, and the demo shop's services in ``auto``
mode pointed at it through the ``XIAOER_LLM_MODEL``-style settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services
from tests.fakes.openai_server import FakeOpenAI

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def nothing_left_scripted(fake: FakeOpenAI) -> Iterator[None]:
    """A test that failed half-way must not hand its scripted replies to the next one."""
    yield
    while fake.pending:
        httpx.post(f"{fake.base_url}/chat/completions", json={"model": "fake-model", "messages": []}, timeout=5)


@pytest.fixture(scope="module")
def obedient_services(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Services:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XIAOER_LLM_MODEL", "fake-model")
        env.setenv("OPENAI_BASE_URL", fake.base_url)
        env.setenv("OPENAI_API_KEY", "test-key")
        env.setenv("XIAOER_REPLY_MODE", "auto")
        settings = Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path_factory.mktemp("obedient"), demo_login=False)
    assert settings.llm_model == "fake-model" and settings.reply_mode == "auto"
    return build_services(settings, clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True)
