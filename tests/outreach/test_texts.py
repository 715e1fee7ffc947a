"""What the shop sends unprompted reads right: ratings are read from the buyer's words, and
every text passes the reply guards."""

from __future__ import annotations

import pytest

from bot.outreach.notices import return_address
from bot.outreach.ratings import parse_rating
from bot.outreach.texts import OutreachTexts
from bot.shop import Shop, load_shop

from .conftest import SHOP


@pytest.mark.parametrize(
    ("text", "rating"),
    [("2", 2), ("5分", 5), ("给2分吧，盖子漏水", 2), ("五星好评", 5), ("两颗星", 2), ("1分。", 1),
     ("４分", 4), ("订单7001还没到", None), ("谢谢", None), ("10分", None), ("12", None), ("6分", None)],
)
def test_ratings_are_read_from_the_buyers_words(text: str, rating: int | None) -> None:
    assert parse_rating(text) == rating


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(SHOP)


def test_every_text_passes_the_guards_and_names_no_internal_id(shop: Shop) -> None:
    texts = OutreachTexts(shop)
    rendered = [
        texts.render("payment_reminder", buyer="c01", when="11月21日 09:40", items="明前西湖龙井×1",
                     tid="9001", amount="201.80", coupon=texts.part("payment_coupon", title="满199减15店铺券",
                                                                    ends="11月30日 23:59")),
        texts.render("notice_shipped", buyer="c02", tid="9005", items="龙井×1", carrier="顺丰速运",
                     tracking_no="SF100200"),
        texts.render("notice_exchange_shipped", buyer="c03", tid="9007", item="保温杯（黑色）",
                     carrier="顺丰速运", tracking_no="SF200300"),
        texts.render("notice_return_agreed", buyer="c03", tid="9008", kind="退货退款", items="龙井×1",
                     address=return_address(shop) or ""),
        texts.render("notice_return_agreed_ask", buyer="c03", tid="9008", kind="退货退款", items="龙井×1"),
        texts.render("notice_refund_success", buyer="c03", tid="9008", amount="142.80"),
        texts.render("follow_up", buyer="c02", signed="11月18日 10:00", items="保温杯×1", bot="小云"),
        texts.render("care_birthday", buyer="c01"),
    ]
    for text in rendered:
        assert text.startswith("亲") and "R2" not in text and "wa" not in text


def test_the_return_address_comes_from_the_shops_rules(shop: Shop, demo_shop: Shop) -> None:
    assert "龙井路18号" in (return_address(shop) or "")
    assert return_address(demo_shop) is None
