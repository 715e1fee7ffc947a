"""The workbench over HTTP: agents only, Chinese reasons for refusals and bad bodies, one
action per idempotency key, and the page served without anything from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.services import Services

from .conftest import make


@pytest.fixture
def app_services(tmp_path: Path) -> Services:
    return make(tmp_path, demo=True)


@pytest.fixture
def client(app_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(app_services.settings, app_services)) as c:
        yield c


@pytest.fixture
def agent(client: TestClient) -> dict[str, str]:
    response = client.post("/api/auth/agent-login", json={"username": "demo", "password": "demo12345"})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_agents_only(client: TestClient) -> None:
    for method, path in [("GET", "/api/workbench/items"), ("GET", "/api/workbench/actions"),
                         ("POST", "/api/workbench/actions")]:
        response = client.request(method, path, json={"action": "return.agree", "tid": "9009"})
        assert response.status_code == 401 and "登录" in response.json()["detail"]
    buyer = client.post("/api/auth/demo-login", json={"buyer_id": "c02"}).json()["token"]
    client.cookies.clear()
    response = client.get("/api/workbench/items", headers={"Authorization": f"Bearer {buyer}"})
    assert response.status_code == 401


def test_items_then_an_action_then_its_record(client: TestClient, agent: dict[str, str], app_services: Services) -> None:
    items = client.get("/api/workbench/items", headers=agent).json()
    refund = next(i for i in items if i["tid"] == "9009" and i["kind"] == "refund")
    assert refund["kind"] == "refund" and refund["actions"] == ["return.agree", "return.refuse"]
    assert refund["since"].endswith("+08:00")  # the shop's timezone

    body = {"action": "return.agree", "tid": "9009", "refund_id": refund["ref"]}
    response = client.post("/api/workbench/actions", json=body, headers={**agent, "Idempotency-Key": "click-1"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done" and response.json()["staff"] == "demo"
    again = client.post("/api/workbench/actions", json=body, headers={**agent, "Idempotency-Key": "click-1"})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]

    third = client.post("/api/workbench/actions", json=body, headers=agent)
    assert third.status_code == 409
    assert "已完成" in third.json()["detail"]
    log = client.get("/api/workbench/actions", params={"tid": "9009"}, headers=agent).json()
    assert [a["status"] for a in log] == ["refused", "done"]
    notices = [m for m in app_services.outreach.sent_to("c02") if m.kind == "notice"]
    assert len(notices) == 1 and "98.00" in notices[0].text  # the refund notice, once


@pytest.mark.parametrize(
    "body",
    [
        {"action": "order.ship", "tid": "9005", "carrier": "顺丰速运"},
        {"action": "order.teleport", "tid": "9005"},
        {"action": "return.refuse", "tid": "9008", "reason": ""},
        {"tid": "9005"},
        [],
    ],
)
def test_bad_bodies_get_a_chinese_4xx(client: TestClient, agent: dict[str, str], body: object) -> None:
    response = client.post("/api/workbench/actions", json=body, headers=agent)
    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else str(detail)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text


def test_the_action_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/workbench/actions" in schema["paths"] and "/api/workbench/items" in schema["paths"]
    assert "OpenItem" in schema["components"]["schemas"]


def test_the_page_is_served_with_no_outside_resources(client: TestClient) -> None:
    page = client.get("/workbench")
    assert page.status_code == 200 and "售后工作台" in page.text
    for asset in ("/static/workbench.js", "/static/workbench.css"):
        assert client.get(asset).status_code == 200
    for text in (page.text, client.get("/static/workbench.js").text):
        assert "http://" not in text and "https://" not in text
