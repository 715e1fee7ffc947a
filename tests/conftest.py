"""Fixtures shared by every test package: shops, clocks, temp data directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.clock import FrozenClock
from bot.ids import SequentialIds
from bot.shop import Shop, load_shop
from bot.storage.db import Base, create_all, make_engine

ROOT = Path(__file__).resolve().parent.parent
DEMO_SHOP_DIR = ROOT / "knowledge"
MINI_SHOP_DIR = Path(__file__).parent / "fixtures" / "mini_shop"
DEMO_NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture(autouse=True)
def no_real_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches a real model provider: a client not pointed at a fake server started
    by the test fails to connect (port 9), and no model or key leaks in from the shell."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    for name in ("OPENAI_API_KEY", "XIAOER_LLM_MODEL", "XIAOER_EMBEDDING_MODEL", "XIAOER_REPLY_MODE"):
        monkeypatch.delenv(name, raising=False)


TEST_SECRET_KEY = "xiaoer-tests-only-signing-key-0123456789"


@pytest.fixture(scope="session", autouse=True)
def test_secret_key_and_no_rate_limits() -> Iterator[str]:
    """Settings built anywhere in the tests sign with a test key and count no rate limits
    (a test that checks limits or the missing-key refusal says so); demo mode, keys and
    limits set in the shell do not leak in. Session-wide, so module fixtures see it too."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith(("XIAOER_DEMO", "XIAOER_RATE_LIMIT"))]:
            mp.delenv(name)
        mp.setenv("XIAOER_SECRET_KEY", TEST_SECRET_KEY)
        mp.setenv("XIAOER_RATE_LIMITS", "false")
        yield TEST_SECRET_KEY


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


# Storage tests run on SQLite in memory and on disk, and on PostgreSQL when
# XIAOER_TEST_DATABASE_URL names one (CI starts a server and sets it).
POSTGRES_URL = os.environ.get("XIAOER_TEST_DATABASE_URL")
DATABASES = ["memory", "file"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(params=DATABASES)
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from _engine(request.param, tmp_path)


@pytest.fixture(params=[d for d in DATABASES if d != "memory"])
def shared_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database several connections can use at once (in-memory SQLite is one shared
    connection, so races there prove nothing)."""
    yield from _engine(request.param, tmp_path)


def _engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "memory":
        url = "sqlite://"
    elif kind == "file":
        url = f"sqlite:///{tmp_path / 'xiaoer.db'}"
    else:
        url = POSTGRES_URL or ""
    engine = make_engine(url)
    if kind == "postgresql":  # a clean database for every test
        create_all(engine)
        Base.metadata.drop_all(engine)
    yield engine
    engine.dispose()
