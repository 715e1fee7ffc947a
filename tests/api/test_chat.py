"""The buyer API: identity from the token, messages stored first, clear 4xx errors."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app


def test_health_and_openapi_docs(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["shop"] == "棉麻小铺"
    assert client.get("/docs").status_code == 200
    assert "/api/chat" in client.get("/openapi.json").json()["paths"]


def test_chat_needs_a_buyer_token(client: TestClient) -> None:
    client.cookies.clear()
    response = client.post("/api/chat", json={"text": "在吗"})
    assert response.status_code == 401
    assert "登录" in response.json()["detail"]
    forged = client.post("/api/chat", json={"text": "在吗"}, headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401


def test_identity_comes_from_the_token_not_the_body(client: TestClient, login) -> None:
    headers = login(client, "b01")
    response = client.post("/api/chat", json={"text": "你好", "buyer_id": "b02"}, headers=headers)
    assert response.status_code == 422
    assert "buyer_id" in response.text


def test_a_turn_is_answered_and_the_message_stored_first(client: TestClient, login) -> None:
    headers = login(client, "b01")
    cid = client.post("/api/conversations", headers=headers).json()["conversation_id"]
    response = client.post("/api/chat", json={"conversation_id": cid, "text": "我的订单到哪了"}, headers=headers)
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["intent"] in ("logistics", "order_status")
    assert turn["reply"]
    messages = client.get(f"/api/conversations/{cid}", headers=headers).json()["messages"]
    assert [m["role"] for m in messages[:2]] == ["buyer", "bot"]
    assert messages[0]["text"] == "我的订单到哪了"
    assert messages[1]["text"] == turn["reply"]


def test_a_buyer_never_sees_another_buyers_conversation(client: TestClient, login) -> None:
    owner = login(client, "b01")
    cid = client.post("/api/conversations", headers=owner).json()["conversation_id"]
    client.post("/api/chat", json={"conversation_id": cid, "text": "你好"}, headers=owner)
    other = login(client, "b02")
    assert client.get(f"/api/conversations/{cid}", headers=other).status_code == 404
    sneaky = client.post("/api/chat", json={"conversation_id": cid, "text": "你好"}, headers=other)
    assert sneaky.status_code == 404
    orders = client.get("/api/orders", headers=other).json()
    assert orders and {o["buyer"] for o in orders} == {"b02"}


def test_bad_requests_get_reasons(client: TestClient, login) -> None:
    headers = login(client, "b01")
    missing = client.post("/api/chat", json={}, headers=headers)
    assert missing.status_code == 422 and "text" in missing.text
    blank = client.post("/api/chat", json={"text": "   "}, headers=headers)
    assert blank.status_code == 200 and blank.json()["reply"]  # a question back, not an error
    huge = client.post("/api/chat", content=b'{"text": "' + b"a" * 70_000 + b'"}', headers={**headers, "content-type": "application/json"})
    assert huge.status_code == 413 and "上限" in huge.json()["detail"]
    not_json = client.post("/api/chat", content=b"{oops", headers={**headers, "content-type": "application/json"})
    assert not_json.status_code == 422
    unknown = client.post("/api/auth/demo-login", json={"buyer_id": "nobody"})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "没有这位买家"


def test_agent_routes_need_an_agent(client: TestClient, login, agent_login) -> None:
    client.cookies.clear()
    assert client.get("/api/agent/conversations").status_code == 401
    buyer = login(client, "b01")
    assert client.get("/api/agent/conversations", headers=buyer).status_code == 401
    wrong = client.post("/api/auth/agent-login", json={"username": "demo", "password": "wrong-password"})
    assert wrong.status_code == 401
    agent = agent_login(client)
    assert client.get("/api/agent/conversations", headers=agent).status_code == 200
    assert client.get("/api/admin/agents", headers=agent).status_code == 403


def test_eval_routes_exist_only_in_eval_mode(client: TestClient) -> None:
    assert client.post("/api/eval/reset", json={"now": "2026-11-21T10:00:00+08:00"}).status_code == 404


def test_a_draft_waits_for_the_agent_then_reaches_the_buyer(client: TestClient, login, agent_login) -> None:
    buyer = login(client, "b03")
    cid = client.post("/api/conversations", headers=buyer).json()["conversation_id"]
    turn = client.post(
        "/api/chat", json={"conversation_id": cid, "text": "纯棉T恤会不会起球"}, headers=buyer
    ).json()
    assert turn["delivered"] is False and turn["reply"] == "" and turn["suggestion_id"]
    agent = agent_login(client)
    decided = client.post(
        f"/api/agent/suggestions/{turn['suggestion_id']}/edit",
        json={"text": "亲，这款不易起球哦～"},
        headers=agent,
    )
    assert decided.status_code == 200, decided.text
    again = client.post(f"/api/agent/suggestions/{turn['suggestion_id']}/accept", headers=agent)
    assert again.status_code == 409
    messages = client.get(f"/api/conversations/{cid}", headers=buyer).json()["messages"]
    assert messages[-1]["text"] == "亲，这款不易起球哦～"


def test_a_restart_loses_nothing_acknowledged(tmp_path: Path, login, fresh_services) -> None:
    first = fresh_services(tmp_path)
    with TestClient(create_app(first.settings, first)) as c:
        headers = login(c, "b01")
        cid = c.post("/api/conversations", headers=headers).json()["conversation_id"]
        assert c.post("/api/chat", json={"conversation_id": cid, "text": "取消订单"}, headers=headers).status_code == 200
    first.db.dispose()
    second = fresh_services(tmp_path)
    with TestClient(create_app(second.settings, second)) as c:
        headers = login(c, "b01")
        messages = c.get(f"/api/conversations/{cid}", headers=headers).json()["messages"]
        # Beside the turn, the shop may have sent a 催付 for the unpaid 7001 unprompted.
        asked = [i for i, m in enumerate(messages) if m["role"] == "buyer"]
        assert [messages[i]["text"] for i in asked] == ["取消订单"]
        replies = [m["text"] for m in messages[asked[0] + 1:] if m["role"] == "bot"]
        assert any("请问是哪一个" in text for text in replies), replies  # the reply, kept
        assert len({m["id"] for m in messages}) == len(messages)


def test_an_agents_own_message_passes_the_guards_or_needs_an_override(client: TestClient, login, agent_login) -> None:
    buyer = login(client, "b03")
    cid = client.post("/api/conversations", headers=buyer).json()["conversation_id"]
    agent = agent_login(client)
    client.post(f"/api/agent/conversations/{cid}/takeover", headers=agent)
    url = f"/api/agent/conversations/{cid}/messages"
    refused = client.post(url, json={"text": "亲，加我微信 abc123 私下转账更便宜"}, headers=agent)
    assert refused.status_code == 422
    assert "off_platform" in refused.json()["flags"] or "link_or_contact" in refused.json()["flags"]
    texts = [m["text"] for m in client.get(f"/api/conversations/{cid}", headers=buyer).json()["messages"]]
    assert not any("微信" in t for t in texts)  # nothing was sent
    fine = client.post(url, json={"text": "亲，已经帮您备注尽快发货啦"}, headers=agent)
    assert fine.status_code == 200
    forced = client.post(url, json={"text": "亲，这款是最好的", "override": True}, headers=agent)
    assert forced.status_code == 200
    texts = [m["text"] for m in client.get(f"/api/conversations/{cid}", headers=buyer).json()["messages"]]
    assert texts[-2:] == ["亲，已经帮您备注尽快发货啦", "亲，这款是最好的"]
