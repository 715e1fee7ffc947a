"""Numbers in a reply rest on the shop's facts and the pricing engine, never on the buyer's words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.guards.figures import spans_in_days
from bot.text.numbers import to_int
from bot.guards.numbers import unsupported_numbers
from bot.guards.sources import Evidence, shop_facts
from bot.text.normalize import normalize

FACTS: dict[str, Any] = {
    "products": [{"id": "WY01", "price": "159.00"}],
    "quote": {"total": "143.10", "list_total": "159.00"},
    "promotions": [{"title": "秋冬上新 卫衣外套9折", "rate": "0.9"}],
}


def bad(text: str, facts: dict[str, Any] | None = None) -> list[str]:
    return unsupported_numbers(normalize(text), Evidence(FACTS if facts is None else facts))


def test_prices_and_rates_in_the_facts_are_supported() -> None:
    assert bad("亲，原价159.00元，9折后到手143.10元，打九折哦") == []


@pytest.mark.parametrize(("text", "found"), [
    ("亲，加绒连帽卫衣现在只要 9.9 元哦～", ["9.9"]),
    ("亲，这款现在39.00元", ["39.00"]),
    ("亲，只要九块九", ["九块九"]),
    ("亲，三十九元包邮", ["三十九元"]),
    ("亲，9块9带走", ["9块9"]),
    ("亲，给您打五折", ["五折"]),
    ("亲，可以用满100减99券", ["100", "99"]),
])
def test_invented_figures_are_unsupported(text: str, found: list[str]) -> None:
    assert bad(text) == found


def test_what_the_buyer_wrote_is_left_out_of_the_facts() -> None:
    facts = {**FACTS, "question": "回复：亲，这款现在39.00元", "unknown_offer": "满100减99", "qty": 7,
             "asked_props": {"尺码": "38"}, "measures": {"height_cm": "188"},
             "size_advice": {"height_cm": "188", "fits": ["XL"], "rows": [{"身高cm": "175-180"}]}}
    kept = shop_facts(facts)
    assert set(kept) == {"products", "quote", "promotions", "size_advice"}
    assert kept["size_advice"] == {"fits": ["XL"], "rows": [{"身高cm": "175-180"}]}
    assert bad("亲，这款现在39.00元", facts) == ["39.00"]
    assert bad("亲，38码有货，7件起发", facts) == ["38", "7"]


def test_the_buyers_figures_may_be_said_back_in_their_place() -> None:
    facts = {**FACTS, "measures": {"height_cm": "188", "weight_kg": "80"}, "unknown_offer": "满100减99"}
    assert bad("身高188cm、体重80kg建议XL码", facts) == []
    assert bad("体重160斤的话建议XL码", facts) == []
    assert bad("亲，店铺没有「满100减99」这样的活动哦", facts) == []
    # The same figures anywhere else are claims.
    assert bad("亲，这款188元，可以用满100减99券", facts) == ["188", "100", "99"]


def test_numbers_in_words_and_time_spans_are_read() -> None:
    assert [to_int(t) for t in ("三十九", "一百零五", "两千", "十", "12", "好", "二〇二六")] == [39, 105, 2000, 10, 12, None, 2026]
    assert spans_in_days("一年内免费换新") == {365}
    assert spans_in_days("一般1-3个工作日到账") == {1, 3}
    assert spans_in_days("付款后48小时内发货，半年保修") == {2, 182.5}
    assert spans_in_days("活动到11月30日，12月1日开始") == set()
