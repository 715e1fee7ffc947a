"""Ways real buyers put things that the router reads by rule: price protection, money that has
not arrived, services that are not orders, returns before delivery, giving up, a yes followed
by more, and missing pieces told as numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.router.lexicon import load_lexicon
from bot.router.router import Router, build_router
from bot.router.slots import extract_slots
from bot.shop import load_shop
from bot.text.normalize import normalize

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"
REFUND_WAITS = {"pending": {"id": "act1", "kind": "refund", "intent": "refund"}}


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_shop(MINI))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # A price that fell after buying is price protection, whatever the parcel is doing.
        ("耳机刚买三天就降了五十 快递还没到", "price_promotion"),
        ("页面写了保价，现在便宜了能申请吗", "price_promotion"),
        ("那个差价能退给我吗", "price_promotion"),
        # Money that has not arrived, also after a cancellation or a refusal at the door.
        ("钱几天能到账", "refund"),
        ("订单取消了 退款怎么还没来", "refund"),
        ("快递我已经拒收了，钱什么时候退", "refund"),
        # 退货 of an order not shipped yet is a cancellation.
        ("还没发货 这单能退货吗", "cancel_order"),
        ("东西还没收到 我想退货", "cancel_order"),
        # 退换货 is a return; 换货 alone an exchange.
        ("这个能申请退换货吗", "return"),
        ("尺码小了想换货", "exchange"),
        # Telling the shop, and nothing else, that the order is placed or paid.
        ("已经下单了", "payment"),
        ("我拍好了哈", "payment"),
        # Putting a placed order's shipping off.
        ("能推迟几天再发货吗", "logistics"),
        ("订单显示签收了 可我没收到货", "logistics"),
        # Order flows still answer the order requests the rules above sit beside.
        ("帮我把这单取消了", "cancel_order"),
        ("收货电话填错了 帮我改一下", "modify_address"),
    ],
)
def test_real_buyer_phrasings_route_to_their_intent(router: Router, text: str, intent: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == intent, turn.explanation


@pytest.mark.parametrize(
    ("text", "not_intent"),
    [
        ("精华30ml的想换成50ml 我补差价也行", "price_promotion"),  # the buyer pays the difference
        ("话费充值怎么还没到账", "refund"),  # a top-up, not a refund
        ("我想换一下账号绑定的手机号", "modify_address"),  # the account, not an order's address
        ("怎么取消自动续费", "cancel_order"),  # a service, not an order
        ("会员不想续了 怎么取消会员", "cancel_order"),
        ("已经付款了 什么时候发货", "payment"),  # a question beside the report
        ("商家说不支持退换货，可这就是质量问题啊", "return"),  # the refusal told of, not asked for
    ],
)
def test_words_beside_a_rule_do_not_trigger_it(router: Router, text: str, not_intent: str) -> None:
    turn = router.route(text, {})
    assert turn.intent != not_intent, turn.explanation


def test_a_message_that_ends_by_giving_up_is_a_no(router: Router) -> None:
    turn = router.route("不能改到外地的话，那就算了", {})
    assert (turn.intent, turn.source) == ("deny", "lexicon")
    assert router.route("改地址的事说来不及了… 算了算了", {}).intent == "deny"
    # Giving up first and asking after is the request.
    assert router.route("算了，我还是退货吧", {}).intent == "return"


def test_a_yes_first_then_details_answers_the_pending_question(router: Router) -> None:
    turn = router.route("对的 退款原因是尺码不合适", REFUND_WAITS)
    assert (turn.intent, turn.source) == ("confirm", "context")
    assert router.route("可以 我这边看不到申请的按钮", REFUND_WAITS).intent == "confirm"


@pytest.mark.parametrize(
    "text",
    [
        "好，你确定能退？",  # a doubt after the yes
        "好的，退款的话运费谁出",  # a question after the yes
        "嗯？什么意思",  # a sound that only acknowledges
        "好，不过先别退",  # what follows 不过 is the answer
    ],
)
def test_a_yes_with_a_doubt_or_a_question_after_it_confirms_nothing(router: Router, text: str) -> None:
    assert router.route(text, REFUND_WAITS).intent != "confirm"


def test_a_yes_first_with_nothing_pending_is_read_for_its_request(router: Router) -> None:
    assert router.route("对的 发票要改成公司抬头", {}).intent == "invoice"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("买了三双袜子 只收到两双", "quality"),
        ("订的是六瓶，就收到五瓶", "quality"),
        ("明天就收到了吧", None),  # a time, not a count
        ("我才收到", None),
    ],
)
def test_fewer_pieces_than_bought_are_a_quality_problem(text: str, kind: str | None) -> None:
    assert extract_slots(normalize(text), load_lexicon()).reason_kind == kind
