"""The refund ledger as pure arithmetic: shares add up, invariants are named, bad seeds refused."""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ShopInvalid
from bot.orders import ledger
from bot.shop import Shop, load_shop
from bot.shop.models import Address, Order, OrderItem, Refund

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
ADDRESS = Address(name="王芳", phone="13800001111", region="浙江省 杭州市 西湖区", detail="文三路100号")
DEMO = Path(__file__).resolve().parents[2] / "knowledge"


def order_paying(*paid: str) -> Order:
    items = [
        OrderItem(oid=f"9-{n}", product="P", sku="P-1", qty=1, price=Decimal(p), paid=Decimal(p))
        for n, p in enumerate(paid, 1)
    ]
    return Order(
        tid="9", buyer="b", status="WAIT_SELLER_SEND_GOODS", created=NOW, paid_at=NOW,
        items=items, total_paid=sum((i.paid for i in items), Decimal(0)), address=ADDRESS,
    )


def refund(rid: str, oids: list[str], amount: str, status: str = "SUCCESS", type_: str = "REFUND_ONLY") -> Refund:
    return Refund(
        id=rid, type=type_, status=status, items=oids, amount=Decimal(amount), created=NOW,
        exchange_sku="P-2" if type_ == "EXCHANGE" else None,
    )


def with_refunds(order: Order, *refunds: Refund) -> Order:
    return order.model_copy(update={"refunds": list(refunds)})


# --- shares ----------------------------------------------------------------------------------


def test_a_refund_of_whole_items_gives_each_its_paid() -> None:
    order = order_paying("58.50", "79.00")
    assert ledger.shares(order, refund("R1", ["9-1", "9-2"], "137.50")) == {"9-1": 5850, "9-2": 7900}


def test_an_exchange_moves_no_money() -> None:
    order = order_paying("58.50")
    assert ledger.shares(order, refund("R1", ["9-1"], "0.00", "WAIT_SELLER_AGREE", "EXCHANGE")) == {"9-1": 0}


@settings(max_examples=300, deadline=None)
@given(
    paid=st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=5),
    amount=st.integers(min_value=0, max_value=600_000),
)
def test_shares_add_up_to_the_amount_and_follow_paid(paid: list[int], amount: int) -> None:
    order = order_paying(*(str(ledger.yuan_of(p)) for p in paid))
    oids = [i.oid for i in order.items]
    split = ledger.shares(order, refund("R1", oids, str(ledger.yuan_of(amount))))
    assert sum(split.values()) == amount
    assert all(v >= 0 for v in split.values())
    if sum(paid) and amount <= sum(paid):
        # Proportional to paid, off by less than one 分: no item carries more than it paid.
        for oid, p in zip(oids, paid):
            assert abs(split[oid] * sum(paid) - amount * p) < sum(paid)
            assert split[oid] <= p


# --- invariants ------------------------------------------------------------------------------


def test_a_second_refund_of_a_refunded_item_is_a_breach() -> None:
    order = with_refunds(order_paying("58.50", "79.00"), refund("R1", ["9-1"], "58.50"))
    (breach,) = ledger.admit(order, refund("R2", ["9-1"], "58.50"))
    assert (breach.kind, breach.oid, breach.other) == ("refunded", "9-1", "R1")
    assert ledger.admit(order, refund("R2", ["9-2"], "79.00")) == []


@pytest.mark.parametrize("type_", ["REFUND_ONLY", "RETURN_REFUND", "EXCHANGE"])
def test_one_open_after_sale_per_item_of_any_kind(type_: str) -> None:
    amount = "0.00" if type_ == "EXCHANGE" else "58.50"
    order = with_refunds(order_paying("58.50"), refund("R1", ["9-1"], amount, "WAIT_SELLER_AGREE", type_))
    for new_type in ("REFUND_ONLY", "RETURN_REFUND", "EXCHANGE"):
        new_amount = "0.00" if new_type == "EXCHANGE" else "58.50"
        (breach,) = ledger.admit(order, refund("R2", ["9-1"], new_amount, "WAIT_SELLER_AGREE", new_type))
        assert (breach.kind, breach.other) == ("open", "R1")


def test_no_return_or_exchange_of_a_refunded_item() -> None:
    order = with_refunds(order_paying("58.50"), refund("R1", ["9-1"], "58.50"))
    assert [b.kind for b in ledger.admit(order, refund("R2", ["9-1"], "58.50", "WAIT_SELLER_AGREE", "RETURN_REFUND"))] == ["refunded"]
    assert [b.kind for b in ledger.admit(order, refund("R2", ["9-1"], "0.00", "WAIT_SELLER_AGREE", "EXCHANGE"))] == ["refunded"]


def test_a_finished_exchange_leaves_the_item_free_and_unrefunded() -> None:
    order = with_refunds(order_paying("58.50"), refund("R1", ["9-1"], "0.00", "SUCCESS", "EXCHANGE"))
    assert ledger.ledger_of(order)["9-1"].free
    assert ledger.admit(order, refund("R2", ["9-1"], "58.50", "WAIT_SELLER_AGREE", "RETURN_REFUND")) == []


def test_closed_and_refused_records_take_nothing() -> None:
    order = with_refunds(
        order_paying("58.50"),
        refund("R1", ["9-1"], "58.50", "CLOSED"),
        refund("R2", ["9-1"], "58.50", "SELLER_REFUSE_BUYER", "RETURN_REFUND"),
    )
    assert ledger.ledger_of(order)["9-1"] == ledger.ItemBalance(oid="9-1", paid=5850)
    assert ledger.admit(order, refund("R3", ["9-1"], "58.50")) == []


def test_more_back_than_paid_is_a_breach_even_for_a_free_item() -> None:
    order = order_paying("58.50")
    (breach,) = ledger.admit(order, refund("R1", ["9-1"], "58.51"))
    assert (breach.kind, breach.total, breach.paid) == ("over_paid", 5851, 5850)
    (twice,) = ledger.admit(order, refund("R1", ["9-1", "9-1"], "117.00"))  # one item named twice
    assert twice.kind == "over_paid"


def test_the_seeds_of_the_shipped_shops_break_no_invariant(demo_shop: Shop, mini_shop: Shop) -> None:
    for shop in (demo_shop, mini_shop):
        assert [b for o in shop.orders for b in ledger.breaches_of(o)] == []


# --- the loader reports a seed that breaks the ledger ----------------------------------------


def test_the_loader_names_a_seed_refund_that_refunds_an_item_twice(tmp_path: Path) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(DEMO, shop_dir)
    orders = shop_dir / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    first = '      - {id: "R1", type: REFUND_ONLY, status: SUCCESS, items: ["7015-2"], amount: 150.86, reason: 拍错尺码了，重新下单, created: 2026-11-20T18:30:00+08:00}\n'
    assert first in text
    again = first.replace('"R1"', '"R1b"')
    closed = first.replace('"R1"', '"R1c"').replace("SUCCESS", "CLOSED")  # takes nothing: fine
    orders.write_text(text.replace(first, first + again + closed), encoding="utf-8")
    line = text[: text.index(first)].count("\n") + 2  # the line of the second record

    with pytest.raises(ShopInvalid) as raised:
        load_shop(shop_dir)
    problems = [str(p) for p in raised.value.problems]
    assert problems == [
        f"orders.yaml:{line} orders.14.refunds.1: refund R1b: item 7015-2 was already refunded "
        "by R1 and cannot get another after-sale"
    ], problems


def test_the_loader_names_a_seed_refund_of_more_than_was_paid(tmp_path: Path) -> None:
    shop_dir = tmp_path / "shop"
    shutil.copytree(DEMO, shop_dir)
    orders = shop_dir / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    seeded = "items: [\"7015-2\"], amount: 150.86"
    orders.write_text(text.replace(seeded, "items: [\"7015-2\"], amount: 999.00"), encoding="utf-8")
    with pytest.raises(ShopInvalid) as raised:
        load_shop(shop_dir)
    (problem,) = [str(p) for p in raised.value.problems]
    assert "orders.14.refunds.0" in problem and "999.00, more than its paid 150.86" in problem
