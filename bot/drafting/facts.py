"""The structured facts a reply is drafted from: products, stock, sizes, exact prices and
promotions from the pricing engine, matched answers and retrieved passages with citations.

Both drafters get the same :class:`Facts`; the guards check every number of a draft against
them. Nothing here is phrased for the buyer — that is the drafters' job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, Field

from bot.drafting.matching import attributes_asked, core, flat, quantity_units, topic_of
from bot.drafting.relevance import MIN_SCORE, Question, Relevance
from bot.drafting.sizing import Measures, SizeAdvice, advise, parse_measures
from bot.errors import TellCustomer
from bot.guards.pii import mask_pii
from bot.retrieval.hybrid import Retriever
from bot.retrieval.linker import without_ambiguous
from bot.guards.wordlists import matcher
from bot.money import fmt
from bot.pricing import BasketLine, price_basket
from bot.shop.models import (
    Buyer,
    Coupon,
    Discount,
    FullReduction,
    Gift,
    NthDiscount,
    Product,
    Shop,
    Sku,
)
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer
from bot.turns import Source

MAX_PRODUCTS = 3
MAX_PASSAGES = 5
MAX_RECOMMEND = 3
_CACHE_SIZE = 4096
_COUNT = r"(?<!第)([0-9]+|[一二两三四五六七八九十])"  # 第二件 is an ordinal, not a count
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


class PassageLike(Protocol):
    id: str
    type: str
    text: str
    title: str
    citation: str
    product_id: str | None


class HitLike(Protocol):
    passage: Any
    score: float


class Linker(Protocol):
    def link(self, text: str, *, focus_product: str | None = None) -> Sequence[Any]: ...


# --- fact models ---------------------------------------------------------------------------


class SkuFact(BaseModel):
    sku_id: str
    product_id: str
    props: dict[str, str]
    price: str
    stock: int


class ProductFact(BaseModel):
    id: str
    title: str
    category: str
    price: str
    attributes: dict[str, str]
    selling_points: list[str]
    usage: str | None
    care: str | None
    size_chart: dict[str, Any] | None
    faq: list[dict[str, str]]
    no_reason_return: bool
    in_stock: bool
    stock_by_prop: dict[str, dict[str, int]]  # 颜色 -> {黑色: 38, 灰色: 0}
    skus: list[SkuFact]
    citation: str


class AnswerFact(BaseModel):
    """Shop data that answers the question: a FAQ, an attribute, care/usage text, a passage."""

    kind: str  # faq | attribute | care | usage | selling_points | passage
    question: str
    answer: str
    source: Source
    cover: float
    head: float = 0.0  # how well its heading (FAQ question, attribute name, rule title) matches


class PromoFact(BaseModel):
    id: str
    type: str
    title: str
    detail: str
    ends: str
    starts: str = ""
    status: str = "active"  # active | ended | upcoming (at the request's now)
    how_to_get: str | None = None
    applies_to: list[str] = Field(default_factory=list)  # focus product ids it covers
    citation: str


class RecoFact(BaseModel):
    product_id: str
    title: str
    category: str
    price: str  # the pricing engine's price of one piece (item discounts applied)
    in_stock: bool
    citation: str
    why: str | None = None  # the product's own words that match what the buyer asked for


class Facts(BaseModel):
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
    quote: dict[str, Any] | None = None
    quote_basis: str | None = None  # "asked" | "cheapest" — which SKU the quote priced
    promotions: list[PromoFact] = Field(default_factory=list)
    policy: dict[str, Any] = Field(default_factory=dict)
    answers: list[AnswerFact] = Field(default_factory=list)
    passages: list[dict[str, Any]] = Field(default_factory=list)
    recommendations: list[RecoFact] = Field(default_factory=list)
    recommend_basis: str | None = None  # "related" (goes with the focus product) | "asked" (what the buyer asked for)
    # A promotion the buyer names that is not valid now (ended or not started yet).
    named_promotion: PromoFact | None = None
    unknown_offer: str | None = None  # a concrete offer the buyer names (8折, 满200减30) that the shop never had
    # How well the list of current promotions answers the question (same scale as answers).
    promotions_cover: float = 0.0
    # How well the shop's shipping policy (包邮, 发货时间, 快递) answers the question.
    policy_cover: float = 0.0
    # The buyer asks to pay or talk outside the platform (微信, 私下转账 …).
    off_platform: bool = False

    def focus(self) -> ProductFact | None:
        return self.products[0] if self.products else None

    def citations(self) -> list[Source]:
        """Every source the facts rest on, first seen first."""
        seen: dict[str, Source] = {}
        for a in self.answers:
            seen.setdefault(a.source.citation, a.source)
        for p in self.passages:
            seen.setdefault(p["citation"], Source(id=p["id"], citation=p["citation"], title=p.get("title", ""), score=p.get("score")))
        return list(seen.values())


# --- building ------------------------------------------------------------------------------


def product_citation(product: Product) -> str:
    return f"products/{product.id}.yaml"


def promotion_citation(promo_id: str) -> str:
    return f"promotions.yaml#{promo_id}"


POLICY_CITATION = "shop.yaml#policy"


@lru_cache(maxsize=1)
def _qty_pattern() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in quantity_units())
    return re.compile(_COUNT + r"\s*(" + units + ")")


def _count(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else _CN_DIGITS.get(raw)


def spec_quantities(text: str, specs: Sequence[str] = ()) -> set[int]:
    """Counts in ``text`` that are part of a SKU's spec (30包 in 25g×30包), not a quantity."""
    found: set[int] = set()
    spec_text = flat(" ".join(specs))
    for m in _qty_pattern().finditer(normalize(text)):
        if flat(m.group(0)) and flat(m.group(0)) in spec_text:
            n = _count(m.group(1))
            if n is not None:
                found.add(n)
    return found


def parse_qty(text: str, specs: Sequence[str] = ()) -> int | None:
    """How many pieces the buyer asks for (两袋, 3件), skipping counts that name a spec."""
    spec_text = flat(" ".join(specs))
    for m in _qty_pattern().finditer(normalize(text)):
        if spec_text and flat(m.group(0)) in spec_text:
            continue
        return _count(m.group(1))
    return None


_RATE = re.compile(r"(?<![0-9.])([0-9](?:\.?[0-9])?|[一二三四五六七八九])\s*折")
_TIER = re.compile(r"满\s*([0-9]+)\s*减\s*([0-9]+)")


def _rate_of(raw: str) -> Decimal | None:
    digits = "".join(str(_CN_DIGITS.get(ch, ch)) for ch in raw).replace(".", "")
    if not digits.isdigit():
        return None
    return Decimal(f"0.{digits}")


def unknown_offer(question: str, shop: Shop) -> str | None:
    """A concrete offer the buyer names (8折, 满200减30) that no promotion of the shop has,
    at any time: the reply must say there is no such offer rather than price around it."""
    text = flat(normalize(question))
    rates = {p.rate for p in shop.promotions if isinstance(p, (Discount, NthDiscount))}
    tiers = {(t.threshold, t.amount) for p in shop.promotions if isinstance(p, FullReduction) for t in p.tiers}
    tiers |= {(p.threshold, p.amount) for p in shop.promotions if isinstance(p, Coupon)}
    for m in _RATE.finditer(text):
        rate = _rate_of(m.group(1))
        if rate is not None and rate not in rates and not any(r.normalize() == rate.normalize() for r in rates):
            return m.group(0)
    for m in _TIER.finditer(text):
        if (Decimal(m.group(1)), Decimal(m.group(2))) not in tiers:
            return m.group(0)
    return None


def _sku_fact(product: Product, sku: Sku) -> SkuFact:
    return SkuFact(sku_id=sku.sku_id, product_id=product.id, props=dict(sku.props), price=fmt(sku.price), stock=sku.stock)


def _product_fact(product: Product) -> ProductFact:
    by_prop: dict[str, dict[str, int]] = {}
    for sku in product.skus:
        for key, value in sku.props.items():
            slot = by_prop.setdefault(key, {})
            slot[value] = slot.get(value, 0) + sku.stock
    return ProductFact(
        id=product.id,
        title=product.title,
        category=product.category,
        price=fmt(product.price),
        attributes=dict(product.attributes),
        selling_points=list(product.selling_points),
        usage=product.usage,
        care=product.care,
        size_chart=product.size_chart.model_dump() if product.size_chart else None,
        faq=[{"q": qa.q, "a": qa.a} for qa in product.faq],
        no_reason_return=product.no_reason_return,
        in_stock=product.in_stock,
        stock_by_prop=by_prop,
        skus=[_sku_fact(product, s) for s in product.skus],
        citation=product_citation(product),
    )


def _promo_detail(promo: Any) -> str:
    if isinstance(promo, Discount):
        return f"折扣{fmt(promo.rate * 10).rstrip('0').rstrip('.')}折"
    if isinstance(promo, NthDiscount):
        return f"同款第{promo.n}件{fmt(promo.rate * 10).rstrip('0').rstrip('.')}折"
    if isinstance(promo, FullReduction):
        return "，".join(f"满{fmt(t.threshold)}减{fmt(t.amount)}" for t in sorted(promo.tiers, key=lambda t: t.threshold))
    if isinstance(promo, Coupon):
        return f"满{fmt(promo.threshold)}减{fmt(promo.amount)}"
    if isinstance(promo, Gift):
        return f"满{fmt(promo.threshold)}送{promo.gift}"
    return promo.title


class FactsBuilder:
    """Builds :class:`Facts` for one draft request from the shop, a retriever and a linker."""

    def __init__(
        self,
        shop: Shop,
        retriever: Retriever,
        linker: Linker,
        *,
        passages: int = MAX_PASSAGES,
        tokenizer: ShopTokenizer | None = None,
    ) -> None:
        if passages <= 0:
            raise ValueError("passages must be positive")
        self.shop = shop
        self.retriever = retriever
        self.linker = linker
        self.k = passages
        tok = tokenizer or getattr(retriever, "tokenizer", None) or getattr(linker, "tokenizer", None)
        if not isinstance(tok, ShopTokenizer):
            tok = ShopTokenizer(_shop_words(shop))
        self.relevance = Relevance(_shop_texts(shop), tok)
        self._promo_texts = {p.id: _promo_text(p) for p in shop.promotions}
        self._history_focus: dict[str, str | None] = {}
        self._reco_prices: dict[tuple[str, str, tuple[str, ...]], str] = {}

    # The request type lives in pipeline.py; only its fields are used here.
    def build(self, req: Any) -> Facts:
        shop = self.shop
        question = mask_pii(req.question)
        entities: dict[str, Any] = dict(req.entities or {})
        buyer: Buyer = req.buyer
        facts = Facts(
            shop_name=shop.info.name,
            persona_name=shop.info.persona.name,
            address_term=shop.info.persona.address_term,
            intent=req.intent,
            question=question,
            buyer_tier=buyer.vip_level,
            declined=bool(req.declined),
            now=req.now.isoformat(),
            policy=self._policy(),
        )
        facts.off_platform = bool(matcher("off_platform").find(normalize(question).replace(" ", ""), skip_negated=True))
        products, mention = self._products(question, entities, req.history)
        facts.products = [_product_fact(p) for p in products]
        focus = products[0] if products else None
        self._skus(facts, focus, entities, mention, question)
        specs = [v for p in products for sku in p.skus for v in sku.props.values()]
        asked_qty = entities.get("qty")
        if asked_qty is not None and asked_qty in spec_quantities(question, specs):
            asked_qty = None  # "30包的" names the 30-pack, not thirty pieces
        facts.qty = asked_qty or parse_qty(question, specs)
        measures = self._measures(entities, question)
        if measures.height_cm is not None or measures.weight_kg is not None:
            facts.measures = {
                "height_cm": facts_str(measures.height_cm),
                "weight_kg": facts_str(measures.weight_kg),
            }
        if focus is not None and focus.size_chart is not None:
            facts.size_advice = advise(focus.id, focus.size_chart, measures)
        facts.promotions = self._promotions(req.now, products)
        # The question without the words that only name the product asked about.
        drop = _naming_words(focus, mention)
        q = self.relevance.question(question, drop=drop)
        if focus is not None:
            self._quote(facts, focus, req.now, buyer)
        facts.recommendations, facts.recommend_basis = self._recommend(focus, mention, question, q, req.now, buyer, req.intent)
        hits = self._search(question, focus, req.now)
        facts.passages = hits
        facts.answers = self._answers(question, q, focus, hits)
        facts.named_promotion = self._named_promotion(q, req.now)
        if facts.named_promotion is None:
            facts.unknown_offer = unknown_offer(question, self.shop)
        facts.policy_cover = round(self.relevance.score(q, _policy_text(facts.policy)), 4)
        if facts.promotions:
            facts.promotions_cover = round(
                self.relevance.score(q, " ".join(self._promo_texts[p.id] for p in facts.promotions) + _OFFER_WORDS), 4
            )
        return facts

    # --- pieces --------------------------------------------------------------------------

    def _policy(self) -> dict[str, Any]:
        p = self.shop.info.policy
        return {
            "ship_within_hours": p.ship_within_hours,
            "return_window_days": p.return_window_days,
            "quality_window_days": p.quality_window_days,
            "carriers": list(p.carriers),
            "free_shipping_threshold": fmt(p.free_shipping_threshold) if p.free_shipping_threshold is not None else None,
            "no_free_shipping_regions": list(p.no_free_shipping_regions),
            "service_hours": self.shop.info.service_hours,
            "citation": POLICY_CITATION,
        }

    def _products(self, question: str, entities: dict[str, Any], history: Sequence[tuple[str, str]]) -> tuple[list[Product], Any]:
        shop = self.shop
        ids: list[str] = [p for p in entities.get("product_ids") or [] if p in shop.products]
        for sku_id in entities.get("sku_ids") or []:
            found = shop.sku(sku_id)
            if found and found[0].id not in ids:
                ids.append(found[0].id)
        focus = ids[0] if ids else self._focus_from_history(history)
        mentions = without_ambiguous(list(self.linker.link(question, focus_product=focus)), focus)
        mention = None
        if mentions:
            mention = next((m for m in mentions if not ids or m.product_id == ids[0]), None)
            for m in mentions:
                if m.product_id not in ids and (not ids or m.score >= 0.9):
                    ids.append(m.product_id)
        elif focus and focus not in ids:
            ids.append(focus)
        return [shop.products[i] for i in ids[:MAX_PRODUCTS]], mention

    def _focus_from_history(self, history: Sequence[tuple[str, str]]) -> str | None:
        for _role, text in reversed(list(history or [])):
            found = self._history_focus.get(text, False)
            if found is False:
                # Earlier messages come back every turn: link each text once.
                mentions = self.linker.link(text)
                found = str(mentions[0].product_id) if mentions else None
                if len(self._history_focus) >= _CACHE_SIZE:
                    self._history_focus.clear()
                self._history_focus[text] = found
            if found:
                return found
        return None

    def _skus(self, facts: Facts, focus: Product | None, entities: dict[str, Any], mention: Any, question: str) -> None:
        if focus is None:
            return
        props: dict[str, str] = dict(entities.get("props") or {})
        sku_ids = [s for s in entities.get("sku_ids") or [] if focus.sku(s) is not None]
        if mention is not None and mention.product_id == focus.id:
            props = {**dict(mention.props), **props}
            if not sku_ids and mention.props:
                sku_ids = list(mention.sku_ids)
        if props and not sku_ids:
            sku_ids = [s.sku_id for s in focus.skus if all(s.props.get(k) == v for k, v in props.items())]
        if not sku_ids and len(focus.skus) == 1:
            sku_ids = [focus.skus[0].sku_id]  # one SKU: asking about the product asks about it
        facts.asked_props = props
        asked = [focus.sku(s) for s in sku_ids]
        facts.asked_skus = [_sku_fact(focus, s) for s in asked if s is not None]
        if facts.asked_skus and not any(s.stock > 0 for s in facts.asked_skus):
            facts.alternatives = self._alternatives(focus, props)

    @staticmethod
    def _alternatives(product: Product, props: dict[str, str]) -> list[SkuFact]:
        """In-stock SKUs of the same product a shop assistant would offer instead: the same
        first-named property (colour) in the nearest other values (sizes), then the other
        properties kept (same size, another colour)."""
        keys = list(props)
        index = {s.sku_id: i for i, s in enumerate(product.skus)}
        asked = next((s for s in product.skus if all(s.props.get(k) == v for k, v in props.items())), None)
        anchor = index[asked.sku_id] if asked else 0
        in_stock = [s for s in product.skus if s.stock > 0]

        def keeps(s: Sku, names: list[str]) -> bool:
            return all(s.props.get(k) == props[k] for k in names)

        if not keys:
            return [_sku_fact(product, s) for s in in_stock[:4]]
        first = sorted((s for s in in_stock if keeps(s, keys[:1])), key=lambda s: abs(index[s.sku_id] - anchor))
        rest_keys = keys[1:]
        second = sorted((s for s in in_stock if rest_keys and keeps(s, rest_keys) and s not in first), key=lambda s: -s.stock)
        picked = first[:2] + second[:1]
        others = [s for s in in_stock if s not in picked]
        return [_sku_fact(product, s) for s in (picked + others)[:4]]

    @staticmethod
    def _measures(entities: dict[str, Any], question: str) -> Measures:
        parsed = parse_measures(question)
        from decimal import Decimal

        h = entities.get("height_cm")
        w = entities.get("weight_kg")
        return Measures(
            Decimal(str(h)) if h is not None else parsed.height_cm,
            Decimal(str(w)) if w is not None else parsed.weight_kg,
        )

    def _promotions(self, now: datetime, products: list[Product]) -> list[PromoFact]:
        out = []
        for promo in self.shop.promotions_at(now):
            out.append(
                PromoFact(
                    id=promo.id,
                    type=promo.type,
                    title=promo.title,
                    detail=_promo_detail(promo),
                    ends=promo.end.astimezone(self.shop.tz).strftime("%m月%d日").lstrip("0"),
                    how_to_get=promo.how_to_get if isinstance(promo, Coupon) else None,
                    applies_to=[p.id for p in products if promo.scope.covers(p)],
                    citation=promotion_citation(promo.id),
                )
            )
        return out

    def _quote(self, facts: Facts, focus: Product, now: datetime, buyer: Buyer) -> None:
        qty = facts.qty or 1
        asked_in_stock = [s for s in facts.asked_skus if s.stock > 0]
        if asked_in_stock or facts.asked_skus:
            sku_id, basis = (asked_in_stock or facts.asked_skus)[0].sku_id, "asked"
        else:
            in_stock = [s for s in focus.skus if s.stock > 0] or focus.skus
            sku_id, basis = min(in_stock, key=lambda s: s.price).sku_id, "cheapest"
        try:
            quote = price_basket(self.shop, [BasketLine(sku_id, qty)], now, buyer=buyer)
        except TellCustomer:
            return
        facts.quote = quote.to_dict()
        facts.quote_basis = basis

    def _recommend(
        self, focus: Product | None, mention: Any, question: str, q: Question, now: datetime, buyer: Buyer, intent: str
    ) -> tuple[list[RecoFact], str | None]:
        """Products to suggest: the kind the buyer names ranked by how well their attributes
        and selling points match the wishes in the question (透气, 保暖); else the focus
        product's related products."""
        shop = self.shop
        wanted = core(question)
        named = {p.category for p in shop.products.values() if p.category and normalize(p.category) in wanted}
        # "推荐件绿茶" links to a 绿茶 product by its category word alone: that is the kind
        # asked for, not a product to pair with.
        by_kind = mention is not None and normalize(getattr(mention, "span", "")).replace(" ", "") in {normalize(c) for c in named}
        asks_kind = bool(named) and (focus is None or focus.category not in named or (by_kind and intent == "recommendation"))
        if by_kind and asks_kind:
            focus = None
        if focus is not None and not asks_kind:
            related = self._related(focus, question, now, buyer)
            return related, "related" if related else None
        if not asks_kind and intent != "recommendation":
            return [], None
        pool = [p for p in shop.products.values() if (not named or p.category in named) and p.id != (focus.id if focus else None)]
        wishes = Question(tuple(t for t in q.terms if t.word not in {normalize(c) for c in named}))
        scored = []
        for p in pool:
            text = _product_text(p)
            score = self.relevance.score(wishes, text) if wishes.terms else 0.0
            scored.append((score, p))
        if not named and not any(sc > 0 for sc, _ in scored):
            return [], None  # nothing in the shop matches what was asked for
        if not named:
            scored = [sp for sp in scored if sp[0] > 0]
        scored.sort(key=lambda sp: (-int(sp[1].in_stock), -sp[0], sp[1].id))
        return [self._reco(p, now, buyer, wishes) for _, p in scored[:MAX_RECOMMEND]], "asked"

    def _related(self, focus: Product, question: str, now: datetime, buyer: Buyer) -> list[RecoFact]:
        shop = self.shop
        wanted = core(question)
        related = [shop.products[r] for r in focus.related if r in shop.products and r != focus.id]

        def kind_match(p: Product) -> int:
            return sum(1 for ch in set(p.category) if ch in wanted)

        # Products of the kind the buyer names ("裤子" → 牛仔裤) first; among related ones if
        # any match, else across the shop.
        matching = [p for p in related if kind_match(p)]
        if not matching and any(kind_match(p) for p in shop.products.values() if p.id != focus.id):
            matching = sorted(
                (p for p in shop.products.values() if p.id != focus.id and kind_match(p)),
                key=lambda p: (-kind_match(p), p.id),
            )
        pool = matching or related
        pool = [p for p in pool if p.in_stock] + [p for p in pool if not p.in_stock]
        return [self._reco(p, now, buyer, None) for p in pool[:MAX_RECOMMEND]]

    def _reco_price(self, p: Product, now: datetime, buyer: Buyer) -> str:
        """One piece of the cheapest in-stock SKU, item discounts applied (pricing engine).
        Cached per product, buyer and set of valid promotions: the price changes only then."""
        valid = tuple(sorted(promo.id for promo in self.shop.promotions_at(now)))
        key = (p.id, buyer.id, valid)
        cached = self._reco_prices.get(key)
        if cached is not None:
            return cached
        price = fmt(p.price)
        in_stock = [s for s in p.skus if s.stock > 0]
        if in_stock:
            cheapest = min(in_stock, key=lambda s: s.price)
            try:
                quote = price_basket(self.shop, [BasketLine(cheapest.sku_id, 1)], now, buyer=buyer)
                price = str(quote.to_dict()["subtotal"])
            except TellCustomer:
                pass
        if len(self._reco_prices) >= _CACHE_SIZE:
            self._reco_prices.clear()
        self._reco_prices[key] = price
        return price

    def _reco(self, p: Product, now: datetime, buyer: Buyer, wishes: Question | None) -> RecoFact:
        price = self._reco_price(p, now, buyer)
        why = None
        if wishes is not None and wishes.terms:
            lines = [*p.selling_points, *(f"{k}{v}" for k, v in p.attributes.items())]
            best = max(lines, key=lambda line: self.relevance.score(wishes, line), default=None)
            if best is not None and self.relevance.score(wishes, best) > 0:
                why = best
        return RecoFact(
            product_id=p.id, title=p.title, category=p.category, price=price, in_stock=p.in_stock,
            citation=product_citation(p), why=why,
        )

    def _named_promotion(self, q: Question, now: datetime) -> PromoFact | None:
        """The promotion the buyer names, when it is not valid at ``now``."""
        if not q.terms or all(promo.valid_at(now) for promo in self.shop.promotions):
            return None
        best, best_score = None, 0.0
        for promo in self.shop.promotions:
            score = self.relevance.score(q, promo.title)
            if score > best_score:
                best, best_score = promo, score
        if best is None or best.valid_at(now) or best_score < MIN_SCORE:
            return None
        if len(self.relevance.matched(q, best.title)) < 2:
            return None  # one shared word (折) does not name a promotion
        tz = self.shop.tz
        return PromoFact(
            id=best.id, type=best.type, title=best.title, detail=_promo_detail(best),
            starts=_day(best.start.astimezone(tz)), ends=_day(best.end.astimezone(tz)),
            status="ended" if best.end.timestamp() < now.timestamp() else "upcoming",
            citation=promotion_citation(best.id),
        )

    def _search(self, question: str, focus: Product | None, now: datetime) -> list[dict[str, Any]]:
        # Ask for more than needed: other products' passages are dropped below. No second
        # search restricted to the focus product: its own fields are scored one by one.
        hits = list(self.retriever.search(question, k=self.k * 3, now=now))
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for hit in hits:
            p = hit.passage
            if p.id in seen:
                continue
            # Another product's passage never answers a question about the focus product.
            if focus is not None and p.product_id and p.product_id != focus.id:
                continue
            seen.add(p.id)
            out.append(
                {"id": p.id, "type": p.type, "title": p.title, "citation": p.citation, "text": p.text,
                 "product_id": p.product_id, "score": round(float(hit.score), 4)}
            )
        return out[: self.k]

    def _answers(self, question: str, q: Question, focus: Product | None, passages: list[dict[str, Any]]) -> list[AnswerFact]:
        """Shop data that answers the question, best first: the focus product's FAQ,
        attributes and texts, then retrieved rules, FAQ and product passages. Each is scored
        by :class:`Relevance`; only those covering at least half the question are kept."""
        rel = self.relevance
        # (answer, how well its own heading — FAQ question, attribute name, rule title —
        # matches): among equally covering answers, the one whose heading asks the same wins.
        found: list[tuple[AnswerFact, float]] = []
        if focus is not None:
            src = Source(id=f"product:{focus.id}", citation=product_citation(focus), title=focus.title)
            for qa in focus.faq:
                head = rel.score(q, qa.q)
                c = max(head, rel.score(q, f"{qa.q} {qa.a}"))
                if c >= MIN_SCORE:
                    found.append((AnswerFact(kind="faq", question=qa.q, answer=qa.a, source=src, cover=round(c, 4)), head))
            asked = attributes_asked(question, focus.attributes)
            for attr, value in focus.attributes.items():
                head = 1.0 if attr in asked else rel.score(q, attr)
                c = max(head, rel.score(q, f"{attr} {value}"))
                if c >= MIN_SCORE:
                    found.append((AnswerFact(kind="attribute", question=attr, answer=f"{attr}：{value}", source=src, cover=round(c, 4)), head))
            field = topic_of(question)
            texts = {
                "care": ("保养方法", focus.care),
                "usage": ("使用建议", focus.usage),
                "selling_points": ("特点", "；".join(focus.selling_points) if focus.selling_points else None),
            }
            for kind, (label, text) in texts.items():
                if not text:
                    continue
                c = 1.0 if field == kind else rel.score(q, text)
                if c >= MIN_SCORE:
                    found.append((AnswerFact(kind=kind, question=label, answer=text, source=src, cover=round(c, 4)), 1.0 if field == kind else 0.0))
        for p in passages:
            if focus is not None and p["product_id"] == focus.id and p["type"] != "product_faq":
                continue  # the product's own fields are scored above, one by one
            if focus is None and p["product_id"]:
                continue  # a product the buyer did not name does not answer their question
            c = rel.score(q, f"{p['title']} {p['text']}")
            if c < MIN_SCORE:
                continue
            answer = self._relevant_sentences(q, _answer_part(p["title"], p["text"]))
            if any(_same(answer, a.answer) for a, _ in found):
                continue
            found.append(
                (AnswerFact(kind="passage", question=p["title"], answer=answer,
                            source=Source(id=p["id"], citation=p["citation"], title=p["title"], score=p["score"]),
                            cover=round(c, 4)), rel.score(q, p["title"]))
            )
        # Stable sort: among equals, the product's own data first, then retrieval order.
        found.sort(key=lambda ah: (-ah[0].cover, -ah[1]))
        for a, head in found:
            a.head = round(head, 4)
        return [a for a, _ in found]

    def _relevant_sentences(self, q: Question, text: str) -> str:
        """The sentences of a long passage that speak to the question (all when none does)."""
        sentences = [x for x in _SENTENCE_END.split(text) if x.strip()]
        if len(sentences) <= 2:
            return text
        keep = [x for x in sentences if self.relevance.matched(q, x)]
        return "".join(keep) if keep else text


_OFFER_WORDS = " 优惠 活动 折扣 打折 促销 券"


def _policy_text(policy: dict[str, Any]) -> str:
    """The shipping policy in the words the template reply uses."""
    regions = "、".join(policy.get("no_free_shipping_regions") or [])
    return (
        f"满{policy.get('free_shipping_threshold') or ''}元包邮 {regions}除外 运费 "
        f"下单付款后{policy.get('ship_within_hours')}小时内发货 发货时间 快递 {'、'.join(policy.get('carriers') or [])}"
    )


def _day(when: datetime) -> str:
    return f"{when.month}月{when.day}日"


def _promo_text(promo: Any) -> str:
    return f"{promo.title} {_promo_detail(promo)} {getattr(promo, 'how_to_get', '') or ''} {getattr(promo, 'description', '') or ''}"


def _product_text(p: Product) -> str:
    return " ".join([p.title, p.category, *p.selling_points, *(f"{k}{v}" for k, v in p.attributes.items()), p.usage or ""])


def _naming_words(focus: Product | None, mention: Any) -> list[str]:
    """Phrases that only name the product asked about: the linked span, its title and category."""
    if focus is None:
        return []
    words = [focus.title, *focus.title.split(), focus.category]
    span = getattr(mention, "span", None)
    if span and getattr(mention, "product_id", None) == focus.id:
        words.append(span)
    return words


def _shop_words(shop: Shop) -> list[str]:
    words: set[str] = set()
    for p in shop.products.values():
        words.update(w for w in [p.title, *p.title.split(), p.category, *p.attributes] if w)
    return sorted(words)


def _shop_texts(shop: Shop) -> list[str]:
    """Every text a reply can be drafted from, one document each (for word rarity)."""
    texts: list[str] = []
    for entry in shop.faq:
        texts.append(f"{entry.q} {entry.a}")
    for doc in shop.rules:
        for section in doc.sections:
            texts.append(f"{doc.title} {section.heading} {section.text}")
    for p in shop.products.values():
        texts.append(f"{p.title} {p.category}")
        texts.extend(f"{k} {v}" for k, v in p.attributes.items())
        texts.extend(p.selling_points)
        texts.extend(t for t in (p.usage, p.care) if t)
        texts.extend(f"{qa.q} {qa.a}" for qa in p.faq)
    for promo in shop.promotions:
        texts.append(_promo_text(promo))
    return texts or [shop.info.name]


def _answer_part(title: str, text: str) -> str:
    """A passage's text without the question it answers (``问：… 答：…``) or a leading line
    that repeats its title."""
    if "答：" in text:
        return text.split("答：", 1)[1].strip()
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) > 1:
        head = flat(lines[0])
        if head and (head in flat(title) or lines[0].endswith(("吗", "？", "?", "呢"))):
            lines = lines[1:]
    return "".join(lines)


_SENTENCE_END = re.compile(r"(?<=[。！？；!?])")


def _same(a: str, b: str) -> bool:
    fa, fb = flat(a), flat(b)
    return bool(fa) and bool(fb) and (fa in fb or fb in fa)


def facts_str(value: Any) -> str | None:
    if value is None:
        return None
    from bot.drafting.sizing import plain

    return plain(value)
