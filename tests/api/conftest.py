"""A real app on the demo shop: SQLite file and chroma in a temp dir, offline drafter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def make_services(data_dir: Path, **overrides: object) -> Services:
    """The demo shop in demo mode (demo buyers and the demo agent); the signing key and the
    lifted rate limits come from the session fixture in tests/conftest.py."""
    options: dict[str, object] = {"demo": True, **overrides}
    settings = Settings(shop_dir=KNOWLEDGE, data_dir=data_dir, **options)  # type: ignore[arg-type]
    return build_services(settings, clock=FrozenClock(NOW), ids=SequentialIds())


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    return make_services(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as c:
        yield c


@pytest.fixture
def login() -> Callable[[TestClient, str], dict[str, str]]:
    return _login


@pytest.fixture
def agent_login() -> Callable[..., dict[str, str]]:
    return _agent_login


@pytest.fixture
def fresh_services() -> Callable[..., Services]:
    return make_services


def _login(client: TestClient, buyer_id: str) -> dict[str, str]:
    response = client.post("/api/auth/demo-login", json={"buyer_id": buyer_id})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each call names its caller explicitly
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _agent_login(client: TestClient, username: str = "demo", password: str = "demo12345") -> dict[str, str]:
    response = client.post("/api/auth/agent-login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}
