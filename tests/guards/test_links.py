"""Links, QR codes, accounts and contact handles are flagged unless the shop's facts state them."""

from __future__ import annotations

import pytest

from bot.guards import check_reply
from bot.shop.models import Shop


def codes(text: str, shop: Shop, facts: dict | None = None) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in check_reply(text, facts or {}, shop, buyer="b01", check_numbers=False)]


@pytest.mark.parametrize("text", [
    "亲，去 http://evil.example/coupon 领券",
    "亲，访问 www.evil-shop.cn 更便宜",
    "打开 evil-shop.cn/deal 下单立减",
    "复制 t.cn/A6xyz 到浏览器打开",
    "官网 evil点com 有更多款",
    "后台地址 192.168.1.20",
    "发邮件到 sale@evil.example.org",
    "扫码领取专属优惠",
    "长按识别二维码付款",
    "加qq 123456789 领券",
    "vx: shop_8888 发您图片",
    "客服热线 400-123-4567",
    "收款账号：6222021234567890123",
    "关注公众号领红包",
])
def test_links_codes_accounts_and_handles_are_flagged(text: str, mini_shop: Shop) -> None:
    assert "link_or_contact" in codes(text, mini_shop)


@pytest.mark.parametrize("text", [
    "亲，店铺首页或商品详情页点击「领券」领取，每人限领1张",
    "亲，原价159.00元，9折后143.10元，面料80%棉 20%聚酯纤维",
    "请不要扫码付款，也不要点击陌生链接哦",
    "订单 7003（中通快递 75313208042359）运输中",
    "没有查到您名下的订单哦，请确认是用这个账号下的单～",
    "退款原路退回付款账户，到账时间以支付宝或银行等支付渠道为准",
    "尺码S/M/L/XL，颜色灰色、黑色",
])
def test_ordinary_replies_carry_no_link(text: str, mini_shop: Shop) -> None:
    assert "link_or_contact" not in codes(text, mini_shop)


def test_a_link_the_shop_states_is_its_own(mini_shop: Shop) -> None:
    facts = {"passages": [{"text": "电子发票在 invoice.shanyu-tea.cn 下载"}]}
    assert codes("亲，电子发票在 invoice.shanyu-tea.cn 下载", mini_shop, facts) == []
    assert "link_or_contact" in codes("亲，电子发票在 invoice.evil.cn 下载", mini_shop, facts)


def test_the_detail_names_what_was_found(mini_shop: Shop) -> None:
    flags = check_reply("去 www.evil-shop.cn 或 http://evil.example/x 看看", {}, mini_shop, buyer="b01", check_numbers=False)
    assert [str(f) for f in flags] == ["link_or_contact: www.evil-shop.cn、http://evil.example/x"]


def test_the_shops_own_words_lead_no_one_away() -> None:
    from pathlib import Path

    from bot.guards import check_reply
    from bot.shop import load_shop

    beauty = load_shop(Path(__file__).resolve().parents[1] / "fixtures" / "beauty_shop")
    quoted = "外盒防伪码刮开扫码可查真伪"
    assert any(quoted[:4] in f.a or "扫码" in f.a for f in beauty.faq)
    assert not check_reply(f"宝宝，{quoted}。", {}, beauty, check_numbers=False)
    assert check_reply("宝宝，扫码加我领红包", {}, beauty, check_numbers=False)
