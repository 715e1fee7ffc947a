"""A big shop's product sheets parsed in worker processes load the same shop, and report the
same problems, as sheets parsed one by one in the process itself."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bot.errors import ShopInvalid
from bot import procpool
from bot.shop import load_shop, yamlio, yamlpool

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes for any shop, two of them even on a one-core machine."""
    monkeypatch.setattr(yamlpool, "POOL_FROM_FILES", 2)
    monkeypatch.setattr(yamlpool, "CHUNK_FILES", 4)
    monkeypatch.setattr(procpool, "cores", lambda: 2)


def test_a_failed_worker_leaves_its_files_to_the_loader(
    pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = procpool._start
    started = []

    def one_fails():  # type: ignore[no-untyped-def]
        proc = real()
        started.append(proc)
        if len(started) == 2:
            proc.kill()  # the second worker dies before it writes anything
        return proc

    monkeypatch.setattr(procpool, "_start", one_fails)
    got = list(yamlpool.parse_files(sorted((KNOWLEDGE / "products").glob("*.yaml"))))
    assert len(started) == 2
    assert got[0][1] is not None  # the first chunk came from the first worker
    assert got[-1][1] is None  # after the failure every file is the loader's
    through_workers = load_shop(KNOWLEDGE)
    _in_process(monkeypatch)
    assert load_shop(KNOWLEDGE) == through_workers


def _in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlpool, "POOL_FROM_FILES", 10**9)


def test_workers_return_every_sheet_in_order_with_its_hash_and_data(pooled: None) -> None:
    paths = sorted((KNOWLEDGE / "products").glob("*.yaml"))
    assert len(paths) > 2 * yamlpool.CHUNK_FILES  # several chunks
    got = list(yamlpool.parse_files(paths))
    assert [p for p, _ in got] == paths
    for path, parsed in got:
        assert parsed is not None, path
        raw = path.read_bytes()
        assert parsed.sha256 == hashlib.sha256(raw).hexdigest()
        assert parsed.data == yamlio.load(raw.decode("utf-8"))


def test_the_demo_shop_loads_the_same_through_the_workers(
    pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_workers = load_shop(KNOWLEDGE)
    _in_process(monkeypatch)
    assert load_shop(KNOWLEDGE) == through_workers


def test_broken_sheets_are_reported_as_in_process(
    tmp_path: Path, pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop_dir)
    sheets = sorted((shop_dir / "products").glob("*.yaml"))
    sheets[1].write_text("id: X1\ntitle: [unclosed\n", encoding="utf-8")  # syntax
    sheets[5].write_bytes(b"id: X2\ntitle: \xff\xfe\n")  # not UTF-8
    text = sheets[9].read_text(encoding="utf-8")
    sheets[9].write_text(text.replace("title:", "titel:", 1), encoding="utf-8")  # a bad key

    def problems() -> list[str]:
        with pytest.raises(ShopInvalid) as caught:
            load_shop(shop_dir)
        return [str(p) for p in caught.value.problems]

    through_workers = problems()
    _in_process(monkeypatch)
    assert problems() == through_workers
    joined = "\n".join(through_workers)
    assert f"products/{sheets[1].name}:" in joined and "YAML syntax error" in joined
    assert f"products/{sheets[5].name}" in joined and "not UTF-8" in joined
    assert f"products/{sheets[9].name}:" in joined and "titel: unknown key" in joined


def test_no_worker_to_start_leaves_every_file_to_the_loader(
    pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot() -> None:
        raise OSError("no interpreter")

    monkeypatch.setattr(procpool, "_start", cannot)
    paths = sorted((KNOWLEDGE / "products").glob("*.yaml"))
    assert all(parsed is None for _, parsed in yamlpool.parse_files(paths))
    through_nothing = load_shop(KNOWLEDGE)
    _in_process(monkeypatch)
    assert load_shop(KNOWLEDGE) == through_nothing


def test_a_small_shop_starts_no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a shop under the threshold started worker processes")

    monkeypatch.setattr(procpool, "_start", no_pool)
    paths = sorted((KNOWLEDGE / "products").glob("*.yaml"))
    assert len(paths) < yamlpool.POOL_FROM_FILES
    assert all(parsed is None for _, parsed in yamlpool.parse_files(paths))
