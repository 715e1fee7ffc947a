"""A stopping server finishes the turn in flight and does not wait on live streams."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.scaleout.conftest import Listener, agent_token, buyer_token
from tests.scaleout.servers import start_xiaoer, xiaoer_env

pytestmark = pytest.mark.multiprocess


def test_sigterm_lets_the_turn_in_flight_finish_and_ends_streams(tmp_path: Path) -> None:
    with FakeOpenAI() as model:
        model.script(*[Reply("亲，这款卫衣不易起球哦～", delay_s=3.0) for _ in range(4)])
        env = xiaoer_env(tmp_path / "data", llm_model=model.model, llm_timeout_s="20",
                         shutdown_grace_s="20")
        env.update({"OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "test"})
        server = start_xiaoer(env, tmp_path / "serve.log")
        try:
            console = Listener(server.url, agent_token(server.url)).start()
            token = buyer_token(server.url, "b03")
            answer: dict[str, Any] = {}

            def ask() -> None:
                r = httpx.post(f"{server.url}/api/chat", json={"text": "这件卫衣起球吗"},
                               headers={"Authorization": f"Bearer {token}"}, timeout=60)
                answer["status"] = r.status_code
                answer["body"] = r.json()

            asking = threading.Thread(target=ask)
            asking.start()
            deadline = time.monotonic() + 20
            while not model.chat_requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert model.chat_requests, "the turn never reached the model"
            stopping = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            asking.join(60)
            server.proc.wait(30)
            took = time.monotonic() - stopping
        finally:
            server.stop()
    assert answer.get("status") == 200, server.output()[-2000:]
    assert answer["body"]["intent"]
    assert console.ended.wait(5)  # the stream was closed, not left hanging
    assert took < 15, f"shutdown took {took:.1f}s: a stream held it up"
