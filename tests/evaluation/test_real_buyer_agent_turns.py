"""The real-buyer benchmark reads the corpus agent's turn before a buyer line as a pending
question when it asks something, or reads the buyer's own details back for them to check."""

from __future__ import annotations

import pytest

from benchmarks.bench_real_buyers import Unmasker, asks_buyer, reads_back


@pytest.mark.parametrize(
    "agent",
    ["订单[订单x]", "[订单x]", "[地址x]", "[身份证号x] [姓名x]", "[订单编号:[订单x]]", "这个订单[订单x]",
     "[订单x] 是这个订单吗", "麻烦您核对下地址"],
)
def test_a_question_or_a_read_back_waits_for_an_answer(agent: str) -> None:
    assert asks_buyer(agent)


@pytest.mark.parametrize(
    "agent",
    ["QQ:[数字x]", "[数字x]号", "[链接x] 您看下呢", "您的订单[订单x]已经发货了哦", "降价[数字x]",
     "还有其他问题吗？", "[金额x]"],
)
def test_a_statement_or_a_closing_does_not(agent: str) -> None:
    assert not asks_buyer(agent)
    assert not reads_back(agent)


@pytest.mark.parametrize(
    ("masked", "plain"),
    [("订单号:[数字x] 发票寄到哪里", "订单号:7001 发票寄到哪里"), ("单号 [数字x]", "单号 7001"),
     ("买了[数字x]个", "买了2个"), ("[订单编号:[订单x]，订单金额:[金额x]]", "[订单编号:7001，订单金额:99元]")],
)
def test_a_masked_number_named_as_an_order_number_becomes_one(masked: str, plain: str) -> None:
    assert Unmasker("7001", "纯棉T恤")(masked) == plain
