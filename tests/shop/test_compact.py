"""A validated shop shares its equal values, and stays the same shop."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from bot.shop import load_shop
from bot.shop.compact import compact

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO = Path(__file__).resolve().parents[2] / "knowledge"


def _prop_values(shop):  # type: ignore[no-untyped-def]
    return [(k, v) for p in shop.products.values() for s in p.skus for k, v in s.props.items()]


@pytest.mark.parametrize("root", [DEMO, FIXTURES / "mini_shop", FIXTURES / "digital_shop"])
def test_compacting_changes_no_value(root: Path) -> None:
    shop = load_shop(root)
    dumped = shop.model_dump()
    assert compact(shop) is shop
    assert shop.model_dump() == dumped  # compacting again changes nothing either
    again = pickle.loads(pickle.dumps(shop))
    assert again.model_dump() == dumped


def test_equal_values_are_one_object_also_in_the_cached_copy(tmp_path: Path) -> None:
    shop_dir = Path(shutil.copytree(DEMO, tmp_path / "shop"))
    shop = load_shop(shop_dir, cache_dir=tmp_path / "cache")
    cached = load_shop(shop_dir, cache_dir=tmp_path / "cache")  # read back from the cache
    for s in (shop, cached):
        pairs = _prop_values(s)
        keys = {}
        for key, _ in pairs:
            assert keys.setdefault(key, key) is key  # every 颜色 is the same string
        prices = {}
        for p in s.products.values():
            for sku in p.skus:
                assert prices.setdefault(str(sku.price), sku.price) is sku.price
        assert len(keys) < len(pairs)


def test_a_change_to_one_product_shows_in_no_other() -> None:
    shop = load_shop(DEMO)
    # Two products whose SKUs share a property value (one string object after compacting).
    owners: dict[tuple[str, str], list[str]] = {}
    for p in shop.products.values():
        for k, v in p.skus[0].props.items():
            owners.setdefault((k, v), []).append(p.id)
    (key, value), pids = next((kv, ps) for kv, ps in owners.items() if len(ps) > 1)
    first, second = shop.products[pids[0]], shop.products[pids[1]]
    assert first.skus[0].props[key] is second.skus[0].props[key]
    before = [dict(s.props) for s in second.skus]
    stock = second.skus[0].stock
    first.skus[0].props[key] = "改过的值"
    first.skus[0].stock += 5
    first.title = "改过的标题"
    assert [dict(s.props) for s in second.skus] == before
    assert second.skus[0].stock == stock and second.title != "改过的标题"
