"""The console queue over HTTP: pages with ``limit`` and ``cursor``, the whole queue when a
client asks as before, a bad cursor refused in Chinese."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app
from tests.api.conftest import NOW, _agent_login, make_services


def test_the_queue_comes_in_pages_that_add_up_to_the_whole(tmp_path: Path) -> None:
    services = make_services(tmp_path)
    mine = []
    for i, buyer in enumerate(["b01", "b02", "b03", "b04", "b05"]):
        cid = services.bot.start_conversation(buyer)
        mine.append(cid)
        services.conversations.add_message(cid, "buyer", f"问题{i}", NOW, f"q{i}")
        if i % 2:
            services.conversations.set_status(cid, "waiting", NOW, summary="要人工")
    with TestClient(create_app(services.settings, services)) as client:
        headers = _agent_login(client)
        whole = client.get("/api/agent/conversations", headers=headers)
        assert whole.status_code == 200 and "x-next-cursor" not in whole.headers
        rows = whole.json()
        assert len(rows) >= 5 and [r["status"] for r in rows[:2]] == ["waiting", "waiting"]
        assert set(mine) <= {r["id"] for r in rows}
        for r in rows:  # the newest message of each, as the whole history ends
            assert r["last_message"] == services.conversations.messages(r["id"])[-1].text

        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/agent/conversations", headers=headers, params=params)
            assert page.status_code == 200 and len(page.json()) <= 2
            seen.extend(r["id"] for r in page.json())
            cursor = page.headers.get("x-next-cursor")
            if cursor is None:
                break
        assert seen == [r["id"] for r in rows]

        bad = client.get("/api/agent/conversations", headers=headers, params={"cursor": "坏的"})
        assert bad.status_code == 404 and "cursor" in bad.json()["detail"] and "重新" in bad.json()["detail"]
        too_big = client.get("/api/agent/conversations", headers=headers, params={"limit": 0})
        assert too_big.status_code in (400, 422)
