"""Normalisation and shop-aware tokenising that retrieval relies on."""

from __future__ import annotations

from bot.retrieval.vocab import search_terms, shop_tokenizer
from bot.shop import Shop
from bot.text.normalize import normalize


def test_traditional_fullwidth_and_colloquial_forms() -> None:
    assert normalize("你們有賣普洱茶嗎") == "你们有卖普洱茶吗"
    assert normalize("ＸＬ碼有嗎？") == "xl码有吗?"
    assert normalize("咋退款啊") == "怎么退款啊"
    assert normalize("啥时候发货") == "什么时候发货"
    assert normalize("木有收到") == "没有收到"


def test_shop_words_stay_whole(mini_shop: Shop) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    assert "保温杯" in tokenizer.cut("保温杯怎么清洗")
    assert "龙井" in search_terms(tokenizer, "明前西湖龙井好喝吗")
    assert "普洱茶" in tokenizer.cut("你們有賣普洱茶嗎")


def test_question_words_are_not_search_terms(mini_shop: Shop) -> None:
    terms = search_terms(shop_tokenizer(mini_shop), "保温杯有什么颜色吗")
    assert "什么" not in terms and "吗" not in terms
    assert "保温杯" in terms and "颜色" in terms
