"""Tokens cannot be forged: no default key outside demo mode, and the once-published key is
refused both as a setting and as a signature. Through the real app on a SQLite file."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.api.app import create_app
from bot.api.auth import MIN_SECRET_CHARS, InsecureSecretKey
from bot.cli import app as cli
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
OLD_DEFAULT_KEY = "xiaoer-dev-secret-change-me"  # was the default in bot/config.py
REAL_KEY = "a-real-key-for-this-shop-only-7f3c9d2e1b"
ADMIN = ("boss", "boss-password-1")


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    settings = Settings(shop_dir=KNOWLEDGE, data_dir=tmp_path_factory.mktemp("tokens"), secret_key=REAL_KEY)
    built = build_services(settings, ids=SequentialIds())
    built.accounts.create(*ADMIN, "admin")
    return built


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as c:
        yield c


def with_settings(services: Services, **changes: object) -> Services:
    """The same components (database, shop, index) under other settings."""
    if isinstance(changes.get("secret_key"), str):
        changes["secret_key"] = SecretStr(changes["secret_key"])  # type: ignore[arg-type]
    return dataclasses.replace(services, settings=services.settings.model_copy(update=changes))


def forged(payload: dict[str, object], key: str = OLD_DEFAULT_KEY) -> dict[str, str]:
    token = URLSafeTimedSerializer(key, salt="xiaoer-auth").dumps(payload)
    return {"Authorization": f"Bearer {token}"}


def test_a_token_forged_with_the_old_default_key_is_refused(client: TestClient) -> None:
    client.cookies.clear()
    old_format = forged({"k": "agent", "sub": ADMIN[0], "r": "admin"})
    new_format = forged({"k": "agent", "sub": ADMIN[0], "r": "admin", "v": 0, "jti": "x" * 22})
    buyer = forged({"k": "buyer", "sub": "b01", "r": "buyer", "v": 0, "jti": "y" * 22})
    for headers in (old_format, new_format):
        refused = client.get("/api/admin/agents", headers=headers)
        assert refused.status_code == 401
        assert "登录" in refused.json()["detail"]
    assert client.get("/api/me", headers=buyer).status_code == 401

    login = client.post("/api/auth/agent-login", json={"username": ADMIN[0], "password": ADMIN[1]})
    client.cookies.clear()
    assert login.status_code == 200
    real = {"Authorization": f"Bearer {login.json()['token']}"}
    assert client.get("/api/admin/agents", headers=real).status_code == 200


def test_a_token_in_the_old_format_is_refused_even_with_the_real_key(client: TestClient) -> None:
    # Tokens from before revocation carried no id, so they could never be revoked.
    client.cookies.clear()
    headers = forged({"k": "agent", "sub": ADMIN[0], "r": "admin"}, key=REAL_KEY)
    assert client.get("/api/admin/agents", headers=headers).status_code == 401


def test_a_tampered_token_is_refused(client: TestClient) -> None:
    login = client.post("/api/auth/agent-login", json={"username": ADMIN[0], "password": ADMIN[1]})
    client.cookies.clear()
    token = login.json()["token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get("/api/admin/agents", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_the_app_refuses_to_start_without_a_key_outside_demo_mode(services: Services) -> None:
    for missing in (None, "", "   "):
        with pytest.raises(InsecureSecretKey) as refused:
            create_app(services=with_settings(services, secret_key=missing, demo=False))
        reason = str(refused.value)
        assert "XIAOER_SECRET_KEY" in reason and "XIAOER_DEMO" in reason
        assert "拒绝启动" in reason and "refusing to start" in reason


def test_a_short_key_and_the_published_key_are_refused_in_any_mode(services: Services) -> None:
    for demo in (False, True):
        with pytest.raises(InsecureSecretKey, match=str(MIN_SECRET_CHARS)):
            create_app(services=with_settings(services, secret_key="short-key", demo=demo))
        with pytest.raises(InsecureSecretKey, match="公开"):
            create_app(services=with_settings(services, secret_key=OLD_DEFAULT_KEY, demo=demo))


def test_demo_mode_without_a_key_warns_and_signs_with_a_throwaway_key(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    demo = with_settings(services, secret_key=None, demo=True)
    with caplog.at_level(logging.WARNING, logger="bot.api.app"):
        first, second = create_app(services=demo), create_app(services=demo)
    assert any("XIAOER_SECRET_KEY" in r.getMessage() and "演示模式" in r.getMessage() for r in caplog.records)
    with TestClient(first) as a, TestClient(second) as b:
        token = a.post("/api/auth/demo-login", json={"buyer_id": "b01"}).json()["token"]
        a.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
        assert a.get("/api/me", headers=headers).status_code == 200
        # each app has its own random key: nobody else can sign for it
        assert b.get("/api/me", headers=headers).status_code == 401
        # and the published key signs nothing there either
        assert a.get("/api/me", headers=forged({"k": "buyer", "sub": "b01", "r": "buyer", "v": 0, "jti": "z" * 22})).status_code == 401


def test_eval_mode_starts_without_a_key(services: Services) -> None:
    benchmark = dataclasses.replace(with_settings(services, secret_key=None, demo=False), eval_mode=True)
    with TestClient(create_app(services=benchmark)) as c:
        assert c.get("/healthz").status_code == 200
        assert c.post("/api/auth/demo-login", json={"buyer_id": "b01"}).status_code == 200


def test_serve_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"XIAOER_SECRET_KEY": "", "XIAOER_DEMO": "false", "XIAOER_DATA_DIR": str(tmp_path)}
    result = runner.invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 1
    assert "XIAOER_SECRET_KEY" in result.output and "XIAOER_DEMO=true" in result.output
    short = runner.invoke(cli, ["serve", "--port", "1"], env={**env, "XIAOER_SECRET_KEY": "too-short"})
    assert short.exit_code == 1 and str(MIN_SECRET_CHARS) in short.output
    assert not list(tmp_path.iterdir())  # refused before building anything
