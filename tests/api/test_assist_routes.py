"""The assist loop over HTTP: hand-back answers, the agent's own text is guarded, the buyer
sees the shop's persona and the console sees the buyer's side panel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.evaluation.audit import raw_ids
from bot.services import Services
from tests.api.conftest import make_services

QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
SOCKS = "亲，这款是纯棉的，现在下单再送一双袜子哦～"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    services = make_services(tmp_path, reply_mode="assist")
    with TestClient(create_app(services.settings, services)) as client:
        yield client, services


def _ask(client: TestClient, login: Callable[..., dict[str, str]], buyer: str = "b04") -> tuple[dict[str, str], dict[str, Any]]:
    headers = login(client, buyer)
    turn = client.post("/api/chat", json={"text": QUESTION}, headers=headers).json()
    return headers, turn


def test_hand_back_makes_the_bot_answer_what_is_open(app, login, agent_login) -> None:
    client, services = app
    agent = agent_login(client, "demo", "demo12345")
    buyer, _ = _ask(client, login)
    cid = services.bot.conversation_for("b04")
    assert client.post(f"/api/agent/conversations/{cid}/takeover", headers=agent).status_code == 200
    copilot = client.post("/api/chat", json={"text": QUESTION, "conversation_id": cid}, headers=buyer).json()
    assert copilot["reply"] == "" and copilot["suggestion_id"]  # a draft for the agent, nothing for the buyer

    assert client.post(f"/api/agent/conversations/{cid}/release", headers=agent).status_code == 200
    seen = client.get(f"/api/conversations/{cid}", headers=buyer).json()
    assert seen["status"] == "bot"
    assert seen["messages"][-1]["role"] == "bot" and "棉" in seen["messages"][-1]["text"]


def test_an_unsupported_offer_is_flagged_before_send_and_an_override_is_recorded(app, login, agent_login) -> None:
    client, services = app
    agent = agent_login(client, "demo", "demo12345")
    buyer, _ = _ask(client, login)
    cid = services.bot.conversation_for("b04")

    check = client.post(f"/api/agent/conversations/{cid}/check", json={"text": SOCKS}, headers=agent).json()
    assert check["flags"] == ["unsupported_offer"] and "袜子" in check["flag_details"][0]
    refused = client.post(f"/api/agent/conversations/{cid}/messages", json={"text": SOCKS}, headers=agent)
    assert refused.status_code == 422 and refused.json()["flags"] == ["unsupported_offer"]
    assert "袜子" not in str(client.get(f"/api/conversations/{cid}", headers=buyer).json()["messages"])

    sent = client.post(f"/api/agent/conversations/{cid}/messages", json={"text": SOCKS, "override": True}, headers=agent)
    assert sent.status_code == 200
    detail = client.get(f"/api/agent/conversations/{cid}", headers=agent).json()
    assert detail["conversation"]["status"] == "agent" and detail["conversation"]["agent"] == "demo"  # writing took it
    notes = [m["text"] for m in detail["messages"] if m["role"] == "system"]
    assert any("demo" in n and "unsupported_offer" in n for n in notes)  # who overrode which flag
    # The buyer never sees the system note, nor the agent's account name.
    seen = client.get(f"/api/conversations/{cid}", headers=buyer).json()
    assert [m["role"] for m in seen["messages"]].count("system") == 0
    assert seen["agent"] == services.shop.info.persona.name
    assert not raw_ids(str(seen), ["demo"])


def test_the_console_sees_the_buyers_side_panel_in_the_shops_time(app, login, agent_login) -> None:
    client, services = app
    agent = agent_login(client, "demo", "demo12345")
    _ask(client, login, "b01")
    cid = services.bot.conversation_for("b01")
    detail = client.get(f"/api/agent/conversations/{cid}", headers=agent).json()
    profile = detail["profile"]
    own = {o.tid for o in services.orders.orders_of("b01")}
    assert profile["nick"] == services.shop.buyers["b01"].nick and profile["vip_level"] == services.shop.buyers["b01"].vip_level
    assert {o["tid"] for o in profile["orders"]} == own and all(o["status_text"] for o in profile["orders"])
    assert all(r["tid"] in own for r in profile["refunds"])
    assert all(o["created"].endswith("+08:00") for o in profile["orders"])  # ISO with the shop's offset
    assert detail["now"].endswith("+08:00")
    assert all(m["created"].endswith("+08:00") for m in detail["messages"])
    row = next(r for r in client.get("/api/agent/conversations", headers=agent).json() if r["id"] == cid)
    assert row["status"] == "waiting" and row["waiting_for_draft"] is True  # a waiting draft is 待接入
