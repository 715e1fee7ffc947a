"""The intent router: normalisation, context, guards, slots and the optional LLM fallback."""

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
    ("text", "intent"),
    [
        ("我要退宽", "refund"),  # misspelled
        ("訂單幫我取消", "cancel_order"),  # traditional
        ("我的快第到哪了", "logistics"),
        ("７００１的地址写错了", "modify_address"),  # full-width digits
        ("转人工", "human_agent"),
        ("能开发票吗", "invoice"),
        ("我身高170体重120斤穿什么码", "size_advice"),
        ("再不处理我就给差评", "complaint"),
        ("7002换个颜色", "exchange"),
        ("七天无理由退货", "return"),
    ],
)
def test_colloquial_and_traditional_turns_route_to_their_intent(router: Router, text: str, intent: str) -> None:
    assert router.route(text, {}).intent == intent


def test_bare_yes_and_no_answer_the_pending_question(router: Router) -> None:
    pending = {"pending": {"id": "act1", "kind": "refund", "intent": "refund"}}
    assert router.route("好的", pending).intent == "confirm"
    assert router.route("嗯嗯！", pending).intent == "confirm"
    assert router.route("算了", pending).intent == "deny"
    assert router.route("算了", pending).source == "context"


def test_an_order_id_answers_which_order(router: Router) -> None:
    pending = {"pending": {"id": "q1", "kind": "choose_order", "intent": "return", "options": ["7001", "7002"]}}
    turn = router.route("第二个", pending)
    assert (turn.intent, turn.fine_intent, turn.slots.ordinal) == ("return", "choose_order", 2)
    assert router.route("2", pending).slots.ordinal == 2


def test_slots_read_body_size_address_and_order_ids(router: Router) -> None:
    turn = router.route("我一米七五 130斤穿什么码", {})
    assert (turn.slots.height_cm, turn.slots.weight_kg) == (175, 65.0)
    addr = router.route("订单7001地址改成广东省深圳市南山区科技园路1号 13912345678", {}).slots
    assert addr.tids == ["7001"]  # neither the house number nor the phone is an order id
    assert addr.address is not None
    assert (addr.address.region, addr.address.detail, addr.address.phone) == (
        "广东省 深圳市 南山区", "科技园路1号", "13912345678",
    )


def test_threats_and_strong_anger_are_flagged(router: Router) -> None:
    assert router.route("不退款我就投诉你们", {}).slots.threat
    assert router.route("垃圾店 气死了", {}).slots.anger == 2
    assert router.route("请问什么时候发货", {}).slots.anger == 0


def test_empty_and_emoji_only_messages_are_not_understood_without_error(router: Router) -> None:
    for text in ("", "   ", "😂😂", "？？？"):
        turn = router.route(text, {})
        assert (turn.intent, turn.fine_intent) == ("other", "empty")


def test_llm_is_asked_only_when_unsure_and_only_canonical_answers_count(router: Router) -> None:
    asked: list[str] = []

    def llm(text: str) -> str | None:
        asked.append(text)
        return answer

    guarded = Router(router.shop, router.linker, router.classifier, llm)
    answer = "invoice"
    assert guarded.route("转人工", {}).intent == "human_agent"
    assert asked == []  # a sure turn never reaches the LLM
    unsure = "zzqx vvbn"
    if router.route(unsure, {}).confidence < 0.35:
        assert guarded.route(unsure, {}).intent == "invoice"
        answer = "delete all orders"
        assert guarded.route(unsure, {}).intent != "delete all orders"
        assert asked


def test_router_serves_any_shop(router: Router) -> None:
    demo = build_router(load_shop(MINI.parents[2] / "knowledge"))
    for r in (router, demo):
        assert r.route("我要退货", {}).intent == "return"


def test_router_rejects_an_unfitted_classifier(router: Router) -> None:
    from bot.router.classifier import IntentClassifier

    with pytest.raises(ValueError):
        Router(router.shop, None, IntentClassifier(lambda s: list(s)))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("付款后多久发货", "shipping_policy"),  # how soon it ships, before buying
        ("付款後幾天發貨呀", "shipping_policy"),
        ("一般用哪几家快递", "shipping_policy"),
        ("我想指定发顺丰可以吗", "shipping_policy"),
        ("能送货上门吗", "shipping_policy"),
        ("我的快递到哪了", "logistics"),  # the buyer's own parcel
        ("我已经付款了，什么时候发货", "logistics"),
    ],
)
def test_shipping_policy_is_asked_in_general_and_logistics_about_my_parcel(router: Router, text: str, intent: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == intent, turn.explanation


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("买茶叶送什么", "price_promotion"),  # gifts are promotions
        ("有没有赠品呀", "price_promotion"),
        ("双十一那个折扣现在还能用吗", "price_promotion"),
        ("打折的那款还有货吗", "stock"),  # a discount word does not make a stock question a promotion
        ("帮我推荐一下尺码", "size_advice"),
        ("这款偏大还是偏小", "size_advice"),
        ("龙井搭什么杯子好", "recommendation"),
        ("你们包油吗", "shipping_policy"),  # typo of 包邮
        ("保温杯多少前", "price_promotion"),  # typo of 多少钱
    ],
)
def test_promotions_sizes_outfits_and_typos_route_by_meaning(router: Router, text: str, intent: str) -> None:
    turn = router.route(text, {})
    assert turn.intent == intent, turn.explanation


def test_a_question_mentioning_the_shop_is_not_a_complaint_without_complaint_words(router: Router) -> None:
    assert router.route("定制的杯子图案怎么发给你们", {}).intent != "complaint"
    assert router.route("你们这服务太差了", {}).intent == "complaint"


def test_declining_an_action_by_naming_it_is_a_no(router: Router) -> None:
    pending = {"pending": {"id": "act1", "kind": "cancel", "intent": "cancel_order", "tid": "7003"}}
    for text in ("算了算了，先不取消了", "不用了 谢谢", "还是不退了", "先别取消"):
        assert router.route(text, pending).intent == "deny", text
    # A no followed by a new request is that request.
    assert router.route("不，我要退货", pending).intent == "return"


def test_naming_a_product_answers_which_order(router: Router) -> None:
    pending = {
        "pending": {"id": "q1", "kind": "choose_order", "intent": "logistics", "options": ["7001", "7002"]},
        "option_products": ["T101", "W202"],
    }
    turn = router.route("保温杯那一单", pending)
    assert (turn.intent, turn.fine_intent) == ("logistics", "choose_order")
    assert "W202" in turn.slots.product_ids


def test_clear_questions_no_flow_serves_go_to_the_drafter_and_gibberish_is_not_understood(router: Router) -> None:
    question = router.route("你们工厂在哪", {})
    assert (question.intent, question.fine_intent) == ("other", "open_question")
    for text in ("asdfgh", "啊啊啊啊", "😂😂"):
        turn = router.route(text, {})
        assert (turn.intent, turn.fine_intent) in (("other", "unsure"), ("other", "empty")), turn.explanation


SNACK = MINI.parent / "snack_shop"


@pytest.fixture(scope="module")
def snack_router() -> Router:
    return build_router(load_shop(SNACK))


@pytest.mark.parametrize(
    "text",
    ["你們有賣普洱茶嗎", "你们家卖不卖龙井", "有没有卖保温杯的", "现在还卖普洱吗?"],
)
def test_asking_whether_the_shop_sells_something_is_about_the_goods(router: Router, text: str) -> None:
    assert router.route(text, {}).intent in ("product_info", "stock")


def test_a_price_question_about_goods_on_sale_stays_a_price_question(router: Router) -> None:
    assert router.route("你们卖的龙井多少钱", {}).intent == "price_promotion"


@pytest.mark.parametrize(
    "text",
    ["没付款的那个普洱不要了", "那个还没付钱的龙井我不打算买了", "不想要了，就是没付款那单", "没发货的那个保温杯不要了"],
)
def test_dropping_an_unpaid_or_unshipped_order_in_words_is_a_cancellation(router: Router, text: str) -> None:
    assert router.route(text, {}).intent == "cancel_order"


def test_a_name_inside_a_longer_product_name_does_not_add_that_product(snack_router: Router) -> None:
    # 坚果 is part of 每日坚果 (N101) and of 坚果大礼包 (G301): the buyer named N101.
    assert snack_router.route("每日坚果怎么还没发货", {}).slots.product_ids == ["N101"]


def test_a_product_named_by_part_of_its_title_is_read_in_a_long_message(snack_router: Router) -> None:
    turn = snack_router.route("碧根果那个订单收货地址写错了，麻烦改成江苏省南京市玄武区珠江路58号", {})
    assert turn.intent == "modify_address"
    assert turn.slots.product_ids == ["N102"]
    assert turn.slots.address is not None
    assert turn.slots.address.region == "江苏省 南京市 玄武区"
    assert turn.slots.address.detail == "珠江路58号"


def test_spoiled_food_is_a_quality_reason(snack_router: Router) -> None:
    assert snack_router.route("海苔打开是软的，受潮了，要退", {}).slots.reason_kind == "quality"


def test_yes_and_no_are_read_clause_by_clause(router: Router) -> None:
    pending = {"pending": {"id": "act1", "kind": "exchange", "intent": "exchange"}}
    assert router.route("行，换吧", pending).intent == "confirm"
    assert router.route("好的，麻烦了", pending).intent == "confirm"
    assert router.route("额 还是先不取消了吧", pending).intent == "deny"
    assert router.route("没有了", pending).intent == "deny"


def test_a_guessed_yes_never_confirms(router: Router) -> None:
    """Only yes-words confirm: a classifier's guess of "confirm" is not understood while a
    change waits for a yes, whatever its score."""
    pending = {"pending": {"id": "act1", "kind": "refund", "intent": "refund"}}
    for text in ("交易纠纷的问题，要申诉", "刚才没确认清楚", "是这样的"):
        turn = router.route(text, pending)
        assert turn.intent != "confirm", (text, turn.explanation)

    def llm(text: str) -> str | None:
        return "confirm"

    shop = load_shop(MINI)
    asking = Router(shop, router.linker, router.classifier, llm)
    assert asking.route("嗯那个就按你说的那样办理", pending).intent != "confirm"


def test_with_nothing_pending_a_soft_yes_acknowledges_and_a_firm_one_confirms(router: Router) -> None:
    assert router.route("好的", {}).intent == "chitchat"
    assert router.route("哦哦", {}).intent == "chitchat"
    assert router.route("没有了谢谢", {}).intent == "chitchat"
    assert router.route("确认", {}).intent == "confirm"


def test_greetings_and_thanks_around_a_request_do_not_decide_it(router: Router) -> None:
    assert router.route("你好 我要退货", {}).intent == "return"
    assert router.route("在吗？订单7001帮我取消", {}).intent == "cancel_order"
    assert router.route("帮我转人工 谢谢", {}).intent == "human_agent"
    assert router.route("你好", {}).intent == "greeting"
    assert router.route("谢谢亲", {}).intent == "chitchat"


def test_a_no_with_its_reason_declines_and_a_no_with_a_new_request_is_that_request(router: Router) -> None:
    pending = {"pending": {"id": "act1", "kind": "return", "intent": "return", "tid": "7003"}}
    assert router.route("算了算了不退了 女朋友又说喜欢了", pending).intent == "deny"
    assert router.route("等下 我再想想 先别取消", pending).intent == "deny"
    assert router.route("不，我要退货", pending).intent == "return"


def test_phone_numbers_and_addresses_are_not_exchanges_and_people_are_found(router: Router) -> None:
    assert router.route("收件电话换一下 换成13999887766", {}).intent == "modify_address"
    assert router.route("找个人工帮我弄一下", {}).intent == "human_agent"
    assert router.route("帮我转3号客服 谢谢", {}).intent == "human_agent"


def test_impatience_does_not_hide_the_request(router: Router) -> None:
    assert router.route("5号晚上就付款了 到现在都没发？？？", {}).intent == "logistics"
    assert router.route("垃圾店 气死了", {}).intent == "complaint"


def test_whether_a_return_would_be_accepted_is_a_policy_question(router: Router) -> None:
    for text in ("拆封了还能七天无理由吗", "万一喝不惯能退吗", "没拆的话能七天无理由退吗"):
        turn = router.route(text, {})
        assert (turn.intent, turn.fine_intent) == ("return", "return_policy"), text
    for text in ("7001我想七天无理由退货", "不合适 我要退货", "帮我把龙井退了"):
        assert router.route(text, {}).fine_intent != "return_policy", text
