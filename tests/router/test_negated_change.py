"""The words of a change after a negation (「我不想取消了」, 「能不能先别取消」, 「不用退货」) decline
it: no rule for that change applies, while the same words asked (「要不要取消」), complained of
(「怎么还不退款」) or beside another request (「不用退货，直接退款吧」) still do. And a number beside
a question only names the order the question is about (「订单号7001，发票寄到哪里」)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.router.router import Router, build_router
from bot.shop import load_shop

if TYPE_CHECKING:
    from tests.router.conftest import AfterCancelAsked

ROOT = Path(__file__).resolve().parents[2]
CANCEL = {"pending": {"id": "act1", "kind": "cancel", "intent": "cancel_order", "tid": "7001"}}
RETURN = {"pending": {"id": "act1", "kind": "return", "intent": "return", "tid": "7003"}}
NOTHING: dict = {}


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_shop(ROOT / "knowledge"))


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (CANCEL, "我不想取消了"), (CANCEL, "能不能先别取消"), (CANCEL, "我不打算取消了"),
        ({"pending": {"id": "act1", "kind": "refund", "intent": "refund", "tid": "7002"}}, "能不能先别退款"),
        (RETURN, "我不想退货了"), (RETURN, "我不打算退了"), (RETURN, "我不想退货了 我怕来了也一样"),
        (NOTHING, "我不想取消了"), (NOTHING, "我不想退货了"), (NOTHING, "不用改地址了"),
    ],
)
def test_a_negated_change_is_a_no(router: Router, state: dict, text: str) -> None:
    turn = router.route(text, state)
    assert turn.intent == "deny", turn.explanation


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("不取消了 帮我催下发货", "logistics"),  # the no, and what the buyer wants instead
        ("不用退货，直接退款吧", "refund"),
        ("别退款 我要换货", "exchange"),
        ("不要换了，退款吧", "refund"),
        ("怎么还不退款", "refund"),  # not yet done: a complaint about it, no decline
        ("要不要取消呢", "cancel_order"),  # asked, not declined
        ("用不用退货", "return"),
        ("需不需要换货", "exchange"),
        ("不想要了 取消吧", "cancel_order"),  # the no is of the goods; the request is to cancel
        ("没发货能取消吗", "cancel_order"),
        ("不退款我就给你们差评", "complaint"),  # a condition and a threat, not a no
        ("为什么不能取消", "cancel_order"),
    ],
)
def test_the_change_asked_for_beside_or_after_a_negation_stands(router: Router, text: str, intent: str) -> None:
    turn = router.route(text, NOTHING)
    assert turn.intent == intent, turn.explanation


def test_a_no_in_those_words_leaves_the_order_as_it_was(after_cancel_asked: AfterCancelAsked) -> None:
    services, kept = after_cancel_asked("我不想取消了")
    assert kept.action is None and kept.intent == "deny", kept.reply
    again = services.bot.handle(kept.conversation_id, "b01", "好的")  # nothing is pending any more: no cancellation
    assert again.action is None, again.reply
    order = services.orders.order("7001")
    assert order is not None and order.status == "WAIT_BUYER_PAY"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("订单号7001，发票寄到哪里", "invoice"),
        ("7001 这个订单能开发票吗", "invoice"),
        ("7001 有没有优惠券", "price_promotion"),
    ],
)
def test_an_order_number_beside_a_question_names_its_order(router: Router, text: str, intent: str) -> None:
    turn = router.route(text, NOTHING)
    assert turn.intent == intent, turn.explanation
    assert turn.slots.tids == ["7001"]


def test_an_order_number_alone_still_asks_about_that_order(router: Router) -> None:
    turn = router.route("7001 查一下", NOTHING)
    assert (turn.intent, turn.slots.tids) == ("order_status", ["7001"])
