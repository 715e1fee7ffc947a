"""The structured facts a reply is drafted from, one set per buyer message.

A message may ask several things (「电陶炉保修多久？铁壶能用吗」): :func:`questions.split` cuts it
into questions, and each gets its own :class:`~bot.drafting.parts.PartFacts` (built in
:mod:`bot.drafting.parts`). Here the message as a whole is put together: the product it is
about or the products one word names equally, the basket it asks the price of and its quote,
the promotions valid now. The message-level fields repeat the first question's, for the
console and the language model.

Both drafters get the same :class:`Facts`; the guards check every number of a draft against
them (``Facts.model_dump(mode="json")``, which the suggestions store as well). The pricing
:class:`~bot.pricing.Quote` stays typed here and is written out only when the facts are
serialised. Nothing here is phrased for the buyer — that is the drafters' job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, SkipValidation

from bot.drafting.answers import AnswerFact, AnswerFinder, PassageFact, rank
from bot.drafting.kept import drafting_tables
from bot.drafting.offers import OFFER_WORDS, Offers, PromoFact, unknown_offer
from bot.drafting.policy import POLICY_CITATION, PolicyAnswers, PolicyFact, policy_fact, summary_text
from bot.drafting.products import (
    Linker,
    Naming,
    ProductFact,
    ProductFinder,
    SkuFact,
    product_fact,
)
from bot.drafting.parts import MAX_HISTORY, MAX_PRODUCTS, SUBJECT_SCORE, PartBuilder, PartFacts, naming_words
from bot.drafting.questions import Question, fold, split
from bot.drafting.quantities import parse_qty, spec_quantities
from bot.drafting.quotes import BasketItem, Baskets
from bot.drafting.recommend import RecoFact, Recommender
from bot.drafting.relevance import Relevance
from bot.drafting.relevance import Question as Terms
from bot.drafting.sizing import Measures, SizeAdvice, plain
from bot.text.numbers import measures
from bot.guards.pii import mask_pii
from bot.guards.wordlists import matcher
from bot.money import fmt
from bot.pricing import Quote
from bot.retrieval.hybrid import Retriever
from bot.retrieval.passages import shop_wide_passages
from bot.shop.models import Buyer, Product, Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer
from bot.turns import Source

__all__ = [
    "POLICY_CITATION", "AnswerFact", "Facts", "FactsBuilder", "Linker", "PartFacts", "ProductFact", "PromoFact",
    "RecoFact", "Retriever", "SkuFact", "parse_qty", "spec_quantities", "unknown_offer",
]

MAX_PASSAGES = 5


def _quote_json(quote: Quote | None) -> dict[str, Any] | None:
    return quote.to_dict() if quote is not None else None


QuoteField = Annotated[Quote | None, SkipValidation, PlainSerializer(_quote_json, return_type=dict[str, Any] | None)]


class Facts(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    shop_name: str
    persona_name: str
    address_term: str
    intent: str
    question: str  # masked
    buyer_tier: int
    declined: bool
    now: str
    products: list[ProductFact] = Field(default_factory=list)
    asked_props: dict[str, str] = Field(default_factory=dict)
    asked_skus: list[SkuFact] = Field(default_factory=list)
    alternatives: list[SkuFact] = Field(default_factory=list)  # in stock, same product
    qty: int | None = None
    measures: dict[str, str | None] = Field(default_factory=dict)
    size_advice: SizeAdvice | None = None
    quote: QuoteField = None
    quote_basis: str | None = None  # "asked" | "cheapest" — how the first line's SKU was chosen
    basket: list[BasketItem] = Field(default_factory=list)
    promotions: list[PromoFact] = Field(default_factory=list)
    policy: PolicyFact
    answers: list[AnswerFact] = Field(default_factory=list)
    passages: list[PassageFact] = Field(default_factory=list)
    recommendations: list[RecoFact] = Field(default_factory=list)
    recommend_basis: str | None = None  # "related" (goes with the focus product) | "asked" | "cheaper"
    # A promotion the buyer names that is not valid now (ended or not started yet).
    named_promotion: PromoFact | None = None
    unknown_offer: str | None = None  # a concrete offer the buyer names (8折, 满200减30) that the shop never had
    # How well the list of current promotions answers the question (same scale as answers).
    promotions_cover: float = 0.0
    # How well the shop's shipping policy (包邮, 发货时间, 快递) answers the question.
    policy_cover: float = 0.0
    # The buyer asks to pay or talk outside the platform (微信, 私下转账 …).
    off_platform: bool = False
    # How much more the quoted basket needs for free shipping (when it is short of it).
    free_shipping_missing: str | None = None
    parts: list[PartFacts] = Field(default_factory=list)

    def focus(self) -> ProductFact | None:
        """The product the message is about; None when one word named several equally."""
        if self.parts and not self.parts[0].product_ids and self.parts[0].tied:
            return None
        return self.products[0] if self.products else None

    def product(self, product_id: str) -> ProductFact | None:
        return next((p for p in self.products if p.id == product_id), None)

    def citations(self) -> list[Source]:
        """Every source the facts rest on, first seen first."""
        seen: dict[str, Source] = {}
        for a in self.answers:
            seen.setdefault(a.source.citation, a.source)
        for p in self.passages:
            seen.setdefault(p.citation, Source(id=p.id, citation=p.citation, title=p.title, score=p.score))
        return list(seen.values())


# --- building ------------------------------------------------------------------------------


def facts_str(value: Any) -> str | None:
    return None if value is None else plain(value)


class FactsBuilder:
    """Builds :class:`Facts` for one draft request from the shop, a retriever and a linker.
    Everything read from the shop alone (word rarity, option forms, rule sentences) is worked
    out here, once."""

    def __init__(
        self,
        shop: Shop,
        retriever: Retriever,
        linker: Linker,
        *,
        passages: int = MAX_PASSAGES,
        tokenizer: ShopTokenizer | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """``cache_dir``: where the shop's drafting tables are kept between starts."""
        if passages <= 0:
            raise ValueError("passages must be positive")
        self.shop = shop
        self.retriever = retriever
        self.linker = linker
        self.k = passages
        tok = tokenizer or getattr(retriever, "tokenizer", None) or getattr(linker, "tokenizer", None)
        if not isinstance(tok, ShopTokenizer):
            tok = ShopTokenizer(_shop_words(shop))
        tables = drafting_tables(shop, cache_dir)
        self.relevance = Relevance(tables.texts, tok)
        self.finder = ProductFinder(shop, linker, tables.finder)
        shop_passages = shop_wide_passages(shop)  # the drafting parts read rules and FAQ only
        self.answers = AnswerFinder(self.relevance, shop_passages)
        self.offers = Offers(shop, self.relevance)
        self.baskets = Baskets(shop, self.finder)
        self.recommender = Recommender(shop, self.relevance, tables.lines, tables.finder, tables.categories)
        self.policy_answers = PolicyAnswers(shop, self.relevance, self.finder, shop_passages)
        self._policy = policy_fact(shop)
        self._product_facts: dict[str, ProductFact] = {}
        self._summary = summary_text(self._policy)
        self.parts = PartBuilder(
            shop, self.relevance, self.finder, self.answers, self.offers, self.recommender, self.policy_answers,
            self._summary, shop_passages,
        )
    # The request type lives in pipeline.py; only its fields are used here.
    def build(self, req: Any) -> Facts:
        shop = self.shop
        question = mask_pii(req.question)
        entities: dict[str, Any] = dict(req.entities or {})
        buyer: Buyer = req.buyer
        now: datetime = req.now
        facts = Facts(
            shop_name=shop.info.name,
            persona_name=shop.info.persona.name,
            address_term=shop.info.persona.address_term,
            intent=req.intent,
            question=question,
            buyer_tier=buyer.vip_level,
            declined=bool(req.declined),
            now=now.isoformat(),
            policy=self._policy,
        )
        facts.off_platform = bool(matcher("off_platform").find(normalize(question).replace(" ", ""), skip_negated=True))
        whole = self.relevance.question(question)
        named_promos = self.offers.named(whole, question, now, [])
        skip = [p.title for p in named_promos]

        questions = split(question, req.intent)
        namings = [self.finder.named(q.text, skip=skip) for q in questions]
        questions = fold(questions, [bool(n.best and n.best.score >= SUBJECT_SCORE or n.tied) for n in namings])
        if len(namings) != len(questions):
            namings = [self.finder.named(q.text, skip=skip) for q in questions]

        questions = self._follow_ups(questions, namings)
        focus_id, tied = self._focus(namings, entities, req.history, questions)
        if focus_id is None and not tied and questions and questions[0].kind == "size":
            sized = self.finder.by_sizes(question, limit=2)
            if len(sized) == 1:
                focus_id = sized[0]
        hits = self._search(question, now)
        facts.passages = hits[: self.k]
        measures = self._measures(entities, question)
        if measures.height_cm is not None or measures.weight_kg is not None:
            facts.measures = {"height_cm": facts_str(measures.height_cm), "weight_kg": facts_str(measures.weight_kg)}

        previous: Any = None
        for q, naming in zip(questions, namings):
            part = self.parts.build(
                q, naming, focus_id, tied, entities, measures, hits, named_promos, now, buyer, question, previous, req.history
            )
            facts.parts.append(part)
            previous = part
        product_ids: list[str] = [focus_id] if focus_id else []
        for part in facts.parts:
            for pid in [*part.product_ids, *part.tied]:
                if pid not in product_ids:
                    product_ids.append(pid)
        for pid in entities.get("product_ids") or []:
            if pid in shop.products and pid not in product_ids and not any(n.mentions for n in namings):
                product_ids.append(pid)
        products = [shop.products[i] for i in product_ids[:MAX_PRODUCTS]]
        facts.products = [self._product_fact(p) for p in products]
        facts.promotions = self.offers.current(now, products)
        self._message_level(facts, question, entities, now, buyer, req, named_promos, whole, products)
        return facts

    @staticmethod
    def _follow_ups(questions: list[Question], namings: list[Naming]) -> list[Question]:
        """A later question that names no product and no kind of its own (「要补钱不」 after
        「能发顺丰吗」, 「没有的话黑色有吗」 after a stock question) goes on with the one before."""
        out: list[Question] = []
        for q, naming in zip(questions, namings):
            if out and not q.kinds and q.kind == "info" and out[-1].kind != "info" and not (
                naming.best is not None and naming.best.score >= SUBJECT_SCORE + 0.1
            ):
                q = Question(text=q.text, kind=out[-1].kind, kinds=q.kinds, modes=q.modes, core=q.core)
            out.append(q)
        return out

    # --- the product asked about -----------------------------------------------------------

    def _focus(
        self, namings: list[Naming], entities: dict[str, Any], history: Sequence[tuple[str, str]], questions: list[Question]
    ) -> tuple[str | None, list[str]]:
        """The product the message is about, or the products one word names equally."""
        shop = self.shop
        routed = [p for p in entities.get("product_ids") or [] if p in shop.products]
        for sku_id in entities.get("sku_ids") or []:
            found = shop.sku(sku_id)
            if found and found[0].id not in routed:
                routed.append(found[0].id)
        for n in namings:
            if n.best is not None:
                return n.best.product_id, []
            if n.tied:
                # The router, the conversation or a quoted price may settle it.
                context = self.finder.history_focus(history)
                for pid in [*routed, context]:
                    if pid in n.tied and len(routed) <= 1:
                        return pid, []
                return None, n.tied
        if routed:
            return routed[0], []
        return self.finder.history_focus(history), []

    # --- the message as a whole ----------------------------------------------------------------

    def _message_level(
        self, facts: Facts, question: str, entities: dict[str, Any], now: datetime, buyer: Buyer, req: Any,
        named_promos: list[PromoFact], whole: Terms, products: list[Product],
    ) -> None:
        shop = self.shop
        first = facts.parts[0] if facts.parts else None
        specs = [v for p in products for sku in p.skus for v in sku.props.values()]
        asked_qty = entities.get("qty")
        if asked_qty is not None and asked_qty in spec_quantities(question, specs):
            asked_qty = None  # "30包的" names the 30-pack, not thirty pieces
        facts.qty = asked_qty or parse_qty(question, specs)
        for part in facts.parts:
            if part.asked_skus and not facts.asked_skus:
                facts.asked_skus, facts.alternatives = part.asked_skus, part.alternatives
                focus = shop.products.get(part.product_ids[0]) if part.product_ids else None
                if focus is not None:
                    named = self.finder.options[focus.id].props(part.text)
                    facts.asked_props = {k: vs[0] for k, vs in named.items()}
            if part.size_advice is not None and facts.size_advice is None:
                facts.size_advice = part.size_advice
            if part.recommendations and not facts.recommendations:
                facts.recommendations, facts.recommend_basis = part.recommendations, part.recommend_basis
        if not facts.recommendations and facts.products:
            # Products to pair with (凑单) and to name in a reply about the focus product.
            focus = shop.products[facts.products[0].id]
            facts.recommendations = self.recommender.related(focus, question, now, buyer)
            facts.recommend_basis = "related" if facts.recommendations else None
        answers: list[AnswerFact] = []
        for part in facts.parts:
            answers.extend(part.answers)
        facts.answers = rank(answers)
        # A product whose data answers a question is named in the reply: it is a fact too.
        known = {p.id for p in facts.products}
        for part in facts.parts:
            for a in part.answers[:1]:
                if a.product_id and a.product_id not in known and a.product_id in shop.products:
                    facts.products.append(self._product_fact(shop.products[a.product_id]))
                    known.add(a.product_id)
        self._quote(facts, question, entities, now, buyer, req)
        not_now = [p for p in named_promos if p.status != "active"]
        if not_now and not any(p.status == "active" for p in named_promos[:1]):
            facts.named_promotion = not_now[0]
        if facts.named_promotion is None:
            facts.unknown_offer = unknown_offer(question, shop)
        drop = naming_words(shop.products[facts.products[0].id], None) if facts.products else []
        q = self.relevance.question(question, drop=drop)
        facts.policy_cover = round(self.relevance.score(q, self._summary), 4)
        if facts.promotions:
            facts.promotions_cover = round(
                self.relevance.score(q, " ".join(self.offers.text_of(p.id) for p in facts.promotions) + OFFER_WORDS), 4
            )

    def _quote(self, facts: Facts, question: str, entities: dict[str, Any], now: datetime, buyer: Buyer, req: Any) -> None:
        """Price the basket asked about: of the price questions, or of the focus product."""
        shop = self.shop
        priced = [p for p in facts.parts if p.kind in ("price", "promotion", "cheaper", "shipping")]
        text = " ".join(p.text for p in priced) or question
        ids: list[str] = []
        for p in priced or facts.parts:
            for pid in p.product_ids:
                if pid not in ids:
                    ids.append(pid)
        if not ids and any(p.tied for p in priced):
            return  # one word named several products: the reply asks which before pricing
        if not ids and facts.products:
            ids = [facts.products[0].id]
        named_here = any(p.named_by_buyer for p in priced)
        if not named_here and priced:
            earlier = self._basket_from_history(req.history)
            if earlier is not None:
                text, ids = earlier
        if not ids:
            return
        products = [shop.products[i] for i in ids if i in shop.products]
        specs = [v for p in products for sku in p.skus for v in sku.props.values()]
        qty = entities.get("qty")
        if qty is not None and qty in spec_quantities(question, specs):
            qty = None
        each = any("each" in p.modes for p in priced)
        items = self.baskets.read(text, products, each=each, sku_ids=entities.get("sku_ids") or [], qty=qty)
        if not items:
            return
        quote = self.baskets.price(items, now, buyer)
        if quote is None:
            return
        facts.quote, facts.basket, facts.quote_basis = quote, items, items[0].basis
        threshold = shop.info.policy.free_shipping_threshold
        if threshold is not None and 0 < quote.total < threshold:
            facts.free_shipping_missing = fmt(threshold - quote.total)

    def _basket_from_history(self, history: Sequence[tuple[str, str]]) -> tuple[str, list[str]] | None:
        """The newest earlier buyer message that names products, and those products."""
        seen = 0
        for role, text in reversed(list(history or [])):
            if role != "buyer":
                continue
            seen += 1
            if seen > MAX_HISTORY:
                break
            ids: list[str] = []
            for q in split(text, "price_promotion"):
                naming = self.finder.named(q.text)
                if naming.best is not None:
                    ids.extend(m.product_id for m in naming.mentions if m.score >= SUBJECT_SCORE or m is naming.best)
            ids = list(dict.fromkeys(ids))
            if ids:
                return text, ids
        return None

    # --- pieces --------------------------------------------------------------------------

    def _product_fact(self, product: Product) -> ProductFact:
        """A product's facts, made once per shop (they are never changed once made)."""
        found = self._product_facts.get(product.id)
        if found is None:
            found = self._product_facts[product.id] = product_fact(product)
        return found

    @staticmethod
    def _measures(entities: dict[str, Any], question: str) -> Measures:
        parsed = measures(normalize(question))
        h = entities.get("height_cm")
        w = entities.get("weight_kg")
        return Measures(
            Decimal(str(h)) if h is not None else parsed.height_cm,
            Decimal(str(w)) if w is not None else parsed.weight_kg,
        )

    def _search(self, question: str, now: datetime) -> list[PassageFact]:
        hits = list(self.retriever.search(question, k=self.k * 3, now=now))
        out: list[PassageFact] = []
        seen: set[str] = set()
        for hit in hits:
            p = hit.passage
            if p.id in seen:
                continue
            seen.add(p.id)
            out.append(PassageFact.of(p, hit.score))
        return out


def _shop_words(shop: Shop) -> list[str]:
    words: set[str] = set()
    for p in shop.products.values():
        words.update(w for w in [p.title, *p.title.split(), p.category, *p.attributes] if w)
    return sorted(words)
