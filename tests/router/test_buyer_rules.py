"""More ways real buyers put things that the router reads by rule or word list: an exchange the
shop refused told of, a pickup for a return asked in other words, where goods ship from (货从哪出),
and bad packing blamed on the shop."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.router.router import Router, build_router
from bot.shop import load_shop

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_shop(MINI))


@pytest.mark.parametrize(
    "text",
    [
        "七天之内坏的都不让换货 太不讲理了",
        "质量问题也不给换货 太过分了",
        "才用两天就坏 居然不能换货 你们这服务太差了",
    ],
)
def test_an_exchange_refused_told_of_is_a_complaint_not_an_exchange(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == "complaint", turn.explanation


@pytest.mark.parametrize("text", ["质量有问题 我要换货", "能换货吗", "帮我换货"])
def test_asking_for_an_exchange_still_is_one(router: Router, text: str) -> None:
    assert router.route(text, {}).intent == "exchange"


@pytest.mark.parametrize("text", ["上门收件吗 明天上午能来不", "你们能上门收吗", "退的时候快递上门取货么"])
def test_a_pickup_for_a_return_is_the_return_procedure(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert (turn.intent, turn.fine_intent) == ("return", "return_policy"), turn.explanation


@pytest.mark.parametrize(
    "text",
    ["货从哪出 我人在西安", "亲 货是在哪出的"],
)
def test_where_goods_ship_from_is_shipping_policy(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == "shipping_policy", turn.explanation


def test_where_my_own_goods_ship_from_is_not_the_policy(router: Router) -> None:
    turn = router.route("我的货从哪发的 怎么还没到", {})
    assert turn.intent != "shipping_policy", turn.explanation


@pytest.mark.parametrize("text", ["这也是你们打包的问题", "这个是你们打包的问题"])
def test_bad_packing_blamed_on_the_shop_is_a_complaint(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == "complaint", turn.explanation


@pytest.mark.parametrize(
    "text",
    ["坏了给我换个新的吧", "能不能换一台", "收到是坏的 寄回去重新发一个", "可以调换吗", "手机屏幕坏了能换新的吗"],
)
def test_a_replacement_asked_in_any_trade_s_words_is_an_exchange(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert (turn.intent, turn.source) == ("exchange", "rule"), turn.explanation


@pytest.mark.parametrize("text", ["以旧换新怎么参加", "滤芯多久换新的", "不想换新的了"])
def test_trade_ins_parts_and_a_no_are_not_a_replacement(router: Router, text: str) -> None:
    turn = router.route(text, {})
    assert not (turn.intent == "exchange" and turn.source == "rule"), turn.explanation
