"""An agent's gift the shop does not give is flagged; the shop's own gifts and delivery words are not."""

from __future__ import annotations

import pytest

from bot.shop import Shop
from bot.suggestions.guard import check_agent_text
from bot.suggestions.offers import UNSUPPORTED_OFFER, unsupported_offers


@pytest.mark.parametrize("text", ["亲，这款是纯棉的，下单再送一双袜子哦", "亲，送您一个小礼物～", "赠送运费险"])
def test_gifts_the_shop_never_gives_are_flagged(demo_shop: Shop, text: str) -> None:
    [flag] = unsupported_offers(text, demo_shop)
    assert flag.code == UNSUPPORTED_OFFER
    assert [f.code for f in check_agent_text(demo_shop, text, "b01")] == [UNSUPPORTED_OFFER]


@pytest.mark.parametrize(
    "text",
    ["满299送帆布袋哦", "满299就送收纳袋一个", "顺丰送达，一般两天送到", "我们会送您一张优惠券", "亲，包邮送货上门", "这款是纯棉的"],
)
def test_the_shops_own_offers_and_delivery_words_pass(demo_shop: Shop, text: str) -> None:
    assert unsupported_offers(text, demo_shop) == []


def test_a_gift_in_the_drafts_facts_is_supported(demo_shop: Shop) -> None:
    facts = {"promotions": [{"gift": "定制棉袜一双"}]}
    assert unsupported_offers("下单再送一双棉袜哦", demo_shop, facts) == []
    assert unsupported_offers("下单再送一双棉袜哦", demo_shop, {"promotions": [{"title": "棉袜第二件半价"}]})
