"""Loading a shop directory: valid shops load whole, broken ones name every problem."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ShopInvalid
from bot.shop import load_shop

TESTS = Path(__file__).resolve().parent.parent
MINI = TESTS / "fixtures" / "mini_shop"
DEMO = TESTS.parent / "knowledge"


def test_demo_shop_meets_the_catalogue_brief(demo_shop) -> None:
    categories = {p.category for p in demo_shop.products.values()}
    assert len(demo_shop.products) >= 30
    assert {"T恤", "卫衣", "衬衫", "牛仔裤", "连衣裙", "外套"} <= categories
    statuses = {o.status for o in demo_shop.orders}
    assert statuses == {
        "WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS",
        "TRADE_FINISHED", "TRADE_CLOSED",
    }
    refunds = [r for o in demo_shop.orders for r in o.refunds]
    assert {r.type for r in refunds} == {"REFUND_ONLY", "RETURN_REFUND", "EXCHANGE"}
    assert len(demo_shop.buyers) >= 12 and len(demo_shop.orders) >= 40
    assert {p.type for p in demo_shop.promotions} == {
        "discount", "nth_discount", "full_reduction", "coupon", "gift"
    }


def test_money_is_exact_decimal(mini_shop) -> None:
    product = mini_shop.products["T101"]
    assert product.price == Decimal("168.00")
    assert isinstance(product.skus[1].price, Decimal)
    assert mini_shop.orders[0].items[0].paid == Decimal("142.80")


def test_rules_split_into_sections_with_front_matter(mini_shop) -> None:
    doc = next(r for r in mini_shop.rules if r.file == "退换货.md")
    assert doc.title == "退换货说明"
    assert doc.tags == ["售后"]
    assert [s.heading for s in doc.sections] == ["七天无理由", "质量问题"]


def test_naive_times_take_the_shop_timezone(tmp_path: Path) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(MINI, shop_dir)
    promos = shop_dir / "promotions.yaml"
    promos.write_text(
        promos.read_text(encoding="utf-8").replace(
            "start: 2026-11-01T00:00:00+08:00", "start: 2026-11-01T00:00:00", 1
        ),
        encoding="utf-8",
    )
    shop = load_shop(shop_dir)
    assert shop.promotions[0].start.utcoffset().total_seconds() == 8 * 3600


def _broken_copy(tmp_path: Path) -> Path:
    shop_dir = tmp_path / "broken"
    shutil.copytree(MINI, shop_dir)
    product = shop_dir / "products" / "W202.yaml"
    text = product.read_text(encoding="utf-8")
    text = text.replace("price: 59.00\nskus", "prise: 59.00\nskus")  # typo'd key, price missing
    text = text.replace("{sku_id: W202-BK, props: {颜色: 黑色}, price: 59.00", "{sku_id: W202-BK, props: {颜色: 黑色}, price: 59.001")
    product.write_text(text, encoding="utf-8")
    orders = shop_dir / "orders.yaml"
    orders.write_text(
        orders.read_text(encoding="utf-8").replace("sku: P301-357", "sku: P301-999"), encoding="utf-8"
    )
    (shop_dir / "faq.yaml").write_text("- {q: 可以开发票吗, a: [unclosed\n", encoding="utf-8")
    shop_yaml = shop_dir / "shop.yaml"
    shop_yaml.write_text(
        shop_yaml.read_text(encoding="utf-8").replace("Asia/Shanghai", "Asia/Nowhere"), encoding="utf-8"
    )
    return shop_dir


def test_broken_shop_reports_every_problem_with_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ShopInvalid) as caught:
        load_shop(_broken_copy(tmp_path))
    lines = [str(p) for p in caught.value.problems]
    text = "\n".join(lines)
    assert "products/W202.yaml:4 prise: unknown key" in text
    assert "products/W202.yaml" in text and "price: required key is missing" in text
    assert "skus.1.price" in text and "two decimals" in text
    assert "orders.yaml" in text and "P301-999 is not a SKU of P301" in text
    assert "faq.yaml:" in text and "YAML syntax error" in text
    assert "shop.yaml:2 timezone: unknown timezone 'Asia/Nowhere'" in text
    assert len(lines) >= 6


def test_validate_command_accepts_good_and_rejects_broken(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["shop", "validate", str(MINI)])
    assert ok.exit_code == 0, ok.output
    assert "山语茶舍" in ok.output
    bad = runner.invoke(app, ["shop", "validate", str(_broken_copy(tmp_path))])
    assert bad.exit_code == 1
    assert "unknown key" in bad.output and "problem(s)" in bad.output


def test_missing_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShopInvalid) as caught:
        load_shop(tmp_path / "empty")
    files = {p.file for p in caught.value.problems}
    assert {"shop.yaml", "products/", "rules/", "promotions.yaml", "orders.yaml"} <= files


def test_order_totals_must_add_up(tmp_path: Path) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(MINI, shop_dir)
    orders = shop_dir / "orders.yaml"
    orders.write_text(
        orders.read_text(encoding="utf-8").replace("total_paid: 142.80", "total_paid: 142.00"),
        encoding="utf-8",
    )
    with pytest.raises(ShopInvalid, match=r"orders.yaml:\d+ orders.0: total_paid 142.00 is not the sum"):
        load_shop(shop_dir)
