"""Personal data is masked before text leaves for a model; ID-card numbers are recognised."""

from __future__ import annotations

import pytest

from bot.guards import is_id_card_like, mask_pii


@pytest.mark.parametrize(("text", "raw", "masked"), [
    ("手机13912345678", "13912345678", "139****5678"),
    ("身份证110101199003074514", "110101199003074514", "110101********4514"),
    ("没有查到订单 330106199001011234", "330106199001011234", "330106********1234"),
    ("身份证33010619900101123X", "33010619900101123X", "330106********123X"),
    ("老身份证330106900101123", "330106900101123", "330106******123"),
    ("地址天目山路200号5幢", "200号5幢", "天目山路****"),
    ("邮箱wangfang@example.com", "wangfang@example.com", "w***@example.com"),
    ("卡号6217001234567890", "6217001234567890", "6217****7890"),
    ("用4111 1111 1111 1111付款", "4111 1111 1111 1111", "4111****1111"),
    ("座机0571-88886666", "88886666", "0571-****66"),
])
def test_personal_data_is_masked(text: str, raw: str, masked: str) -> None:
    out = mask_pii(text)
    assert raw not in out and masked in out


@pytest.mark.parametrize("text", [
    "黑色L码还有货吗", "订单7001到哪了", "中通快递 75313208042359", "原价159.00元，到手143.10元", "2026-11-21T10:00:00+08:00",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_masking_twice_changes_nothing() -> None:
    once = mask_pii("电话13912345678，身份证110101199003074514，文三路100号3单元，a@b.cn，卡号6217001234567890")
    assert mask_pii(once) == once


@pytest.mark.parametrize(("text", "expected"), [
    ("110101199003074514", True),  # valid check digit
    ("330106199001011234", True),  # wrong check digit: still someone's ID number
    ("33010619900101123X", True),
    ("330106900101123", True),
    ("123456789012345678", False),  # no birth date inside
    ("1234567890123456789", False),
    ("7001", False),
])
def test_id_card_like_numbers(text: str, expected: bool) -> None:
    assert is_id_card_like(text) is expected
