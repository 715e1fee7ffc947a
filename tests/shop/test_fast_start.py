"""A fast start: files parsed once with libyaml (problems still named by file and line, as the
pure-Python parser names them), and the validated shop read back from the data directory
while nothing of it has changed."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.errors import ShopInvalid
from bot.shop import load_shop
from bot.shop import yamlio
from bot.shop.cache import cached_shop, shop_key
from bot.shop.loader import _validate

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_shop"


def _problems(shop_dir: Path, cache_dir: Path | None = None) -> list[str]:
    with pytest.raises(ShopInvalid) as caught:
        load_shop(shop_dir, cache_dir=cache_dir)
    return [str(p) for p in caught.value.problems]


def _copy(tmp_path: Path) -> Path:
    shop_dir = tmp_path / "shop"
    shutil.copytree(MINI, shop_dir)
    return shop_dir


def test_libyaml_is_what_parses() -> None:
    assert yamlio.FastShopYamlLoader.__mro__[1] is yaml.CSafeLoader


def test_syntax_errors_read_as_the_pure_python_parser_says_them(tmp_path: Path) -> None:
    shop_dir = _copy(tmp_path)
    broken = "- {q: 可以开发票吗, a: [unclosed\n"
    (shop_dir / "faq.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as slow:
        yaml.load(broken, Loader=yamlio.ShopYamlLoader)  # noqa: S506
    mark = slow.value.problem_mark  # type: ignore[attr-defined]
    assert f"faq.yaml:{mark.line + 1}: YAML syntax error: {slow.value.problem}" in _problems(shop_dir)  # type: ignore[attr-defined]


def test_lines_of_problems_deep_in_block_style_files(tmp_path: Path) -> None:
    """A product sheet written in block style: the line of the bad SKU price is named."""
    shop_dir = _copy(tmp_path)
    path = shop_dir / "products" / "W202.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["skus"][1]["price"] = "59.001"
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).replace("'59.001'", "59.001")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    second_sku = [i for i, line in enumerate(lines, 1) if line.lstrip().startswith("- sku_id")][1]
    price_line = next(i for i in range(second_sku, len(lines) + 1) if lines[i - 1].strip().startswith("price: 59.001"))
    assert any(p.startswith(f"products/W202.yaml:{price_line} skus.1.price:") for p in _problems(shop_dir))


def test_money_stays_decimal_with_libyaml() -> None:
    assert str(yamlio.load("price: 168.00")["price"]) == "168.00"


def test_a_validated_shop_is_read_back_until_a_file_changes(tmp_path: Path) -> None:
    shop_dir, cache = _copy(tmp_path), tmp_path / "cache"
    fresh = load_shop(shop_dir)
    first = load_shop(shop_dir, cache_dir=cache)
    entries = list(cache.glob("shop-*.pickle"))
    assert len(entries) == 1 and first == fresh
    again = load_shop(shop_dir, cache_dir=cache)
    assert again == fresh and list(cache.glob("shop-*.pickle")) == entries
    assert again.sku("W202-BK") is not None and again.content_hash == fresh.content_hash

    product = shop_dir / "products" / "W202.yaml"
    product.write_text(product.read_text(encoding="utf-8").replace("price: 59.00", "price: 49.00", 1), encoding="utf-8")
    changed = load_shop(shop_dir, cache_dir=cache)
    assert changed.products["W202"].price != fresh.products["W202"].price
    assert changed == load_shop(shop_dir)
    assert list(cache.glob("shop-*.pickle")) != entries and len(list(cache.glob("shop-*.pickle"))) == 1


def test_a_file_added_to_the_shop_changes_the_key(tmp_path: Path) -> None:
    shop_dir = _copy(tmp_path)
    before = shop_key(shop_dir)
    (shop_dir / "rules" / "新规则.md").write_text("## 新规则\n\n周末也发货。\n", encoding="utf-8")
    assert shop_key(shop_dir) != before


def test_a_broken_shop_is_never_cached_and_always_reported(tmp_path: Path) -> None:
    shop_dir, cache = _copy(tmp_path), tmp_path / "cache"
    load_shop(shop_dir, cache_dir=cache)
    shop_yaml = shop_dir / "shop.yaml"
    shop_yaml.write_text(shop_yaml.read_text(encoding="utf-8").replace("Asia/Shanghai", "Asia/Nowhere"), encoding="utf-8")
    for _ in range(2):
        assert "shop.yaml:2 timezone: unknown timezone 'Asia/Nowhere'" in _problems(shop_dir, cache)


def test_a_damaged_entry_is_validated_again(tmp_path: Path) -> None:
    shop_dir, cache = _copy(tmp_path), tmp_path / "cache"
    load_shop(shop_dir, cache_dir=cache)
    (entry,) = cache.glob("shop-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_shop(shop_dir, cache_dir=cache) == load_shop(shop_dir)
    assert entry.read_bytes() != b"not a pickle"


def test_starts_loading_one_shop_together_validate_it_once(tmp_path: Path) -> None:
    shop_dir = _copy(tmp_path)
    validated: list[Path] = []

    def slow_validate(root: Path):  # type: ignore[no-untyped-def]
        validated.append(root)
        time.sleep(0.3)  # the other start arrives meanwhile
        return _validate(root)

    shops = []
    starts = [
        threading.Thread(target=lambda: shops.append(cached_shop(shop_dir, tmp_path / "cache", slow_validate)))
        for _ in range(3)
    ]
    for t in starts:
        t.start()
    for t in starts:
        t.join()
    assert len(validated) == 1
    assert len(shops) == 3 and shops[1] == shops[0] and shops[2] == shops[0]
