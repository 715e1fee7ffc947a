"""The agent API over HTTP: list, read, accept, edit, reject; the second decision gets 409;
a text failing the guards gets 422 with its flags until the agent overrides."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.shop.models import Shop
from bot.storage.db import make_engine
from bot.suggestions.guard import ShopReplyGuard
from bot.suggestions.service import SuggestionService
from tests.suggestions.helpers import draft

api = pytest.importorskip("bot.api.app")


class RecordingBus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))


@pytest.fixture
def world(tmp_path: Path, mini_shop: Shop, clock: FrozenClock, ids: SequentialIds) -> SimpleNamespace:
    from bot.accounts import AccountStore
    from bot.api.auth import Principal
    from bot.conversations.sql import SqlConversationStore

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    conversations = SqlConversationStore(engine, tz=mini_shop.tz)
    conversations.create("b01", clock.now(), "c1")
    accounts = AccountStore(engine)
    for name in ("alice", "bob"):
        accounts.create(name, "pw-" + name * 3, "agent")
    settings = Settings(data_dir=tmp_path, demo_login=False)
    services = SimpleNamespace(
        settings=settings, shop=mini_shop, clock=clock, ids=ids, db=engine, accounts=accounts,
        conversations=conversations, events=RecordingBus(), eval_mode=False,
        suggestions=SuggestionService(
            engine, clock, ids, guard=ShopReplyGuard(mini_shop, lambda cid: c.buyer_id if (c := conversations.get(cid)) else None)
        ),
    )
    from bot.flows.templates import FlowTemplates
    from bot.suggestions.assist import AssistDesk

    services.bot = SimpleNamespace(desk=AssistDesk(
        conversations, services.suggestions, services.events, ids, clock, FlowTemplates(mini_shop),
        agent_name=mini_shop.info.persona.name,
    ))
    app = api.create_app(settings, services=services)  # type: ignore[arg-type]
    client = TestClient(app)
    tokens = {n: app.state.signer.issue(Principal("agent", n, "agent")) for n in ("alice", "bob")}
    return SimpleNamespace(client=client, services=services, auth=lambda n: {"authorization": f"Bearer {tokens[n]}"})


def test_agent_accepts_a_draft_and_the_buyer_gets_it_as_the_agents_message(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft(), auto_sent=False)
    listed = world.client.get("/api/agent/suggestions?status=pending", headers=world.auth("alice")).json()
    assert [x["id"] for x in listed] == [s.id]
    assert world.client.get(f"/api/agent/suggestions/{s.id}", headers=world.auth("alice")).json()["facts"]
    r = world.client.post(f"/api/agent/suggestions/{s.id}/accept", headers=world.auth("alice"))
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    messages = world.services.conversations.messages("c1")
    assert messages[-1].text == s.draft and messages[-1].author == "alice" and messages[-1].role == "bot"
    assert world.services.events.events[-1][0] == "suggestion.decided"


def test_the_second_agent_gets_409(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft(), auto_sent=False)
    first = world.client.post(f"/api/agent/suggestions/{s.id}/edit", json={"text": "亲，黑色XL码有货哦"}, headers=world.auth("alice"))
    second = world.client.post(f"/api/agent/suggestions/{s.id}/reject", json={"reason": "不对"}, headers=world.auth("bob"))
    assert first.status_code == 200 and first.json()["edit_distance"] > 0
    assert second.status_code == 409
    assert len(world.services.conversations.messages("c1")) == 1


def test_rejecting_sends_nothing_and_unknown_ids_are_404(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft(), auto_sent=False)
    r = world.client.post(f"/api/agent/suggestions/{s.id}/reject", json={"reason": "尺码建议不准"}, headers=world.auth("bob"))
    assert r.status_code == 200 and r.json()["reject_reason"] == "尺码建议不准"
    assert world.services.conversations.messages("c1") == []
    assert world.client.post("/api/agent/suggestions/nope/accept", headers=world.auth("bob")).status_code == 404


def test_suggestions_need_an_agent_login(world: SimpleNamespace) -> None:
    assert world.client.get("/api/agent/suggestions").status_code == 401


def test_an_edit_failing_the_guards_gets_422_with_the_flags_and_sends_nothing(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft(), auto_sent=False)
    url = f"/api/agent/suggestions/{s.id}/edit"
    r = world.client.post(url, json={"text": "亲，黑色XL码只要9.9元，详情见 www.evil-shop.cn"}, headers=world.auth("alice"))
    assert r.status_code == 422
    body = r.json()
    assert body["flags"] == ["link_or_contact", "unsupported_number"]
    assert "无依据的数字（9.9）" in body["detail"] and "www.evil-shop.cn" in body["detail"]
    assert world.services.conversations.messages("c1") == []
    assert world.services.suggestions.get(s.id).status == "pending"  # type: ignore[union-attr]


def test_sending_again_with_override_delivers_and_records_who_and_when(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft(), auto_sent=False)
    text = "亲，黑色XL码只要9.9元"
    r = world.client.post(f"/api/agent/suggestions/{s.id}/edit", json={"text": text, "override": True}, headers=world.auth("alice"))
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "edited" and done["override_by"] == "alice" and done["override_at"]
    assert done["override_flags"] == ["unsupported_number: 9.9"]
    assert world.services.conversations.messages("c1")[-1].text == text


def test_accepting_a_flagged_draft_needs_override(world: SimpleNamespace) -> None:
    s = world.services.suggestions.create("c1", "t1", "stock", draft("亲，这是最好的T恤", passed=False), auto_sent=False)
    url = f"/api/agent/suggestions/{s.id}/accept"
    refused = world.client.post(url, headers=world.auth("bob"))
    assert refused.status_code == 422 and refused.json()["flags"] == ["ad_law"]
    assert world.client.get(f"/api/agent/suggestions/{s.id}", headers=world.auth("bob")).json()["flags"] == ["ad_law"]
    sent = world.client.post(url, json={"override": True}, headers=world.auth("bob"))
    assert sent.status_code == 200 and sent.json()["override_by"] == "bob"
    assert world.services.conversations.messages("c1")[-1].text == "亲，这是最好的T恤"
