"""One question of a buyer message and the facts that answer it (:class:`PartFacts`).

For each question: the product it is about (the one whose own data answers it, when it names
two), the answers that fit it above the relevance floor, and what its kind needs — the stock
of the options it names, a size from the chart, the policy sentences with their numbers, the
products to recommend or the cheaper ones. The message as a whole (the basket, the quote)
is put together in :mod:`bot.drafting.facts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from bot.drafting.answers import AnswerFact, AnswerFinder, PassageFact, qualified_terms, rank, unanswerable
from bot.drafting.matching import flat
from bot.drafting.offers import Offers, PromoFact
from bot.drafting.policy import PolicyAnswers
from bot.drafting.products import Mention, Naming, ProductFinder, SkuFact, alternatives, sku_fact
from bot.drafting.questions import Question
from bot.drafting.recommend import RecoFact, Recommender
from bot.drafting.relevance import Relevance
from bot.drafting.sizing import Measures, SizeAdvice, advise
from bot.retrieval.passages import Passage
from bot.shop.models import Buyer, Product, Shop
from bot.text.normalize import normalize
from bot.text.places import regions_in

MAX_PRODUCTS = 4
MAX_HISTORY = 6  # earlier buyer messages searched for what the conversation is about
SUBJECT_SCORE = 0.4  # a product named at least this strongly may be what a question is about
# Kinds of question answered from a product's own data, where the product is the subject.
_ANSWERED_BY_DATA = frozenset({"info", "returns"})


class PartFacts(BaseModel):
    """What one question of the message needs to be answered."""

    text: str = Field(default="", exclude=True)  # the buyer's words: never evidence for a reply
    kind: str  # info | price | cheaper | promotion | stock | size | shipping | returns | recommend
    kinds: list[str] = Field(default_factory=list)  # every kind its words name (it is answered as ``kind``)
    modes: list[str] = Field(default_factory=list)  # ends | wait | scope | where | which | options | each
    product_ids: list[str] = Field(default_factory=list)  # what it is about, the one asked first
    named_by_buyer: bool = False  # the question itself names its product (not the conversation)
    tied: list[str] = Field(default_factory=list)  # products one word names equally: ask which
    answers: list[AnswerFact] = Field(default_factory=list)
    asked_skus: list[SkuFact] = Field(default_factory=list)
    alternatives: list[SkuFact] = Field(default_factory=list)  # in stock, same product
    by_age: list[SkuFact] = Field(default_factory=list)  # options whose age range fits the child
    size_advice: SizeAdvice | None = None
    named_promotions: list[PromoFact] = Field(default_factory=list)
    around: list[PromoFact] = Field(default_factory=list)  # ended lately or starting soon
    policy_answers: list[AnswerFact] = Field(default_factory=list)  # rule sentences with numbers
    regions: list[str] = Field(default_factory=list)
    recommendations: list[RecoFact] = Field(default_factory=list)
    recommend_basis: str | None = None  # related | asked | cheaper
    unknown: bool = False  # nothing in the shop's data answers it


class PartBuilder:
    """Builds the :class:`PartFacts` of one question, for one shop."""

    def __init__(
        self, shop: Shop, relevance: Relevance, finder: ProductFinder, answers: AnswerFinder, offers: Offers,
        recommender: Recommender, policy_answers: PolicyAnswers, summary: str, shop_passages: Sequence[Passage],
    ) -> None:
        self.shop = shop
        self.relevance = relevance
        self.finder = finder
        self.answers = answers
        self.offers = offers
        self.recommender = recommender
        self.policy_answers = policy_answers
        self._summary = summary
        # The products each rule or FAQ passage is about, named by the head noun of their
        # titles (充电宝乘机 is about 充电宝): such a passage does not answer a question about
        # another product. A material or a category in passing (羊毛, 棉质) names none.
        self._passage_products: dict[str, frozenset[str]] = {}
        for p in shop_passages:
            if p.type in ("rule", "faq"):
                naming = self.finder.named(p.text)
                self._passage_products[p.citation] = frozenset(
                    m.product_id for m in naming.mentions if m.score >= 0.42 and self.finder.ends_title(m.product_id, m.span)
                )


    def build(
        self, q: Question, naming: Naming, focus_id: str | None, tied: list[str], entities: dict[str, Any],
        measures: Measures, hits: list[PassageFact], named_promos: list[PromoFact], now: datetime, buyer: Buyer,
        message: str, previous: PartFacts | None, history: Sequence[tuple[str, str]] = (),
    ) -> PartFacts:
        shop = self.shop
        own = naming.best.product_id if naming.best is not None else None
        own_tied = naming.tied if naming.best is None else []
        before = previous.product_ids[0] if previous is not None and previous.product_ids else focus_id
        if before and (own or own_tied) and own != before and self.finder.options[before].props(q.text):
            # 「没有的话黑色有吗」: an option of the product just asked about, not another product.
            best = naming.best or (naming.mentions[0] if naming.mentions else None)
            if best is None or best.score < SUBJECT_SCORE + 0.1:
                own, own_tied = before, []
        if own and q.kind in _ANSWERED_BY_DATA:
            own = self._subject(q, naming) or own
        if own:
            ids = [own]
        elif own_tied:
            ids = []
        elif previous is not None and previous.product_ids:
            ids = previous.product_ids[:1]
        else:
            ids = [focus_id] if focus_id else []
        # Other products the question names: what a basket may hold, what an answer may be about.
        also = SUBJECT_SCORE if q.kind in ("price", "promotion") else SUBJECT_SCORE + 0.1
        ids += [m.product_id for m in naming.mentions[1:] if m.product_id not in ids and m.score >= also and own]
        promos = self.offers.named(self.relevance.question(q.text), q.text, now, [shop.products[i] for i in ids])
        if q.kind == "stock" and promos and not (focus_id and self.finder.options[focus_id].props(q.text)):
            # 「五一那个童装8折还有吗」: is the offer still on, not the goods in stock.
            q = Question(text=q.text, kind="price", kinds=q.kinds, modes=q.modes, core=q.core)
        part = PartFacts(
            text=q.text, kind=q.kind, kinds=list(q.kinds), modes=sorted(q.modes), product_ids=ids[:MAX_PRODUCTS],
            named_by_buyer=bool(own), tied=own_tied or ([] if ids else tied),
        )
        focus = shop.products[ids[0]] if ids else None
        mention = next((m for m in naming.mentions if m.product_id == own), None) if own else None
        part.named_promotions = promos
        if not part.named_promotions and any(p for p in named_promos) and q.kind in ("price", "promotion"):
            part.named_promotions = [p for p in named_promos]
        part.answers = self._answers(q, part, focus, mention, hits, naming)
        if not part.answers and previous is not None and not own:
            # A follow-up read with the question before it (「敷完呢」), answered by what
            # speaks to its own words.
            mine = self.relevance.question(q.text).known
            if mine:
                context = Question(text=f"{previous.text} {q.text}", kind=q.kind, kinds=q.kinds, modes=q.modes, core=q.core)
                found = self._answers(context, part, focus, mention, hits, naming)
                part.answers = [a for a in found if any(t.found_in(flat(a.answer)) for t in mine)]
                part.unknown = not part.answers
        if focus is not None:
            self._options(part, focus, mention, q, entities, previous)
        if focus is not None and focus.size_chart is not None and (q.kind == "size" or measures.height_cm or measures.weight_kg):
            part.size_advice = advise(focus.id, focus.size_chart, measures)
        if q.kind in ("price", "promotion", "cheaper") or "wait" in q.modes:
            part.around = self.offers.around(now, [shop.products[i] for i in ids]) if ids else []
            if not ids and "wait" in q.modes:
                part.around = self.offers.coming(now)
        if q.kind in ("shipping", "returns"):
            self._policy_part(part, q, focus, mention, message)
        if q.kind in ("recommend", "cheaper"):
            self._recommend(part, q, naming, focus, mention, now, buyer, history, message)
        return part

    def _subject(self, q: Question, naming: Naming) -> str | None:
        """Of two products a question names by different words (「洗面奶能顺便卸妆吗」: 洁面乳 and
        卸妆油), the one whose own data answers it once its naming words are left out."""
        rivals: list[Mention] = []
        for m in naming.mentions:
            # Words inside a stronger product's name (磁吸 of 磁吸充电宝) name no rival.
            if m.score >= SUBJECT_SCORE and all(m.span not in r.span for r in rivals):
                rivals.append(m)
        if len(rivals) < 2:
            return None
        best: tuple[float, float] | None = None
        chosen = None
        for m in rivals[:3]:
            p = self.shop.products[m.product_id]
            terms = self.relevance.question(q.text, drop=naming_words(p, m))
            found = self.answers.for_product(p, _without(q.text, naming_words(p, m)), terms)
            top = (found[0].head, found[0].cover) if found else (0.0, 0.0)
            if "which" in q.modes and self.finder.options[p.id].by_age(q.text):
                top = (1.0, 1.0)  # 「奶粉该喝几段」: its options by age answer it
            if best is None or top > best:
                best, chosen = top, m.product_id
        return chosen if best and best[1] > 0 else None

    def _answers(
        self, q: Question, part: PartFacts, focus: Product | None, mention: Mention | None, hits: list[PassageFact],
        naming: Naming | None = None,
    ) -> list[AnswerFact]:
        shop = self.shop
        candidates = [shop.products[i] for i in (part.product_ids[:1] or part.tied)]
        tied_mentions = {m.product_id: m for m in (naming.mentions if naming else []) if m.product_id in part.tied}
        if focus is not None:
            drop = naming_words(focus, mention)
        else:
            drop = [m.span for m in tied_mentions.values()]
        terms = self.relevance.question(q.text, drop=drop)
        if unanswerable(terms):
            part.unknown = True
            return []
        core = self.relevance.question(q.core or q.text, drop=drop)
        qualified = qualified_terms(core, q.core or q.text)
        found: list[AnswerFact] = []
        for p in candidates:
            words = drop if p is focus else naming_words(p, tied_mentions.get(p.id))
            own_terms = terms if p is focus else self.relevance.question(q.text, drop=words)
            found.extend(self.answers.for_product(
                p, _without(q.text, words), own_terms, asks_options="options" in q.modes, qualified=qualified
            ))
        names = [p.id for p in candidates]
        excluded = [c for c, owners in self._passage_products.items() if owners and names and not owners & set(names)]
        found.extend(self.answers.from_passages(terms, hits, products=names, excluded=excluded, qualified=qualified))
        ranked = rank(found)
        if not ranked and terms.terms:
            part.unknown = True
        return ranked

    def _options(
        self, part: PartFacts, focus: Product, mention: Mention | None, q: Question, entities: dict[str, Any],
        previous: PartFacts | None,
    ) -> None:
        index = self.finder.options[focus.id]
        named = index.props(q.text)
        if named and previous is not None and previous.product_ids[:1] == [focus.id]:
            # 「没有的话黑色有吗」 keeps the model named before and changes the colour.
            for k, vs in index.props(previous.text).items():
                named.setdefault(k, vs)
        routed = [s for s in (focus.sku(x) for x in entities.get("sku_ids") or []) if s is not None]
        if named:
            skus = index.skus(named)
        elif routed and part.named_by_buyer:
            skus = routed
        elif len(focus.skus) == 1:
            skus = list(focus.skus)
        else:
            skus = []
        part.asked_skus = [sku_fact(focus, s) for s in skus]
        if skus and not any(s.stock > 0 for s in skus):
            props = {k: vs[0] for k, vs in named.items()} if named else dict(skus[0].props)
            part.alternatives = [sku_fact(focus, s) for s in alternatives(focus, props)]
        fits = index.by_age(q.text)
        if fits:
            part.by_age = [sku_fact(focus, s) for s in focus.skus if any(s.props.get(k) == v for k, v in fits)]

    def _policy_part(self, part: PartFacts, q: Question, focus: Product | None, mention: Mention | None, message: str) -> None:
        drop = naming_words(focus, mention) if focus is not None else []
        terms = self.relevance.question(q.text, drop=drop)
        if q.kind == "shipping":
            part.regions = regions_in(q.text) or regions_in(message)
            cover = self.relevance.score(terms, self._summary)
            if part.regions:
                terms = self.relevance.question(q.text + " " + " ".join(part.regions), drop=drop)
            part.policy_answers = self.policy_answers.shipping(terms, part.regions, focus, cover)
        else:
            part.policy_answers = self.policy_answers.returns(terms, focus)

    def _sku_talked_about(self, focus: Product, q: Question, history: Sequence[tuple[str, str]]) -> Any:
        """The SKU of ``focus`` the question or the last buyer message naming one is about."""
        index = self.finder.options[focus.id]
        for text in [q.text, *(t for role, t in reversed(list(history or [])) if role == "buyer")][:MAX_HISTORY]:
            named = index.props(text)
            if named:
                skus = index.skus(named)
                if len(skus) == 1:
                    return skus[0]
        return None

    def _recommend(
        self, part: PartFacts, q: Question, naming: Naming, focus: Product | None, mention: Mention | None,
        now: datetime, buyer: Buyer, history: Sequence[tuple[str, str]] = (), message: str = "",
    ) -> None:
        rec = self.recommender
        shop = self.shop
        terms = self.relevance.question(q.text)
        if q.kind == "cheaper":
            if focus is not None:
                words = [mention.span] if mention is not None else []
                kind = rec.same_kind(focus, words, self.finder.head_nouns)
                part.recommendations = rec.cheaper(focus, kind, now, buyer, than=self._sku_talked_about(focus, q, history))
                part.recommend_basis = "cheaper"
                return
            pool = [shop.products[i] for i in part.tied] or rec.kinds_named(q.text, naming)
            picks = rec.by_need(
                q.text, terms, pool or list(shop.products.values()), now, buyer, kind_named=bool(pool), message=message
            )
            picks.sort(key=lambda r: Decimal(r.price))
            part.recommendations, part.recommend_basis = picks, "cheaper"
            return
        if focus is not None and part.named_by_buyer and not _names_kind(q, focus, mention):
            # A product named by its own words (「高腰直筒牛仔裤配什么上衣」): what goes with it.
            related = rec.related(focus, q.text, now, buyer)
            if related:
                part.recommendations, part.recommend_basis = related, "related"
                return
        pool = rec.kinds_named(q.text, naming)
        kind = next((m.kind for m in naming.mentions if m.kind), "")
        if not pool and kind:
            pool = [shop.products[p] for p in self.finder.kind_owners(kind)]  # 「杯子」
        if focus is not None and not pool and not part.named_by_buyer:
            related = rec.related(focus, q.text, now, buyer)
            if related:
                part.recommendations, part.recommend_basis = related, "related"
                return
        picks = rec.by_need(
            q.text, terms, pool or list(shop.products.values()), now, buyer, kind_named=bool(pool), message=message
        )
        part.recommendations, part.recommend_basis = picks, "asked" if picks else None


def _names_kind(q: Question, focus: Product, mention: Mention | None) -> bool:
    """The question names the focus product by its category (「推荐件绿茶」): the kind asked
    for, not a product to pair with."""
    if mention is None:
        return False
    return flat(normalize(mention.span)) == flat(normalize(focus.category))


def _without(text: str, words: Sequence[str]) -> str:
    """``text`` (normalised, spaces removed) without the phrases ``words``."""
    out = normalize(text).replace(" ", "")
    for w in sorted({normalize(w).replace(" ", "") for w in words if w and len(w.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(w, " ")
    return out


def naming_words(focus: Product | None, mention: Mention | None) -> list[str]:
    """Phrases that only name the product asked about: the linked span, its title and category."""
    if focus is None:
        return []
    words = [focus.title, *focus.title.split(), focus.category]
    if mention is not None and mention.product_id == focus.id and mention.span:
        words.append(mention.span)
    return words
