"""Relevance: does a shop text answer the question? Weighted words, unknown topics stay unknown."""

from __future__ import annotations

import pytest

from bot.drafting.kept import shop_texts
from bot.drafting.relevance import MIN_SCORE, Relevance
from bot.retrieval.vocab import shop_tokenizer
from bot.shop.models import Shop


@pytest.fixture(scope="module")
def rel(demo_shop: Shop) -> Relevance:
    return Relevance(shop_texts(demo_shop), shop_tokenizer(demo_shop))


def test_a_shortened_word_matches_its_long_form(rel: Relevance) -> None:
    q = rel.question("买衣服可以开票吗")
    assert rel.score(q, "可以开发票吗？可以开电子普通发票") >= MIN_SCORE


@pytest.mark.parametrize("question", ["我想开发票", "想开发票", "我要开发票"])
def test_a_stop_word_glued_to_a_word_of_the_shop_is_cut_off(rel: Relevance, question: str) -> None:
    # The tokenizer cuts 「我想开发票」 as 我/想开/发票; the shop knows 开 and 发票, not 想开.
    q = rel.question(question)
    assert "想开" not in q.words() and all(t.known for t in q.terms)
    assert rel.score(q, "可以开发票吗？可以开电子普通发票") == 1.0


def test_a_question_about_something_the_shop_never_mentions_matches_nothing(rel: Relevance) -> None:
    q = rel.question("加绒连帽卫衣是哪个明星同款", drop=["加绒连帽卫衣 男女同款", "加绒连帽卫衣", "男女同款", "卫衣"])
    assert all(rel.score(q, text) == 0 for text in rel.docs)


def test_rare_words_outweigh_common_ones(rel: Relevance) -> None:
    q = rel.question("穿一天会不会皱得很厉害")
    assert rel.score(q, "会皱吗 棉麻面料会有自然褶皱") > rel.score(q, "适合日常穿着")
    assert rel.score(q, "会皱吗 棉麻面料会有自然褶皱") >= MIN_SCORE


def test_stop_words_and_product_names_are_not_content(rel: Relevance) -> None:
    q = rel.question("请问这款轻薄羽绒服里面填的是什么绒呀", drop=["轻薄羽绒服"])
    assert "轻薄" not in q.words() and "什么" not in q.words() and "呀" not in q.words()
    assert rel.score(q, "填充物 90%白鸭绒") > rel.score(q, "冬天可作内胆穿在大衣里面")


def test_works_for_any_shop(mini_shop: Shop) -> None:
    rel = Relevance(shop_texts(mini_shop), shop_tokenizer(mini_shop))
    q = rel.question("保温杯能装多少水", drop=["不锈钢保温杯 500ml", "保温杯"])
    assert rel.score(q, "容量 500ml") >= MIN_SCORE
    assert rel.score(rel.question("你们工厂在哪"), "产地 云南勐海") == 0
