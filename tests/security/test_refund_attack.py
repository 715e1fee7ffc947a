"""The five-conversation refund attack, replayed through the HTTP API of the real app.

Buyer b02 of the demo shop opens five conversations and in each asks for a refund of the
socks of order 7007 (paid 58.50 of the order's 137.50), then says yes. However the turns
are interleaved — one after another, all summaries first, or every yes at the same moment —
the socks are refunded once, every other conversation is told so politely, and nothing is
handed to a person. The app runs under uvicorn on 127.0.0.1 over a SQLite file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services
from tests.live_server import serving

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
ATTACK = "订单7007的袜子我不要了，退款"
CONVERSATIONS = 5
PAID_SOCKS = Decimal("58.50")
PAID_ORDER = Decimal("137.50")


@dataclass
class App:
    url: str
    services: Services


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from bot.api.app import create_app

    settings = Settings(
        shop_dir=KNOWLEDGE, data_dir=tmp_path_factory.mktemp("refund-attack"), demo=True,
        demo_login=True, rate_limits=False, reply_mode="assist", llm_model=None, embedding_model=None,
    )
    services = build_services(settings, clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True)
    with serving(create_app(settings, services), name="refund-attack", timeout_s=120) as url:
        yield App(url, services)


@pytest.fixture
def buyer(app: App) -> Iterator[httpx.Client]:
    """Buyer b02, logged in, on a freshly seeded order database."""
    app.services.orders.reset()
    with httpx.Client(base_url=app.url, timeout=60) as client:
        login = client.post("/api/auth/demo-login", json={"buyer_id": "b02"})
        assert login.status_code == 200, login.text
        client.cookies.clear()  # the token names the caller, as a real client would send it
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client


def new_conversations(client: httpx.Client) -> list[str]:
    out = []
    for _ in range(CONVERSATIONS):
        r = client.post("/api/conversations")
        assert r.status_code == 200, r.text
        out.append(r.json()["conversation_id"])
    return out


def say(client: httpx.Client, cid: str, text: str) -> dict[str, Any]:
    r = client.post("/api/chat", json={"conversation_id": cid, "text": text})
    assert r.status_code == 200, r.text  # never a 500
    turn: dict[str, Any] = r.json()
    assert not turn["handoff"], turn  # and never the fail-safe handover
    assert turn["reply"] and "7007-1" not in turn["reply"], turn
    return turn


def refunded_money(client: httpx.Client) -> tuple[list[dict[str, Any]], Decimal]:
    """The socks' successful money refunds, and all money refunded on 7007, as the buyer sees them."""
    orders = client.get("/api/orders")
    assert orders.status_code == 200, orders.text
    order = next(o for o in orders.json() if o["tid"] == "7007")
    money = [r for r in order["refunds"] if r["status"] == "SUCCESS" and r["type"] != "EXCHANGE"]
    socks = [r for r in money if "7007-1" in r["items"]]
    return socks, sum((Decimal(r["amount"]) for r in money), Decimal(0))


def assert_one_refund(client: httpx.Client, app: App, yeses: list[dict[str, Any]]) -> None:
    assert sorted(t["action"] or "" for t in yeses) == [""] * (CONVERSATIONS - 1) + ["refund.create"]
    for turn in yeses:
        if turn["action"] is None:
            assert "已经退过款" in turn["reply"] and "没有提交" in turn["reply"], turn["reply"]
    socks, total = refunded_money(client)
    assert len(socks) == 1 and Decimal(socks[0]["amount"]) == PAID_SOCKS
    assert total <= PAID_ORDER
    ledger = app.services.orders.ledger("7007")
    assert ledger["7007-1"].refunded == 5850 and ledger["7007-1"].refunded <= ledger["7007-1"].paid


def assert_no_handover(client: httpx.Client, cids: list[str]) -> None:
    for cid in cids:
        conv = client.get(f"/api/conversations/{cid}")
        assert conv.status_code == 200 and conv.json()["status"] == "bot", conv.text


def test_five_summaries_then_five_yeses_refund_the_socks_once(app: App, buyer: httpx.Client) -> None:
    cids = new_conversations(buyer)
    asks = [say(buyer, cid, ATTACK) for cid in cids]
    assert all("58.50" in t["reply"] and "确认" in t["quick_replies"] for t in asks)
    yeses = [say(buyer, cid, "确认") for cid in cids]
    assert_one_refund(buyer, app, yeses)
    assert_no_handover(buyer, cids)


def test_five_conversations_one_after_another_refund_the_socks_once(app: App, buyer: httpx.Client) -> None:
    turns = []
    cids = new_conversations(buyer)
    for n, cid in enumerate(cids):
        ask = say(buyer, cid, ATTACK)
        if n:  # the socks are already refunded: explained, not offered again
            assert "已经退过款" in ask["reply"] and "确认" not in ask["quick_replies"], ask["reply"]
        yes = say(buyer, cid, "确认")
        turns.append(yes)
    assert turns[0]["action"] == "refund.create"
    assert all(t["action"] is None for t in turns[1:])
    socks, total = refunded_money(buyer)
    assert len(socks) == 1 and total <= PAID_ORDER
    assert_no_handover(buyer, cids)


def test_five_yeses_sent_at_the_same_moment_refund_the_socks_once(app: App, buyer: httpx.Client) -> None:
    cids = new_conversations(buyer)
    for cid in cids:
        say(buyer, cid, ATTACK)
    start = threading.Barrier(CONVERSATIONS)
    yeses: list[Any] = [None] * CONVERSATIONS
    headers = dict(buyer.headers)

    def confirm(i: int) -> None:
        with httpx.Client(base_url=app.url, timeout=60, headers=headers) as own:  # its own connection
            start.wait()
            try:
                yeses[i] = say(own, cids[i], "确认")
            except BaseException as exc:  # collected and asserted on below
                yeses[i] = exc

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(CONVERSATIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(t, dict) for t in yeses), yeses
    assert_one_refund(buyer, app, yeses)
    assert_no_handover(buyer, cids)
