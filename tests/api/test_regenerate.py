"""A rejected draft drafted again with the agent's reason: the model is told the old draft and
the reason, the new draft waits for the agent and still ends in an answer when nobody acts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.services import Services
from tests.api.conftest import make_services
from tests.fakes.openai_server import FakeOpenAI, Reply

QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
FIRST = "亲，这款T恤是纯棉面料的，亲肤透气～"
SECOND = "亲，这款T恤是纯棉的，穿着柔软透气，日常穿很舒服～"
REASON = "语气太生硬，补一句穿着感受"


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def app(tmp_path: Path, model: FakeOpenAI) -> Iterator[tuple[TestClient, Services]]:
    services = make_services(
        tmp_path, reply_mode="assist", llm_model="fake-model", openai_base_url=model.base_url,
        openai_api_key="test",
    )
    with TestClient(create_app(services.settings, services)) as client:
        yield client, services


def _drafted(client: TestClient, login: Callable[..., dict[str, str]], model: FakeOpenAI) -> dict[str, Any]:
    model.script(Reply(FIRST))
    turn = client.post("/api/chat", json={"text": QUESTION}, headers=login(client, "b04")).json()
    assert turn["suggestion_id"] and not turn["delivered"]
    return turn


def test_a_pending_draft_is_rejected_and_drafted_again_with_the_reason(app, login, agent_login, model) -> None:
    client, services = app
    agent = agent_login(client, "demo", "demo12345")
    turn = _drafted(client, login, model)
    model.script(Reply(SECOND))
    r = client.post(f"/api/agent/suggestions/{turn['suggestion_id']}/regenerate", json={"reason": REASON}, headers=agent)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["draft"] == SECOND and new["status"] == "pending" and new["origin"] == "redraft"
    old = client.get(f"/api/agent/suggestions/{turn['suggestion_id']}", headers=agent).json()
    assert old["status"] == "rejected" and old["reject_reason"] == REASON
    # The model was told the rejected draft and why, and still got the buyer's question.
    sent = model.requests[-1].body["messages"]
    system = sent[0]["content"]
    assert FIRST in system and REASON in system and sent[-1]["content"].endswith(QUESTION)
    # Nobody acts: when the wait is over the guard-clean new draft is what the buyer gets, once.
    services.clock.advance(timedelta(seconds=services.shop.info.reply_policy.wait_for(new["intent"]) + 1))
    services.scheduler.tick()
    services.scheduler.tick()
    cid = new["conversation_id"]
    texts = [m["text"] for m in client.get(f"/api/agent/conversations/{cid}", headers=agent).json()["messages"]]
    assert texts.count(SECOND) == 1 and FIRST not in texts


def test_a_sent_draft_and_a_shop_without_a_model_cannot_be_regenerated(app, login, agent_login, model, tmp_path) -> None:
    client, services = app
    agent = agent_login(client, "demo", "demo12345")
    turn = _drafted(client, login, model)
    assert client.post(f"/api/agent/suggestions/{turn['suggestion_id']}/accept", headers=agent).status_code == 200
    r = client.post(f"/api/agent/suggestions/{turn['suggestion_id']}/regenerate", json={"reason": REASON}, headers=agent)
    assert r.status_code == 409 and "已经发给买家" in r.json()["detail"]
    assert client.post("/api/agent/suggestions/sg404/regenerate", json={"reason": REASON}, headers=agent).status_code == 404
    assert client.post(f"/api/agent/suggestions/{turn['suggestion_id']}/regenerate", json={"reason": ""},
                       headers=agent).status_code == 422

    offline = make_services(tmp_path / "offline", reply_mode="assist")
    with TestClient(create_app(offline.settings, offline)) as plain:
        boss = agent_login(plain, "demo", "demo12345")
        t = plain.post("/api/chat", json={"text": QUESTION}, headers=login(plain, "b04")).json()
        r = plain.post(f"/api/agent/suggestions/{t['suggestion_id']}/regenerate", json={"reason": REASON}, headers=boss)
        assert r.status_code == 409 and "离线模板" in r.json()["detail"]
        # Nothing was rejected by the refused call: the draft still waits for the agent.
        assert plain.get(f"/api/agent/suggestions/{t['suggestion_id']}", headers=boss).json()["status"] == "pending"
