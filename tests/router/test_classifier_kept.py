"""A process trains the classifier of a shop once; a data directory keeps it between starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bot.router.cache as cache
from bot.caching import words_digest
from bot.router.classifier import TRAIN_FILE, IntentClassifier
from bot.router.delex import delexicaliser_for
from bot.router.lexicon import DATA_DIR
from bot.router.router import shop_words
from bot.shop.models import Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    """The training data cut to its first lines of each intent: quick to train."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    kept: dict[str, int] = {}
    lines = []
    for line in (DATA_DIR / TRAIN_FILE).read_text(encoding="utf-8").splitlines():
        intent = line.split("\t", 1)[0]
        if line.startswith("#") or "\t" not in line or kept.get(intent, 0) < 12:
            kept[intent] = kept.get(intent, 0) + 1
            lines.append(line)
    (folder / TRAIN_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_routers_of_one_shop_in_one_process_train_once(
    demo_shop: Shop, small_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained: list[Path] = []
    real = cache.train_default

    def counting(tokenize, data_dir, *, delex=None):  # type: ignore[no-untyped-def]
        trained.append(data_dir)
        return real(tokenize, data_dir, delex=delex)

    monkeypatch.setattr(cache, "train_default", counting)
    monkeypatch.setattr(cache, "_KEPT", type(cache._KEPT)())
    tokenizer = ShopTokenizer(shop_words(demo_shop))

    def build(cache_dir: Path | None) -> IntentClassifier:
        return cache.trained_classifier(
            lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(demo_shop),
            shop_hash=demo_shop.content_hash, cache_dir=cache_dir, data_dir=small_data,
        )

    first = build(None)
    second = build(tmp_path / "a")
    third = build(None)
    assert trained == [small_data]
    assert second is first and third is first  # one model, shared
    assert list((tmp_path / "a").glob("intent-classifier-*.pickle"))  # written though not trained there
    for text in ("我的快递到哪里了", "能便宜点吗", "想退货"):
        norm = normalize(text)
        assert second.probabilities(norm) == pytest.approx(first.probabilities(norm), abs=1e-12)
        assert third.probabilities(norm) == pytest.approx(first.probabilities(norm), abs=1e-12)

    cache.trained_classifier(
        lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(demo_shop),
        shop_hash="another shop", cache_dir=None, data_dir=small_data,
    )
    assert len(trained) == 2  # another shop's words: trained again

    cache.trained_classifier(
        lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(demo_shop),
        shop_hash=demo_shop.content_hash, cache_dir=None, data_dir=small_data,
        vocabulary=words_digest([*tokenizer.words, "新词"]),
    )
    assert len(trained) == 3  # a tokenizer that knows other words: its tokens differ, trained again
