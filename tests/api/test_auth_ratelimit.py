"""Rate limits through the real app, with low limits configured: agent login per username
and per client IP, demo login per IP, chat per buyer; 429 with a Chinese reason and
Retry-After. Eval mode lifts them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from bot.api.app import create_app
from bot.api.ratelimit import LimitsRateLimiter, NoRateLimits, build_rate_limiter
from bot.config import Settings
from bot.errors import ConfigError
from bot.ids import SequentialIds
from bot.services import Services, build_services

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
LOW = {
    "rate_limits": True,
    "rate_limit_login": "2/minute",
    "rate_limit_login_ip": "6/minute",
    "rate_limit_demo_login": "3/minute",
    "rate_limit_chat": "2/minute",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Services:
    settings = Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path_factory.mktemp("limits"), demo=True)
    built = build_services(settings, ids=SequentialIds())
    for name in ("alice", "bob", "carol"):
        built.accounts.create(name, f"{name}-password", "agent")
    return built


@contextmanager
def running(base: Services, *, eval_mode: bool = False, **changes: object) -> Iterator[TestClient]:
    """A fresh app (so fresh in-memory counters) over the shared components."""
    settings = base.settings.model_copy(update={**LOW, **changes})
    services = dataclasses.replace(base, settings=settings, eval_mode=eval_mode)
    with TestClient(create_app(settings, services)) as client:
        yield client


def login(client: TestClient, username: str, password: str) -> Response:
    response = client.post("/api/auth/agent-login", json={"username": username, "password": password})
    client.cookies.clear()
    return response


def assert_limited(response: Response, reason: str) -> None:
    assert response.status_code == 429, response.text
    detail = response.json()["detail"]
    assert reason in detail and "秒后再试" in detail
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_failed_logins_are_limited_per_username(base: Services) -> None:
    with running(base) as c:
        assert login(c, "alice", "wrong-1").status_code == 401
        assert login(c, "alice", "wrong-2").status_code == 401
        # the right password no longer helps once the username is locked for a while
        assert_limited(login(c, "alice", "alice-password"), "登录失败次数过多")
        assert_limited(login(c, " ALICE ", "wrong-3"), "登录失败次数过多")
        assert login(c, "bob", "bob-password").status_code == 200  # other accounts are untouched


def test_a_successful_login_clears_the_failures(base: Services) -> None:
    with running(base) as c:
        for _ in range(2):
            assert login(c, "bob", "wrong").status_code == 401
            assert login(c, "bob", "bob-password").status_code == 200


def test_login_attempts_are_limited_per_client_ip(base: Services) -> None:
    with running(base, rate_limit_login="100/minute") as c:
        for i in range(6):
            assert login(c, f"guess-{i}", "whatever-pw").status_code == 401
        assert_limited(login(c, "carol", "carol-password"), "登录尝试过于频繁")


def test_demo_login_is_limited_per_client_ip(base: Services) -> None:
    with running(base) as c:
        for buyer in ("b01", "b02", "b03"):
            assert c.post("/api/auth/demo-login", json={"buyer_id": buyer}).status_code == 200
        assert_limited(c.post("/api/auth/demo-login", json={"buyer_id": "b04"}), "登录尝试过于频繁")


def test_chat_is_limited_per_buyer_and_the_refused_message_is_not_stored(base: Services) -> None:
    with running(base) as c:
        tokens = {}
        for buyer in ("b01", "b02"):
            tokens[buyer] = {"Authorization": f"Bearer {c.post('/api/auth/demo-login', json={'buyer_id': buyer}).json()['token']}"}
        c.cookies.clear()
        cid = c.post("/api/conversations", headers=tokens["b01"]).json()["conversation_id"]
        for text in ("你好", "在吗"):
            assert c.post("/api/chat", json={"conversation_id": cid, "text": text}, headers=tokens["b01"]).status_code == 200
        third = c.post("/api/chat", json={"conversation_id": cid, "text": "第三条"}, headers=tokens["b01"])
        assert_limited(third, "消息发送过于频繁")
        texts = [m["text"] for m in c.get(f"/api/conversations/{cid}", headers=tokens["b01"]).json()["messages"]]
        assert "第三条" not in texts
        assert c.post("/api/chat", json={"text": "你好"}, headers=tokens["b02"]).status_code == 200
        # no token is 401, not 429: the limit counts buyers, not anonymous requests
        assert c.post("/api/chat", json={"text": "你好"}).status_code == 401


def test_eval_mode_and_the_switch_lift_every_limit(base: Services) -> None:
    for options in ({"eval_mode": True}, {"rate_limits": False}):
        with running(base, **options) as c:  # type: ignore[arg-type]
            for _ in range(5):
                assert c.post("/api/auth/demo-login", json={"buyer_id": "b01"}).status_code == 200
            for _ in range(4):
                assert login(c, "carol", "wrong").status_code == 401


def test_bad_limit_settings_are_refused_at_start_up() -> None:
    with pytest.raises(ConfigError, match="5 per hour please"):
        LimitsRateLimiter({"chat": "5 per hour please"})
    with pytest.raises(ConfigError, match="bogus://"):
        LimitsRateLimiter({"chat": "5/minute"}, "bogus://nowhere")
    assert isinstance(build_rate_limiter(Settings(rate_limits=True)), LimitsRateLimiter)
    assert isinstance(build_rate_limiter(Settings(rate_limits=True), lifted=True), NoRateLimits)
