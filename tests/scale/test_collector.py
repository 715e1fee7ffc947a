"""The garbage collector around a start: held off while the services are built, and in a
serving process the start's objects are left out of later collections until released."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot import collector
from bot.api.app import create_app
from bot.config import Settings
from bot.services import build_services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restored():
    was = gc.isenabled()
    yield
    collector.release()
    if was:
        gc.enable()


def _walked(obj: object) -> bool:
    """``obj`` is among the objects a collection walks."""
    return any(o is obj for o in gc.get_objects())


def test_paused_holds_collection_off_and_restores_it() -> None:
    gc.enable()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()  # a collector that was off stays off


def test_a_failed_block_restores_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused(keep=True):
        raise RuntimeError("start failed")
    assert gc.isenabled()


def test_the_build_runs_with_the_collector_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services as services_module

    seen: list[bool] = []
    real = services_module._build

    def build(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(services_module, "_build", build)
    gc.enable()
    build_services(Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, database_url=None), ephemeral=True, eval_mode=True)
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # not a serving process: nothing is kept out


def test_a_serving_start_keeps_its_objects_out_of_collections(tmp_path: Path) -> None:
    gc.enable()
    services = build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, database_url=None),
        ephemeral=True, eval_mode=True, serving=True,
    )
    product = next(iter(services.shop.products.values()))
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert not _walked(product)
    collector.release()
    assert gc.get_freeze_count() == 0
    assert _walked(product)


def test_the_app_keeps_the_start_while_it_runs_and_gives_it_back_when_it_stops(tmp_path: Path) -> None:
    settings = Settings(shop_dir=ROOT / "knowledge", data_dir=tmp_path, database_url=None, demo=True)
    app = create_app(settings, eval_mode=True)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 0
        assert not _walked(next(iter(app.state.services.shop.products.values())))
    assert gc.get_freeze_count() == 0
