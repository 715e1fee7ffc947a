"""A buyer message is cut into its questions, each with the kind of answer it wants."""

from __future__ import annotations

from bot.drafting.questions import fold, split


def test_two_questions_in_one_message_are_two_questions() -> None:
    qs = split("面膜可以天天敷吗？敷完要不要洗脸", "product_info")
    assert [q.text for q in qs] == ["面膜可以天天敷吗", "敷完要不要洗脸"]
    assert all(q.kind == "info" for q in qs)


def test_a_clause_that_asks_nothing_joins_a_question() -> None:
    before = split("西藏包邮吗 我在拉萨 大概几天到", "shipping_policy")
    assert [q.text for q in before] == ["西藏包邮吗", "我在拉萨 大概几天到"]
    after = split("洗面奶能顺便卸妆吗 懒得再买卸妆油", "product_info")
    assert len(after) == 1 and after[0].core == "洁面乳能顺便卸妆吗"  # 洗面奶 is the same goods


def test_the_words_of_a_question_outrank_a_routed_intent_that_they_do_not_name() -> None:
    (q,) = split("1段奶粉加一包NB纸尿裤 一起拍多少", "size_advice")
    assert q.kind == "price"
    (q,) = split("有没有便宜点的充电宝", "price_promotion")[:1]
    assert q.kind == "cheaper"
    assert split("满多少包邮", "shipping_policy")[0].kind == "shipping"


def test_a_question_about_an_offer_keeps_its_kind_and_wording() -> None:
    first, second = split("199减30的券在哪领 买口红能用吗", "price_promotion")
    assert "where" in first.modes
    assert second.kind == first.kind and "scope" in second.modes
    assert "ends" in split("女王节满减到什么时候结束呀", "price_promotion")[0].modes
    assert "wait" in split("防晒现在买还是等等", "price_promotion")[0].modes


def test_price_questions_naming_nothing_new_fold_into_one() -> None:
    qs = split("L码纸尿裤拍两包多少钱？差多少能满199减20", "price_promotion")
    assert len(qs) == 2
    folded = fold(qs, [True, False])
    assert len(folded) == 1 and folded[0].kind == "price"
    assert len(fold(qs, [True, True])) == 2  # the second names a product of its own


def test_a_message_that_asks_nothing_is_one_question() -> None:
    (q,) = split("你好", "greeting")
    assert q.kind == "info"
