"""Parsing a new delivery address out of a buyer's message."""

from __future__ import annotations

import pytest

from bot.router.address import parse_address
from bot.router.lexicon import load_lexicon
from bot.text.normalize import normalize


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_address(normalize(text), load_lexicon())


def test_a_region_left_as_it_is_keeps_the_orders_region_and_changes_the_street() -> None:
    addr = parse("礼盒那单地址改一下，北京朝阳区不变，详细地址改成：阜通东大街6号院3号楼1802")
    assert addr is not None and addr.keep_region and addr.complete
    assert (addr.region, addr.detail) == (None, "阜通东大街6号院3号楼1802")
    addr = parse("省市区不变，详细地址改成上地东路35号院2号楼1002")
    assert addr is not None and addr.complete and addr.detail == "上地东路35号院2号楼1002"


@pytest.mark.parametrize("tail", ["谢谢🙏", "，麻烦了", " 可以吗", "哈～"])
def test_an_address_ends_where_the_address_ends(tail: str) -> None:
    addr = parse(f"地址改成浙江省宁波市鄞州区天童南路588号{tail}")
    assert addr is not None
    assert (addr.region, addr.detail) == ("浙江省 宁波市 鄞州区", "天童南路588号")


def test_a_street_alone_is_not_a_complete_address() -> None:
    addr = parse("地址改成天童南路588号")
    assert addr is not None and not addr.complete
