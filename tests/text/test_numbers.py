"""One parser per kind of number: counts, discount rates and body measures, read alike by the
router, the drafter and the guards."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.router.lexicon import load_lexicon
from bot.router.slots import extract_slots
from bot.text.normalize import normalize
from bot.text.numbers import RATE, counts, measures, rate_of, to_int

UNITS = ("件", "个", "罐", "盒")


@pytest.mark.parametrize(
    ("text", "n"),
    [("要十二件", 12), ("二十件多少钱", 20), ("来两罐", 2), ("俩盒", 2), ("买3个", 3), ("一百二十件", 120)],
)
def test_counts_read_the_whole_numeral(text: str, n: int) -> None:
    assert [c.n for c in counts(normalize(text), UNITS)] == [n]


def test_an_ordinal_is_not_a_count() -> None:
    assert counts("第二件半价", UNITS) == []
    assert counts("第十二件", UNITS) == []


@pytest.mark.parametrize(("text", "rate"), [("八五折", "0.85"), ("8.5折", "0.85"), ("85折", "0.85"), ("九折", "0.9")])
def test_discount_rates(text: str, rate: str) -> None:
    m = RATE.search(text)
    assert m is not None and rate_of(m.group(1)) == Decimal(rate)


@pytest.mark.parametrize(
    ("text", "height", "weight"),
    [
        ("身高175体重120", 175, 60),  # a bare weight over 100 is 斤
        ("1米75 65kg", 175, 65),
        ("1.75米，140斤", 175, 70),
        ("一米七五", 175, None),
        ("宝宝身高70，体重9公斤", 70, 9),
        ("1.5kg装的", None, Decimal("1.5")),  # a pack weight is not a height
    ],
)
def test_measures(text: str, height: int | None, weight: int | Decimal | None) -> None:
    m = measures(normalize(text))
    assert m.height_cm == (Decimal(height) if height is not None else None)
    assert m.weight_kg == (Decimal(weight) if weight is not None else None)


def test_the_router_reads_the_same_numbers_as_the_drafter() -> None:
    from bot.drafting.quantities import parse_qty
    from bot.drafting.facts import measures as drafter_measures  # the drafter's own import

    lex = load_lexicon()
    for text in ("要十二件", "体重120身高165"):
        slots = extract_slots(normalize(text), lex)
        drafted = drafter_measures(normalize(text))
        assert slots.qty == parse_qty(text)
        assert (slots.weight_kg, slots.height_cm) == (
            float(drafted.weight_kg) if drafted.weight_kg is not None else None,
            int(drafted.height_cm) if drafted.height_cm is not None else None,
        )


def test_to_int() -> None:
    assert [to_int(t) for t in ("十二", "两", "一百零五", "7", "好", "")] == [12, 2, 105, 7, None, None]
