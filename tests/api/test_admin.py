"""Admin routes: agent accounts and re-reading a changed shop without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import build_services

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def test_admin_creates_agents_and_reingests_a_changed_shop(tmp_path: Path, agent_login) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop_dir)
    settings = Settings(shop_dir=shop_dir, data_dir=tmp_path / "var")
    services = build_services(settings, ids=SequentialIds())
    services.accounts.create("boss", "boss-password", "admin")
    with TestClient(create_app(settings, services)) as client:
        admin = agent_login(client, "boss", "boss-password")
        created = client.post(
            "/api/admin/agents", json={"username": "xiaomei", "password": "xiaomei-123"}, headers=admin
        )
        assert created.status_code == 201 and created.json()["role"] == "agent"
        assert client.post(
            "/api/admin/agents", json={"username": "xiaomei", "password": "xiaomei-123"}, headers=admin
        ).status_code == 409
        agent_login(client, "xiaomei", "xiaomei-123")

        sheet = next(shop_dir.glob("products/*.yaml"))
        text = sheet.read_text(encoding="utf-8")
        sheet.write_text(text.replace("title: ", "title: 冬季限定 ", 1), encoding="utf-8")
        done = client.post("/api/admin/reingest", headers=admin)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["changed"] is True
        assert 0 < body["index"]["embedded"] < body["index"]["passages"]  # incremental
        assert any("冬季限定" in h.passage.title for h in client.app.state.services.retriever.search("冬季限定"))

        sheet.write_text(text.replace("title: ", "titel: ", 1), encoding="utf-8")
        broken = client.post("/api/admin/reingest", headers=admin)
        assert broken.status_code == 422
        assert any("titel" in p for p in broken.json()["detail"])
        assert client.get("/healthz").json()["status"] == "ok"  # still serving the last good shop


def test_a_reload_gives_the_replaced_start_back_to_the_collector(tmp_path: Path, agent_login) -> None:
    """A serving start is left out of garbage collections (bot.collector); once a reload has
    replaced it, it is collected like any garbage."""
    import gc

    from bot import collector

    shop_dir = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop_dir)
    settings = Settings(shop_dir=shop_dir, data_dir=tmp_path / "var")
    try:
        services = build_services(settings, ids=SequentialIds(), serving=True)
        services.accounts.create("boss", "boss-password", "admin")
        old_product = next(iter(services.shop.products.values()))
        assert gc.get_freeze_count() > 0
        with TestClient(create_app(settings, services)) as client:
            admin = agent_login(client, "boss", "boss-password")
            assert client.post("/api/admin/reingest", headers=admin).status_code == 200
            assert gc.get_freeze_count() == 0
            assert any(o is old_product for o in gc.get_objects())
    finally:
        collector.release()
