"""Two xiaoer processes behind one deployment: events cross processes, a console resumes on
another worker without missing anything, a killed process loses no acknowledged message and
doubles no refund. Both processes start together on a fresh PostgreSQL database."""

from __future__ import annotations

import json
import signal
import threading
import time

import chromadb
import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.scaleout.conftest import Deployment, Listener, agent_token, buyer_token, say

pytestmark = pytest.mark.multiprocess


def test_both_processes_started_together_on_one_fresh_database_and_are_ready(pair: Deployment) -> None:
    for server in (pair.a, pair.b):
        body = httpx.get(f"{server.url}/readyz", timeout=10).json()
        assert body["status"] == "ready"
        checks = {c["name"]: c for c in body["checks"]}
        assert checks["database"]["detail"] == "postgresql"
        assert checks["events"]["detail"] == "RedisEventBus"
        assert checks["vectors"]["detail"] == "chroma server"
    engine = create_engine(pair.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None
    engine.dispose()


def test_the_index_lives_once_on_the_chroma_server(pair: Deployment) -> None:
    host, port = pair.backends.chroma_url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.removeprefix("http://"), port=int(port))
    collections = client.list_collections()
    assert len(collections) == 1  # both replicas share one collection
    count = client.get_collection(collections[0].name).count()
    assert count > 0
    # Both replicas answer from it.
    for server in (pair.a, pair.b):
        token = buyer_token(server.url, "b03")
        turn = say(server.url, token, "这件卫衣起球吗")
        assert turn["reply"] or not turn["delivered"]


def test_a_buyer_message_sent_to_a_reaches_a_console_on_b(pair: Deployment) -> None:
    console = Listener(pair.b.url, agent_token(pair.b.url)).start()
    try:
        token = buyer_token(pair.a.url, "b01")
        say(pair.a.url, token, "你们发什么快递呀 跨进程")
        assert console.wait_for(["你们发什么快递呀 跨进程"]), console.events
    finally:
        console.stop()


def test_a_console_that_reconnects_elsewhere_with_its_last_id_misses_nothing(pair: Deployment) -> None:
    token = buyer_token(pair.a.url, "b03")
    first = Listener(pair.b.url, agent_token(pair.b.url)).start()
    say(pair.a.url, token, "第一条 在线时")
    assert first.wait_for(["第一条 在线时"])
    first.stop()
    seen = [e for e in first.events if e.get("id")]
    last_id = seen[-1]["id"]

    missed = [f"断线时第{i}条" for i in range(1, 4)]
    for line in missed:  # while no console is connected
        say(pair.a.url, token, line)

    # It comes back on the other process, with the id of the last event it saw.
    again = Listener(pair.a.url, agent_token(pair.a.url), last_event_id=last_id).start()
    try:
        assert again.wait_for(missed), again.texts()
        ids = [e["id"] for e in again.events if e.get("id")]
        assert last_id not in ids and len(ids) == len(set(ids))  # nothing twice
        assert [e for e in again.events if e["kind"] == "resync"] == []
        assert again.texts()[: len(missed)] == missed  # in order, before anything newer
    finally:
        again.stop()


def test_a_console_gets_a_resync_when_its_last_id_is_older_than_what_is_kept(
    pair: Deployment,
) -> None:
    stale = Listener(pair.b.url, agent_token(pair.b.url), last_event_id="1-0").start()
    try:
        deadline = time.monotonic() + 10
        while not stale.events and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stale.events and stale.events[0]["kind"] == "resync"
    finally:
        stale.stop()


# Buyers whose unshipped orders the demo shop refunds at once, and what they say.
REFUNDS = {
    "b14": ("7040还没发货吧 我不想要了 给我退款", "确认退款", "7040"),
    "b12": ("我要取消订单", "好的", "7036"),
}


def _refunds(database_url: str, tid: str) -> list[dict[str, object]]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        doc = conn.execute(text("SELECT doc FROM order_orders WHERE tid = :t"), {"t": tid}).scalar()
        ledger = conn.execute(
            text("SELECT paid_fen, refunded_fen, open_fen FROM order_ledger WHERE tid = :t"), {"t": tid}
        ).all()
    engine.dispose()
    doc = json.loads(doc) if isinstance(doc, str) else doc
    for paid, refunded, open_ in ledger:
        assert refunded + open_ <= paid
    return list(doc.get("refunds") or [])


def test_killing_a_mid_load_loses_no_acknowledged_message_and_doubles_no_refund(
    pair: Deployment,
) -> None:
    """Run last in this module: it kills process A."""
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def chatter(buyer: str) -> None:
        token = buyer_token(pair.a.url, buyer)
        n = 0
        while not stop.is_set():
            n += 1
            line = f"请问什么时候发货 {buyer}-{n}"
            try:
                say(pair.a.url, token, line, timeout=10)
            except httpx.HTTPError:
                return  # the process died under us: this message was never acknowledged
            with lock:
                acknowledged.append((buyer, line))

    refund_tokens = {b: buyer_token(pair.a.url, b) for b in REFUNDS}
    for buyer, (ask, _yes, _tid) in REFUNDS.items():
        say(pair.a.url, refund_tokens[buyer], ask)
    threads = [threading.Thread(target=chatter, args=(f"b{i:02d}",)) for i in (4, 5, 6, 7, 8, 9)]
    for t in threads:
        t.start()
    # A confirmation in flight on A when it dies, for each refund.
    confirmations = []
    for buyer, (_ask, yes, _tid) in REFUNDS.items():
        th = threading.Thread(target=lambda b=buyer, y=yes: _try(pair.a.url, refund_tokens[b], y))
        confirmations.append(th)
    deadline = time.monotonic() + 60
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    for th in confirmations:
        th.start()
    time.sleep(0.05)
    pair.a.stop(signal.SIGKILL)
    stop.set()
    for t in threads + confirmations:
        t.join(30)
    assert len(acknowledged) >= 30

    # Every acknowledged message was stored before its reply.
    engine = create_engine(pair.database_url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT text FROM conv_messages WHERE role = 'buyer'"))}
    engine.dispose()
    lost = [line for _b, line in acknowledged if line not in stored]
    assert not lost

    # The buyers' clients resend their confirmation to B (twice: a retry and a double tap).
    for buyer, (_ask, yes, tid) in REFUNDS.items():
        token = buyer_token(pair.b.url, buyer)
        for _ in range(2):
            say(pair.b.url, token, yes)
        refunds = _refunds(pair.database_url, tid)
        assert len(refunds) == 1, refunds


def _try(url: str, token: str, line: str) -> None:
    try:
        say(url, token, line, timeout=10)
    except httpx.HTTPError:
        pass
