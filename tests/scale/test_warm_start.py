"""A warm start (a data directory left by an earlier start of the same shop and code) reads
back what it kept instead of building it again — the shop's words, the linker's tables, the
index generation, the files' digests — and answers exactly as a cold start does; a change of
any shop file, or of the code a value is computed with, gives the changed answer."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

import bot.caching
from bot.caching import code_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.retrieval.linker import EntityLinker
from bot.services import Services, build_services
from bot.shop import cache as shop_cache
from bot.shop import load_shop
from bot.retrieval.vectordocs import product_doc_id
from bot.retrieval.vocab import shop_tokenizer

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
LINES = ["不锈钢保温杯多少钱", "保温杯墨绿还有吗", "龙井500克礼盒", "钛合金保温杯多少钱", "黑色的那个", "保温杯第二件半价吗"]


def start(shop_dir: Path, data_dir: Path) -> Services:
    settings = Settings(shop_dir=shop_dir, data_dir=data_dir, reply_mode="auto", database_url=None)
    return build_services(settings, clock=FrozenClock(NOW))  # ids of their own: one database


def ask(services: Services, text: str) -> str:
    cid = services.bot.start_conversation("b01")
    return services.bot.handle(cid, "b01", text).reply


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(MINI, target)
    return target


def _retitle(shop_dir: Path) -> None:
    """W202 becomes a 钛合金保温杯 at 49.00 (its SKUs too)."""
    path = shop_dir / "products" / "W202.yaml"
    text = path.read_text(encoding="utf-8").replace("不锈钢保温杯", "钛合金保温杯").replace("59.00", "49.00")
    path.write_text(text, encoding="utf-8")


def test_a_changed_product_file_gives_the_changed_answer_after_a_warm_start(shop_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cold = start(shop_dir, data)
    before = ask(cold, "不锈钢保温杯多少钱")
    assert "59.00" in before

    warm = start(shop_dir, data)
    report = warm.retriever.last_report
    assert report is not None and report.unchanged
    assert ask(warm, "不锈钢保温杯多少钱") == before

    _retitle(shop_dir)
    changed = start(shop_dir, data)
    report = changed.retriever.last_report
    assert report is not None and not report.unchanged and report.files_changed == ["products/W202.yaml"]
    reply = ask(changed, "钛合金保温杯多少钱")
    assert "钛合金保温杯" in reply and "49.00" in reply and "59.00" not in reply
    assert [m.product_id for m in changed.linker.link("钛合金保温杯")][:1] == ["W202"]
    hits = changed.retriever.search("钛合金保温杯", k=3)
    assert any("钛合金" in h.passage.text for h in hits)

    # The same again, warm: what was kept for the changed shop is read back.
    again = start(shop_dir, data)
    assert again.retriever.last_report is not None and again.retriever.last_report.unchanged
    assert ask(again, "钛合金保温杯多少钱") == reply


def test_titles_swapped_between_products_are_linked_anew(shop_dir: Path, tmp_path: Path) -> None:
    """The same words in other products: the shop's words stay as they were, its content not."""
    data = tmp_path / "data"
    assert [m.product_id for m in start(shop_dir, data).linker.link("云南普洱熟茶饼")][:1] == ["P301"]
    w202, p301 = shop_dir / "products" / "W202.yaml", shop_dir / "products" / "P301.yaml"
    a, b = w202.read_text(encoding="utf-8"), p301.read_text(encoding="utf-8")
    w202.write_text(a.replace("不锈钢保温杯 500ml", "云南普洱熟茶饼 357克"), encoding="utf-8")
    p301.write_text(b.replace("云南普洱熟茶饼 357克", "不锈钢保温杯 500ml"), encoding="utf-8")
    warm = start(shop_dir, data)
    assert [m.product_id for m in warm.linker.link("云南普洱熟茶饼")][:1] == ["W202"]
    assert [m.product_id for m in warm.linker.link("不锈钢保温杯")][:1] == ["P301"]


def test_a_warm_start_answers_as_a_fresh_build_does(shop_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    start(shop_dir, data)
    warm = start(shop_dir, data)
    kept = sorted(p.name.split("-")[0] for p in (data / "cache").glob("*.pickle"))
    assert kept == ["drafting", "file", "linker", "shop", "tokenizer"]
    assert not warm.retriever.store.opened  # a small index never needs chroma to answer
    fresh = EntityLinker(load_shop(shop_dir))
    focus = "W202"
    for text in LINES:
        for product in (None, focus):
            assert warm.linker.link(text, focus_product=product) == fresh.link(text, focus_product=product), text
    assert warm.retriever.tokenizer.words == shop_tokenizer(load_shop(shop_dir)).words


def test_a_big_index_opens_chroma_beside_the_start_not_in_the_first_question(
    shop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import bot.retrieval.hybrid as hybrid

    data = tmp_path / "data"
    start(shop_dir, data)
    monkeypatch.setattr(hybrid, "EXACT_ROWS", 0)  # every index is "big": queries need the graph
    warm = start(shop_dir, data)
    deadline = time.monotonic() + 60
    while not warm.retriever.store.opened and time.monotonic() < deadline:
        time.sleep(0.05)
    assert warm.retriever.store.opened  # opened without any question asked
    assert "保温杯" in ask(warm, "不锈钢保温杯多少钱")


def test_documents_chroma_lost_are_written_when_it_is_first_opened(shop_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cold = start(shop_dir, data)
    expected = cold.retriever.snapshot.vector_doc_count
    cold.retriever.store.collection.delete(ids=[product_doc_id("W202")])
    assert cold.retriever.store.collection.count() == expected - 1

    warm = start(shop_dir, data)
    store = warm.retriever.store
    assert warm.retriever.last_report is not None and warm.retriever.last_report.unchanged
    assert not store.opened
    assert store.collection.count() == expected
    assert store.collection.get(ids=[product_doc_id("W202")], include=[])["ids"] == [product_doc_id("W202")]


@pytest.fixture
def code_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """The keys computed from a copy of the package's source, and a way to change one file of
    it (as an edit or a release would): ``change("shop/models.py")``."""
    tree = tmp_path / "code" / "bot"
    shutil.copytree(bot.caching.PACKAGE_DIR, tree, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(bot.caching, "PACKAGE_DIR", tree)
    code_of.cache_clear()

    def change(rel: str) -> None:
        with (tree / rel).open("a", encoding="utf-8") as fh:
            fh.write("\n# changed\n")
        code_of.cache_clear()

    yield change
    monkeypatch.undo()
    code_of.cache_clear()


def _generations(data: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((data / "chroma" / "xiaoer-index").glob("*/CURRENT"))]


def _kept(data: Path) -> dict[str, str]:
    """Kept value → the file it is kept in (the key is in the name)."""
    files = [*(data / "cache").glob("*.pickle"), *(data / "router").glob("*.pickle")]
    return {re.sub(r"-[0-9a-f]{12}$", "", p.name.rsplit("-", 1)[0]): p.name for p in files}


def test_a_change_of_the_code_a_value_is_computed_with_builds_it_again(
    shop_dir: Path, tmp_path: Path, code_tree: Callable[[str], None]
) -> None:
    data = tmp_path / "data"
    start(shop_dir, data)
    before, generations = _kept(data), _generations(data)
    assert {"shop", "linker", "tokenizer-words", "delex-terms", "router-words", "intent-classifier"} <= before.keys()

    code_tree("shop/models.py")  # every kept value is computed from the shop's models
    warm = start(shop_dir, data)
    report = warm.retriever.last_report
    assert report is not None and not report.unchanged and report.embedded == 0  # vectors reused
    assert _generations(data) != generations
    after = _kept(data)
    # Each kept value is under a new key (one entry each still); file digests are the code's own.
    assert after.keys() == before.keys()
    assert all(after[k] != before[k] for k in after if not k.startswith("file"))
    assert "59.00" in ask(warm, "不锈钢保温杯多少钱")


def test_a_change_elsewhere_or_a_new_version_keeps_every_value(
    shop_dir: Path, tmp_path: Path, code_tree: Callable[[str], None]
) -> None:
    data = tmp_path / "data"
    start(shop_dir, data)
    before, generations = _kept(data), _generations(data)

    code_tree("engine.py")  # the bot's turns: nothing kept is computed with it
    code_tree("__init__.py")  # the package version
    warm = start(shop_dir, data)
    assert _kept(data) == before and _generations(data) == generations
    report = warm.retriever.last_report
    assert report is not None and report.unchanged

    code_tree("router/lexicon.py")  # the router's words and its classifier only
    start(shop_dir, data)
    after = _kept(data)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"delex-terms", "router-words", "intent-classifier"}, changed
    assert _generations(data) == generations


def test_a_file_rewritten_in_place_after_its_digest_was_kept_is_read_again(
    shop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests of files unchanged since are reused; a rewrite of the same size is seen
    by its change time."""
    monkeypatch.setattr(shop_cache, "RACY_S", 0.0)  # every digest is kept at once
    cache = tmp_path / "cache"
    first = load_shop(shop_dir, cache_dir=cache)
    assert str(first.products["W202"].price) == "59.00"
    path = shop_dir / "products" / "W202.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("59.00", "49.00"), encoding="utf-8")  # the same size
    assert len(path.read_bytes()) == len(text.encode())
    changed = load_shop(shop_dir, cache_dir=cache)
    assert str(changed.products["W202"].price) == "49.00"
    assert changed == load_shop(shop_dir)
