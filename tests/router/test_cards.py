"""Order cards a chat client attaches: the order is a slot, the buyer's own words are the request."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.router.router import Router, build_router
from bot.shop import load_shop
from bot.text.cards import split_cards
from bot.text.normalize import normalize

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_shop(MINI))


@pytest.mark.parametrize(
    ("text", "words", "tids"),
    [
        ("[订单编号:7002，订单金额:128元，下单时间:11月18日 09:30] 怎么还没发货", "怎么还没发货", ("7002",)),
        ("咨询订单号：7001 商品ID：3 我要退货", "我要退货", ("7001",)),
        ("在吗 咨询订单号:7001 订单金额:59元 下单时间:11月20日", "在吗", ("7001",)),
        ("订单号:7001 订单号:7002 这两单一起发吗", "这两单一起发吗", ("7001", "7002")),
        ("我的订单7001什么时候到", "我的订单7001什么时候到", ()),  # typed by the buyer: no card
    ],
)
def test_cards_are_taken_out_of_the_words(text: str, words: str, tids: tuple[str, ...]) -> None:
    split = split_cards(normalize(text))
    assert (split.words, split.tids) == (words, tids)


def test_the_card_does_not_decide_the_intent(router: Router) -> None:
    turn = router.route("[订单编号:7001，订单金额:99元，下单时间:11月20日 10:00] 我想退货", {})
    assert turn.intent == "return"
    assert turn.slots.tids == ["7001"]


def test_a_greeting_with_a_card_is_a_greeting_and_keeps_the_order(router: Router) -> None:
    turn = router.route("咨询订单号:7001 订单金额:99元 下单时间:11月20日 你好", {})
    assert turn.intent == "greeting"
    assert turn.slots.tids == ["7001"]


def test_a_card_alone_asks_about_that_order(router: Router) -> None:
    turn = router.route("[订单编号:7001，订单金额:99元，下单时间:11月20日 10:00]", {})
    assert (turn.intent, turn.fine_intent, turn.slots.tids) == ("order_status", "order_card", ["7001"])


@pytest.mark.parametrize("text", ["7001 你看是这样吗", "7001 你帮我看看是不是这样", "7002 你说的是这个吗"])
def test_an_order_number_beside_an_unsure_question_only_says_which_order(router: Router, text: str) -> None:
    # The number is sure of itself and the question is not; it still names the order the
    # question is about, it does not turn the line into "look up this order".
    turn = router.route(text, {})
    assert turn.fine_intent != "tid_only" and turn.intent != "order_status"
    assert turn.slots.tids == [text.split()[0]]


def test_a_short_question_carries_on_an_after_sales_thread(router: Router) -> None:
    turn = router.route("审核大概要多久呢", {"last_intent": "refund"})
    assert (turn.intent, turn.fine_intent, turn.source) == ("refund", "follow_up", "context")


def test_pre_sales_questions_do_not_inherit_a_thread(router: Router) -> None:
    # Pre-sales talk moves from question to question: no carry-over from a price question.
    turn = router.route("审核大概要多久呢", {"last_intent": "price_promotion"})
    assert turn.fine_intent != "follow_up"


def test_a_question_that_names_its_own_topic_is_not_a_follow_up(router: Router) -> None:
    turn = router.route("这件衬衫有什么颜色", {"last_intent": "refund"})
    assert turn.intent != "refund"
