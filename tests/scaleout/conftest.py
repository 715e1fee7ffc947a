"""Two xiaoer processes on one PostgreSQL database, one Redis and one chroma server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scaleout.servers import (
    Postgres,
    Xiaoer,
    chroma_server,
    postgres_server,
    redis_server,
    start_xiaoer,
    wait_ready,
    xiaoer_env,
)


@dataclass
class Backends:
    postgres: Postgres
    redis_url: str
    chroma_url: str


@pytest.fixture(scope="package")
def backends() -> Iterator[Backends]:
    with postgres_server() as pg, redis_server() as redis_url, chroma_server() as chroma_url:
        yield Backends(pg, redis_url, chroma_url)


@dataclass
class Deployment:
    a: Xiaoer
    b: Xiaoer
    database_url: str
    backends: Backends


def start_pair(backends: Backends, tmp: Path, **settings: str) -> Deployment:
    """Two processes started at the same moment on a fresh database (both migrate it)."""
    database_url = backends.postgres.fresh_database()
    common = {"database_url": database_url, "redis_url": backends.redis_url,
              "chroma_url": backends.chroma_url, **settings}
    a = start_xiaoer(xiaoer_env(tmp / "a", **common), tmp / "a.log", wait=False)
    b = start_xiaoer(xiaoer_env(tmp / "b", **common), tmp / "b.log", wait=False)
    wait_ready(a)
    wait_ready(b)
    return Deployment(a, b, database_url, backends)


@pytest.fixture(scope="module")
def pair(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = start_pair(backends, tmp_path_factory.mktemp("pair"))
    try:
        yield deployment
    finally:
        deployment.a.stop()
        deployment.b.stop()


def buyer_token(url: str, buyer_id: str) -> str:
    r = httpx.post(f"{url}/api/auth/demo-login", json={"buyer_id": buyer_id}, timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


def agent_token(url: str) -> str:
    r = httpx.post(f"{url}/api/auth/agent-login", json={"username": "demo", "password": "demo12345"},
                   timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


def say(url: str, token: str, text: str, timeout: float = 60) -> dict[str, Any]:
    r = httpx.post(f"{url}/api/chat", json={"text": text}, headers={"Authorization": f"Bearer {token}"},
                   timeout=timeout)
    r.raise_for_status()
    return dict(r.json())


@dataclass
class Listener:
    """An SSE client in a thread: every event it receives, with the stream's ``id:`` lines."""

    url: str
    token: str
    last_event_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Listener:
        threading.Thread(target=self._run, daemon=True).start()
        if not self.connected.wait(30):
            raise RuntimeError("the event stream did not connect")
        return self

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        try:
            with httpx.stream("GET", f"{self.url}/api/agent/events", headers=headers,
                              timeout=httpx.Timeout(60, read=30)) as r:
                r.raise_for_status()
                event_id = None
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith(": connected"):
                        self.connected.set()
                    elif line.startswith("id: "):
                        event_id = line[4:]
                    elif line.startswith("data: "):
                        event = json.loads(line[6:])
                        assert event.get("id") == event_id
                        self.events.append(event)
                        event_id = None
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def stop(self) -> None:
        self._stop.set()

    def texts(self) -> list[str]:
        return [e["data"]["message"]["text"] for e in self.events
                if e["kind"] == "message" and e["data"].get("message", {}).get("role") == "buyer"]

    def wait_for(self, texts: list[str], timeout_s: float = 20) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(t in self.texts() for t in texts):
                return True
            time.sleep(0.1)
        return False
