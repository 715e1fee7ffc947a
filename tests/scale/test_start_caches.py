"""The trained intent classifier kept between starts predicts what a freshly trained one does,
and a change of the shop trains it again."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.router.cache import NAME
from bot.router.classifier import load_examples
from bot.router.lexicon import DATA_DIR
from bot.router.router import build_router
from bot.shop import load_shop

ROOT = Path(__file__).resolve().parents[2]


def _lines() -> list[str]:
    return [e.text for e in load_examples(DATA_DIR / "heldout.tsv")][:300]


def test_a_kept_classifier_predicts_what_a_trained_one_does(tmp_path: Path) -> None:
    shop = load_shop(ROOT / "knowledge")
    cache = tmp_path / "router"
    trained = build_router(shop)
    first = build_router(shop, cache_dir=cache)
    (entry,) = cache.glob(f"{NAME}-*.pickle")
    kept = build_router(shop, cache_dir=cache)
    assert list(cache.glob(f"{NAME}-*.pickle")) == [entry]
    for text in _lines():
        made = first.route(text, {})
        assert kept.route(text, {}) == made, text  # the very model that was kept
        # Training itself wobbles in the last digits (liblinear's shuffling), not in its answers.
        fresh = trained.route(text, {})
        assert (made.intent, made.fine_intent, made.source) == (fresh.intent, fresh.fine_intent, fresh.source), text
        assert abs(made.confidence - fresh.confidence) < 1e-4, text


def test_another_shop_trains_its_own(tmp_path: Path) -> None:
    cache = tmp_path / "router"
    demo = ROOT / "knowledge"
    build_router(load_shop(demo), cache_dir=cache)
    (entry,) = cache.glob(f"{NAME}-*.pickle")
    copy = tmp_path / "shop"
    shutil.copytree(demo, copy)
    product = next((copy / "products").glob("*.yaml"))
    product.write_text(product.read_text(encoding="utf-8").replace("title: ", "title: 新款", 1), encoding="utf-8")
    build_router(load_shop(copy), cache_dir=cache)
    (again,) = cache.glob(f"{NAME}-*.pickle")
    assert again != entry
