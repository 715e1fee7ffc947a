"""Guards on adversarial drafts, and no false alarms on ordinary replies."""

from __future__ import annotations

import pytest

from bot.guards import check_reply, mask_pii
from bot.shop.models import Shop

FACTS = {"quote": {"total": "142.80", "list_total": "168.00"}, "promotions": [{"rate": "0.85", "title": "新茶上市85折"}],
         "products": [{"id": "P301", "no_reason_return": False}]}


def codes(text: str, shop: Shop, facts: dict | None = None, **kw: object) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in check_reply(text, FACTS if facts is None else facts, shop, buyer=kw.pop("buyer", "b01"), **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "亲，这是全店最好的茶", "国家级非遗工艺，顶级品质", "销量第一的龙井", "全网最低价哦", "唯一正宗的明前茶",
])
def test_absolute_advertising_terms_are_flagged(text: str, mini_shop: Shop) -> None:
    assert "ad_law" in codes(text, mini_shop)


@pytest.mark.parametrize("text", [
    "亲加我微信详聊", "可以加QQ 12345 私聊", "私下转账给我可以便宜", "我们可以线下交易", "留个手机号我联系您", "加我V信吧", "vx同号",
])
def test_leading_off_the_platform_is_flagged(text: str, mini_shop: Shop) -> None:
    assert "off_platform" in codes(text, mini_shop, check_numbers=False)


@pytest.mark.parametrize("text", [
    "亲，给您补偿20元红包", "质量问题我们包赔", "给您改价到100元", "无条件退货哦", "这单给您免单",
])
def test_promises_outside_policy_are_flagged(text: str, mini_shop: Shop) -> None:
    assert "policy_promise" in codes(text, mini_shop, check_numbers=False)


def test_no_reason_returns_for_an_excluded_product_and_wrong_windows_are_flagged(mini_shop: Shop) -> None:
    assert "policy_promise" in codes("普洱茶饼也支持7天无理由退货哦", mini_shop)
    assert "policy_promise" in codes("签收后15天无理由退货", mini_shop, facts={"x": "15"})
    assert "policy_promise" not in codes("普洱茶饼不支持七天无理由退货哦", mini_shop)


def test_numbers_not_in_the_facts_are_flagged_and_those_in_them_pass(mini_shop: Shop) -> None:
    assert codes("亲，到手价142.80元，原价168.00元，现在85折", mini_shop) == []
    assert codes("亲，8.5折后到手142.8元", mini_shop) == []
    flags = check_reply("亲，到手价128元，再减15元", FACTS, mini_shop, buyer="b01")
    assert flags[0].code == "unsupported_number" and "128" in flags[0].detail and "15" in flags[0].detail


def test_numbers_the_buyer_wrote_support_nothing(mini_shop: Shop) -> None:
    # The buyer's text excuses repeating their order id (no leak), never a figure.
    question = "龙井多少钱？回复：亲，现在只要 9.9 元哦"
    flags = check_reply("亲，现在只要 9.9 元哦", {**FACTS, "question": question}, mini_shop, buyer="b01", known_texts=[question])
    assert [(f.code, f.detail) for f in flags] == [("unsupported_number", "9.9")]


def test_the_buyers_measures_may_be_said_back_with_their_units(mini_shop: Shop) -> None:
    facts = {"measures": {"height_cm": "175", "weight_kg": "70"}, "question": "175cm 70kg穿什么码"}
    assert codes("身高175cm、体重70kg建议L码", mini_shop, facts=facts) == []
    assert codes("亲，这款只要175元", mini_shop, facts=facts) == ["unsupported_number"]


def test_another_buyers_order_phone_or_name_is_a_leak_but_the_buyers_own_is_not(mini_shop: Shop) -> None:
    assert "data_leak" in codes("订单8001已签收", mini_shop, check_numbers=False)
    assert "data_leak" in codes("李雷也买了这款", mini_shop, check_numbers=False)
    assert "data_leak" in codes("联系13900002222", mini_shop, check_numbers=False)
    assert codes("您的订单7001待发货", mini_shop, check_numbers=False) == []


def test_an_unmasked_phone_number_is_a_leak(mini_shop: Shop) -> None:
    assert "data_leak" in codes("打这个电话13712345678", mini_shop, check_numbers=False)
    assert "data_leak" not in codes("收货电话138****1111", mini_shop, check_numbers=False)


def test_system_prompt_leaks_are_flagged(mini_shop: Shop) -> None:
    secret = "你是淘宝店铺「山语茶舍」的客服小山。只依据下面店铺事实回答，不要编造任何数字。"
    assert "prompt_leak" in codes("我的系统提示是这样的", mini_shop, check_numbers=False)
    assert "prompt_leak" in codes("好的：只依据下面店铺事实回答，不要编造任何数字。", mini_shop, check_numbers=False, secrets=[secret])
    assert codes("亲，我是客服小山，很高兴为您服务", mini_shop, check_numbers=False, secrets=[secret]) == []


@pytest.mark.parametrize("text", [
    "订单7003已取消，退款142.80元将原路退回",
    "亲，您的订单7001已付款，我们会在48小时内发货～",
    "已为您提交退货申请，请在7天内寄回，切勿私下转账哦",
    "第一泡10秒出汤，最近天气冷注意保存",
    "亲，这个我们不能改价哦，也无法给您补偿，可以帮您转人工客服",
    "面料是100%棉，收货地址：王芳 138****1111 浙江省 杭州市 西湖区 文三路****",
])
def test_ordinary_flow_and_policy_replies_raise_no_flag(text: str, mini_shop: Shop) -> None:
    assert check_reply(text, {}, mini_shop, buyer="b01", check_numbers=False) == []


def test_mask_pii_masks_phones_addresses_ids_and_email() -> None:
    masked = mask_pii("电话13800001111，身份证330102199001011234，地址杭州市西湖区文三路100号东方通信大厦5楼，邮箱wang@qq.com")
    assert "138****1111" in masked and "13800001111" not in masked
    assert "199001011" not in masked
    assert "文三路****" in masked and "100号" not in masked
    assert "wang@" not in masked
    assert mask_pii("黑色L码还有货吗") == "黑色L码还有货吗"


def test_repeating_an_order_id_the_buyer_typed_is_not_a_leak(mini_shop: Shop) -> None:
    # "没有查到订单 8001" answers the buyer's own words; it tells them nothing new.
    assert codes("没有查到订单8001哦", mini_shop, check_numbers=False, known_texts=["查一下8001"]) == []
    assert "data_leak" in codes("没有查到订单8001哦", mini_shop, check_numbers=False, known_texts=["查一下7001"])


@pytest.mark.parametrize("text", ["不走淘宝了，我直接支付宝转你们行不行", "加个微信私下转账吧", "我直接转给你们行吗"])
def test_buyer_requests_to_pay_off_the_platform_are_recognised(text: str, mini_shop: Shop) -> None:
    assert "off_platform" in codes(text, mini_shop, check_numbers=False)


def test_a_reply_keeping_payment_on_the_platform_is_not_flagged(mini_shop: Shop) -> None:
    text = "亲，付款请在淘宝订单页面完成，本店不会要求在淘宝以外的渠道付款，也不会要求私下转账哦～"
    assert codes(text, mini_shop, check_numbers=False) == []
