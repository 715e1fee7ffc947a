"""Logging in and out through the real app: demo logins only in demo mode, logout revokes
the token it is given, a disabled account's tokens stop working. SQLite on disk."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import DEMO_AGENT, create_app
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
ADMIN = ("boss", "boss-password-1")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The demo shop, built once; each test runs apps over it with its own settings."""
    settings = Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path_factory.mktemp("auth"), demo=False)
    built = build_services(settings, ids=SequentialIds())
    built.accounts.create(*ADMIN, "admin")
    return built


@contextmanager
def running(base: Services, **changes: object) -> Iterator[TestClient]:
    services = dataclasses.replace(base, settings=base.settings.model_copy(update=changes))
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def buyer_token(client: TestClient, buyer_id: str = "b01") -> str:
    response = client.post("/api/auth/demo-login", json={"buyer_id": buyer_id})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["token"])


def agent_token(client: TestClient, username: str, password: str) -> str:
    response = client.post("/api/auth/agent-login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["token"])


def buyer_statuses(client: TestClient, token: str) -> set[int]:
    """What the buyer's routes answer to this token."""
    headers = bearer(token)
    return {
        client.get("/api/me", headers=headers).status_code,
        client.get("/api/orders", headers=headers).status_code,
        client.post("/api/conversations", headers=headers).status_code,
        client.post("/api/chat", json={"text": "在吗"}, headers=headers).status_code,
    }


def agent_statuses(client: TestClient, token: str) -> set[int]:
    headers = bearer(token)
    return {
        client.get("/api/agent/conversations", headers=headers).status_code,
        client.get("/api/agent/suggestions", headers=headers).status_code,
    }


def test_demo_logins_and_the_demo_agent_exist_only_in_demo_mode(base: Services) -> None:
    with running(base, demo=False, demo_login=True) as c:
        assert c.get("/api/auth/demo-buyers").status_code == 403
        refused = c.post("/api/auth/demo-login", json={"buyer_id": "b01"})
        assert refused.status_code == 403 and refused.json()["detail"] == "演示登录未开启"
        assert c.post("/api/auth/agent-login", json=dict(zip(("username", "password"), DEMO_AGENT))).status_code == 401
    assert base.accounts.get(DEMO_AGENT[0]) is None

    with running(base, demo=True) as c:
        buyers = c.get("/api/auth/demo-buyers")
        assert buyers.status_code == 200 and {b["id"] for b in buyers.json()} >= {"b01", "b02"}
        assert buyer_statuses(c, buyer_token(c)) == {200}
        demo_token = agent_token(c, *DEMO_AGENT)
        assert agent_statuses(c, demo_token) == {200}

    with running(base, demo=True, demo_login=False) as c:
        assert c.get("/api/auth/demo-buyers").status_code == 403
        assert c.post("/api/auth/demo-login", json={"buyer_id": "b01"}).status_code == 403

    # Started again outside demo mode over the same database: the demo agent, whose password
    # is printed in the README, is disabled and its token refused.
    with running(base, demo=False) as c:
        assert c.post("/api/auth/agent-login", json=dict(zip(("username", "password"), DEMO_AGENT))).status_code == 401
        assert agent_statuses(c, demo_token) == {401}
    assert base.accounts.get(DEMO_AGENT[0]).disabled  # type: ignore[union-attr]

    with running(base, demo=True) as c:  # and demo mode brings it back
        assert agent_statuses(c, agent_token(c, *DEMO_AGENT)) == {200}


def test_logout_revokes_the_buyers_token(base: Services) -> None:
    with running(base, demo=True) as c:
        token, other = buyer_token(c), buyer_token(c)
        assert buyer_statuses(c, token) == {200}
        out = c.post("/api/auth/logout", headers=bearer(token))
        assert out.status_code == 200 and out.json() == {"ok": True}
        assert buyer_statuses(c, token) == {401}
        assert buyer_statuses(c, other) == {200}  # another login of the same buyer still works
        assert c.post("/api/auth/logout", headers=bearer(token)).status_code == 200  # twice is fine


def test_logout_from_the_page_revokes_the_cookie(base: Services) -> None:
    with running(base, demo=True) as c:
        c.cookies.clear()
        token = c.post("/api/auth/demo-login", json={"buyer_id": "b02"}).json()["token"]
        assert c.get("/api/me").status_code == 200  # the page's cookie
        assert c.post("/api/auth/logout").status_code == 200  # as the pages call it: cookie only
        c.cookies.clear()
        assert buyer_statuses(c, token) == {401}


def test_logout_revokes_the_agents_token_and_only_that_one(base: Services) -> None:
    base.accounts.create("xiaomei", "xiaomei-pass-1", "agent")
    with running(base) as c:
        first = agent_token(c, "xiaomei", "xiaomei-pass-1")
        second = agent_token(c, "xiaomei", "xiaomei-pass-1")
        assert c.post("/api/auth/logout", headers=bearer(first)).status_code == 200
        assert agent_statuses(c, first) == {401}
        assert agent_statuses(c, second) == {200}


def test_a_revoked_token_stays_revoked_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path, demo=True)
    first = build_services(settings, ids=SequentialIds(), ephemeral=True)
    with TestClient(create_app(settings, first)) as c:
        token = buyer_token(c)
        c.post("/api/auth/logout", headers=bearer(token))
    first.db.dispose()
    again = build_services(settings, ids=SequentialIds(), ephemeral=True)
    with TestClient(create_app(settings, again)) as c:
        assert buyer_statuses(c, token) == {401}
        assert buyer_statuses(c, buyer_token(c)) == {200}


def test_disabling_an_agent_invalidates_its_tokens(base: Services) -> None:
    base.accounts.create("xiaoli", "xiaoli-pass-1", "agent")
    with running(base) as c:
        admin = bearer(agent_token(c, *ADMIN))
        token = agent_token(c, "xiaoli", "xiaoli-pass-1")
        assert agent_statuses(c, token) == {200}

        disabled = c.post("/api/admin/agents/xiaoli/disable", headers=admin)
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True
        assert "token_version" not in disabled.json()
        assert agent_statuses(c, token) == {401}
        login = c.post("/api/auth/agent-login", json={"username": "xiaoli", "password": "xiaoli-pass-1"})
        assert login.status_code == 401
        listed = {a["username"]: a["disabled"] for a in c.get("/api/admin/agents", headers=admin).json()}
        assert listed["xiaoli"] is True and listed[ADMIN[0]] is False

        assert c.post("/api/admin/agents/xiaoli/enable", headers=admin).status_code == 200
        assert agent_statuses(c, token) == {401}  # the old token stays dead
        assert agent_statuses(c, agent_token(c, "xiaoli", "xiaoli-pass-1")) == {200}

        assert c.post("/api/admin/agents/nobody/disable", headers=admin).status_code == 404
        own = c.post(f"/api/admin/agents/{ADMIN[0]}/disable", headers=admin)
        assert own.status_code == 409 and "自己" in own.json()["detail"]
        agent = bearer(agent_token(c, "xiaoli", "xiaoli-pass-1"))
        assert c.post(f"/api/admin/agents/{ADMIN[0]}/disable", headers=agent).status_code == 403


def test_a_new_password_signs_the_agent_out(base: Services) -> None:
    base.accounts.create("xiaozhang", "xiaozhang-pass-1", "agent")
    with running(base) as c:
        token = agent_token(c, "xiaozhang", "xiaozhang-pass-1")
        base.accounts.set_password("xiaozhang", "xiaozhang-pass-2")
        assert agent_statuses(c, token) == {401}
        assert agent_statuses(c, agent_token(c, "xiaozhang", "xiaozhang-pass-2")) == {200}
