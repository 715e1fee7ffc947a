"""A big shop's cold start has a warmer make what the start reads after its index; the start
waits for an entry being made instead of making it twice."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

import bot.caching as caching
import bot.drafting.kept as drafting_kept
import bot.router.cache as classifier_cache
import bot.router.delex as delex
from bot import procpool, warmup
from bot.caching import DiskCache
from bot.config import Settings
from bot.retrieval.linker import EntityLinker
from bot.services import build_services
from bot.shop import load_shop

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_shop"


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the start made a value the warmer had made")


def test_what_the_warmer_makes_is_what_the_start_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop_dir, data = tmp_path / "shop", tmp_path / "data"
    shutil.copytree(MINI, shop_dir)
    load_shop(shop_dir, cache_dir=data / "cache")  # validated and kept, as before a warmer starts
    done = subprocess.run(
        [sys.executable, "-c", warmup._CODE, str(shop_dir), str(data)], cwd=ROOT, timeout=300
    )
    assert done.returncode == 0
    monkeypatch.setattr(EntityLinker, "_tables", classmethod(_fail))
    monkeypatch.setattr(delex, "shop_terms", _fail)
    monkeypatch.setattr(classifier_cache, "train_default", _fail)
    monkeypatch.setattr(classifier_cache, "_KEPT", OrderedDict())  # nothing trained in this process
    monkeypatch.setattr(drafting_kept, "build_tables", _fail)
    services = build_services(Settings(shop_dir=shop_dir, data_dir=data, database_url=None), eval_mode=True)
    assert services.linker.link("龙井")  # the warmer's tables answer


def test_a_big_shop_validated_now_starts_a_warmer_gone_when_the_start_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warmup, "WARM_FROM_PRODUCTS", 1)
    monkeypatch.setattr(procpool, "cores", lambda: 2)
    started: list[warmup.Warmer] = []
    real = warmup.start

    def counted(*args: Any) -> warmup.Warmer | None:
        warmer = real(*args)
        started.extend([warmer] if warmer else [])
        return warmer

    monkeypatch.setattr(warmup, "start", counted)
    shop_dir, data = tmp_path / "shop", tmp_path / "data"
    shutil.copytree(MINI, shop_dir)
    settings = Settings(shop_dir=shop_dir, data_dir=data, database_url=None)
    first = build_services(settings, eval_mode=True)
    assert len(started) == 1 and not started[0].running()
    again = build_services(settings, eval_mode=True)  # warm: the shop is read back, no warmer
    assert len(started) == 1
    assert again.linker.link("龙井") == first.linker.link("龙井")


def test_a_small_shop_or_one_core_starts_no_warmer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert warmup.start(MINI, MINI, warmup.WARM_FROM_PRODUCTS - 1) is None
    monkeypatch.setattr(procpool, "cores", lambda: 1)
    assert warmup.start(MINI, MINI, warmup.WARM_FROM_PRODUCTS) is None


def test_an_entry_being_made_is_waited_for_and_read_not_made_again(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    made: list[str] = []
    inside = threading.Event()

    def slow() -> str:
        made.append("first")
        inside.set()
        time.sleep(0.5)
        return "value"

    def second() -> str:
        made.append("second")
        return "other"

    first = threading.Thread(target=lambda: cache.kept("entry", "k", slow, lambda v: isinstance(v, str)))
    first.start()
    assert inside.wait(10)
    t0 = time.monotonic()
    got = cache.kept("entry", "k", second, lambda v: isinstance(v, str))
    first.join()
    assert got == "value" and made == ["first"]
    assert time.monotonic() - t0 > 0.2  # it waited for the first


def test_a_maker_stuck_past_the_wait_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caching, "MAKING_WAIT_S", 0.2)
    cache = DiskCache(tmp_path)
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with cache.making("entry"):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        assert cache.kept("entry", "k", lambda: "made here", lambda v: isinstance(v, str)) == "made here"
    finally:
        release.set()
        holder.join()
