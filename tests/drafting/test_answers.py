"""The template drafter answers from the real retrieved facts (hybrid retriever, in memory):
rules, FAQ and product data when they match, "unknown + a human" when nothing does."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.config import Settings
from bot.drafting.pipeline import Draft, DraftingPipeline, DraftRequest, build_pipeline
from bot.retrieval.hybrid import open_retriever
from bot.shop.models import Shop

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
UNKNOWN = "人工"


def make(shop: Shop) -> DraftingPipeline:
    retriever = open_retriever(shop, Settings(), persist_dir=None)
    return build_pipeline(shop, Settings(llm_model=None), retriever, retriever.linker)


@pytest.fixture(scope="module")
def demo(demo_shop: Shop) -> DraftingPipeline:
    return make(demo_shop)


@pytest.fixture(scope="module")
def mini(mini_shop: Shop) -> DraftingPipeline:
    return make(mini_shop)


def ask(pipe: DraftingPipeline, question: str, intent: str, *, product: str | None = None) -> Draft:
    shop = pipe.shop
    return pipe.draft(DraftRequest(
        conversation_id="c1", buyer=next(iter(shop.buyers.values())), question=question, intent=intent,
        entities={"product_ids": [product]} if product else {}, now=NOW,
    ))


def product_with(shop: Shop, word: str) -> str:
    return next(p.id for p in shop.products.values() if word in p.title)


# --- shop rules and FAQ -----------------------------------------------------------------


@pytest.mark.parametrize(("question", "intent", "needle", "source"), [
    ("买衣服可以开票吗", "invoice", "电子", "发票"),
    ("拍下以后多长时间内要付款", "payment", "24", "付款"),
    ("满减和店铺券能同时用吗", "price_promotion", ("同时使用", "一起用"), "优惠"),
    ("我想指定发顺丰可以吗", "shipping_policy", "不支持指定", "快递"),
])
def test_shop_questions_are_answered_from_the_matching_rule_or_faq(
    demo: DraftingPipeline, question: str, intent: str, needle: str | tuple[str, ...], source: str
) -> None:
    d = ask(demo, question, intent)
    needles = needle if isinstance(needle, tuple) else (needle,)
    assert any(n in d.text for n in needles) and UNKNOWN not in d.text
    assert d.passed
    assert any(source in (c.title or "") or source in c.citation for c in d.citations)


def test_a_plain_shipping_question_keeps_the_policy_summary(demo: DraftingPipeline, demo_shop: Shop) -> None:
    d = ask(demo, "今天下单的话大概什么时候能发出", "shipping_policy")
    assert f"{demo_shop.info.policy.ship_within_hours}小时" in d.text


def test_any_shop_faq_answers_its_questions(mini: DraftingPipeline, mini_shop: Shop) -> None:
    d = ask(mini, "买茶叶能开票吗", "invoice")
    assert mini_shop.faq[0].a.split("，")[0] in d.text


# --- product data ---------------------------------------------------------------------


def test_a_product_faq_answers_a_question_worded_differently(demo: DraftingPipeline, demo_shop: Shop) -> None:
    pid = product_with(demo_shop, "棉麻立领衬衫")
    d = ask(demo, "棉麻立领衬衫穿一天会不会皱得很厉害", "product_info", product=pid)
    faq = next(qa.a for qa in demo_shop.products[pid].faq if "皱" in qa.q)
    assert faq in d.text


def test_the_attribute_asked_about_is_answered_not_another_field(demo: DraftingPipeline, demo_shop: Shop) -> None:
    pid = product_with(demo_shop, "羽绒服")
    d = ask(demo, "轻薄羽绒服里面填的是什么绒", "product_info", product=pid)
    fill = next(v for k, v in demo_shop.products[pid].attributes.items() if "填充" in k)
    assert fill in d.text
    assert demo_shop.products[pid].usage not in d.text


def test_an_attribute_of_any_shop_is_found_by_the_buyers_words(mini: DraftingPipeline, mini_shop: Shop) -> None:
    pid = product_with(mini_shop, "保温杯")
    d = ask(mini, "保温杯能装多少水", "product_info", product=pid)
    assert mini_shop.products[pid].attributes["容量"] in d.text


@pytest.mark.parametrize("question", ["加绒连帽卫衣是哪个明星同款", "加绒连帽卫衣的工厂在哪个城市"])
def test_a_fact_the_shop_does_not_have_is_unknown_not_another_answer(demo: DraftingPipeline, demo_shop: Shop, question: str) -> None:
    pid = product_with(demo_shop, "加绒连帽卫衣")
    d = ask(demo, question, "product_info", product=pid)
    assert UNKNOWN in d.text
    assert not any(qa.a in d.text for qa in demo_shop.products[pid].faq)


def test_unknown_facts_are_unknown_in_any_shop(mini: DraftingPipeline, mini_shop: Shop) -> None:
    pid = product_with(mini_shop, "龙井")
    assert UNKNOWN in ask(mini, "龙井是哪个明星代言的", "product_info", product=pid).text
    assert UNKNOWN in ask(mini, "你们工厂在哪", "other").text


# --- promotions ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["demo", "mini"])
def test_a_promotion_that_has_ended_is_said_to_have_ended(which: str, request: pytest.FixtureRequest) -> None:
    pipe: DraftingPipeline = request.getfixturevalue(which)
    ended = next(p for p in pipe.shop.promotions if p.end < NOW)
    d = ask(pipe, f"{ended.title}现在还能用不", "price_promotion")
    assert "结束" in d.text and ended.title in d.text
    end = ended.end.astimezone(pipe.shop.tz)
    assert f"{end.month}月{end.day}日" in d.text
    for current in pipe.shop.promotions_at(NOW):
        assert current.title in d.text  # and what can be used instead
    assert d.passed
    assert any(c.citation.endswith(ended.id) for c in d.citations)


def test_asking_what_is_on_offer_still_lists_current_promotions(demo: DraftingPipeline, demo_shop: Shop) -> None:
    d = ask(demo, "店里最近有啥优惠活动", "price_promotion")
    for promo in demo_shop.promotions_at(NOW):
        assert promo.title in d.text
    assert not any(p.title in d.text for p in demo_shop.promotions if not p.valid_at(NOW))


# --- recommendations ----------------------------------------------------------------------


def test_recommendations_are_in_stock_products_of_the_asked_kind_matching_the_wish(demo: DraftingPipeline, demo_shop: Shop) -> None:
    d = ask(demo, "有没有透气一点适合通勤的衬衫推荐", "recommendation")
    named = [p for p in demo_shop.products.values() if p.title in d.text]
    assert named and all(p.category == "衬衫" and p.in_stock for p in named)
    assert "透气" in d.text  # the reason, in the product's own words
    assert d.passed  # prices come from the facts (pricing engine)


def test_recommendation_by_kind_in_any_shop(mini: DraftingPipeline, mini_shop: Shop) -> None:
    d = ask(mini, "想买点适合送长辈的绿茶有推荐吗", "recommendation")
    green = [p for p in mini_shop.products.values() if p.category == "绿茶"]
    assert any(p.title in d.text for p in green)
    assert d.passed


# --- staying on the platform ----------------------------------------------------------------


@pytest.mark.parametrize(("question", "intent"), [
    ("不走淘宝了，我直接支付宝转你们行不行", "payment"),
    ("加个微信私下转账吧，这样便宜点", "price_promotion"),
])
def test_off_platform_payment_requests_are_kept_on_the_platform(demo: DraftingPipeline, question: str, intent: str) -> None:
    d = ask(demo, question, intent)
    assert "淘宝" in d.text and "订单页面" in d.text
    assert d.passed


def test_off_platform_requests_in_any_shop(mini: DraftingPipeline) -> None:
    d = ask(mini, "加个微信我直接转账给你", "payment")
    assert "订单页面" in d.text and d.passed


# --- the shop passages a question reaches -------------------------------------------------


def test_the_passage_index_reaches_exactly_the_passages_scored_above_the_floor(demo: DraftingPipeline) -> None:
    # Every buyer line of the in-house suites, with and without the words naming a product:
    # the index's candidates are the passages brute-force scoring keeps, no more, no fewer.
    from pathlib import Path

    from bot.drafting.relevance import MIN_SCORE
    from bot.evaluation.suite import load_suites

    root = Path(__file__).resolve().parents[2] / "eval"
    lines = {
        t.user for s in load_suites([root / "sales", root / "aftersales", root / "context"])
        for c in s.cases for c in [c.case] for t in c.turns if t.user
    }
    finder, rel = demo.facts.answers, demo.facts.relevance
    texts = [finder._texts[p.citation][0] for p in finder.shop_passages]
    reached = 0
    for line in sorted(lines):
        for q in (rel.question(line), rel.question(line, drop=[line[:3]])):
            brute = frozenset(i for i, t in enumerate(texts) if rel.score(q, t) >= MIN_SCORE)
            assert finder.shop_candidates(q) == brute, line
            reached += len(brute)
    assert len(lines) > 200 and reached > 100  # the lines do reach passages
