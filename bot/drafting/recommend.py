"""Recommendations from the shop's own words: the kind the buyer names (「杯子」, 「精华」), ranked
by how well titles, categories, selling points and attributes match what they want (办公室,
送长辈, 敏感肌) and kept within their budget (「150以内」); the products that go with the one in
focus; and, for 「太贵了」, only what costs less — a cheaper SKU, a cheaper product of the same
kind, a trial size — never a dearer one.
"""

from __future__ import annotations

import heapq
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

import numpy as np
from pydantic import BaseModel

from bot.drafting.matching import core, flat
from bot.drafting.options import label
from bot.drafting.products import FinderTables, Naming, product_citation
from bot.drafting.relevance import Question, Relevance, Term, pattern_of
from bot.errors import TellCustomer
from bot.money import fmt
from bot.pricing import BasketLine, price_basket
from bot.shop.models import Buyer, Product, Shop, Sku
from bot.text.normalize import normalize

MAX_RECOMMEND = 3
_CACHE_SIZE = 4096
_BUDGET = re.compile(r"(?:预算|价位|价格)?\s*(\d{2,5})\s*(?:元|块|rmb)?\s*(以内|以下|之内|内|左右|上下|不到)")
_AROUND = 1.15  # 「400左右」 allows a little more
# SKU option words of a smaller pack to try first.
_TRIAL = ("旅行装", "小样", "试用", "体验装", "便携装", "单片", "单支")


class RecoFact(BaseModel):
    product_id: str
    title: str
    category: str
    price: str  # the pricing engine's price of one piece (item discounts applied)
    in_stock: bool
    citation: str
    why: str | None = None  # the product's own words that match what the buyer asked for
    option: str | None = None  # the SKU meant, when it is not the product's cheapest


def budget_of(text: str) -> tuple[Decimal, bool] | None:
    """(amount, loose) of a budget the buyer gives: 「150以内」 → (150, False), 「400左右」 → loose."""
    m = _BUDGET.search(normalize(text))
    if not m:
        return None
    return Decimal(m.group(1)), m.group(2) in ("左右", "上下")


def product_text(p: Product) -> str:
    return " ".join([p.title, p.category, *p.selling_points, *(f"{k}{v}" for k, v in p.attributes.items()), p.usage or ""])


@dataclass(frozen=True, eq=False)
class ProductLines:
    """Every product's text in matching form in one string, a line each, to find the
    products that have a word in one pass: the products' ids in the shop's order and where
    each one's line starts. A pure function of the shop (:func:`product_lines`), kept between
    starts by :mod:`bot.drafting.kept`."""

    ids: list[str]
    starts: np.ndarray  # int64, where each product's line starts in ``text``
    text: str

    @classmethod
    def of(cls, ids: list[str], lines: list[str]) -> ProductLines:
        """``lines`` (no line breaks inside) of the products ``ids``, in that order."""
        starts = np.zeros(len(lines), dtype=np.int64)
        if lines:
            np.cumsum([len(line) + 1 for line in lines[:-1]], out=starts[1:])
        return cls(ids, starts, "\n".join(lines))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProductLines):
            return NotImplemented
        return self.ids == other.ids and self.text == other.text and np.array_equal(self.starts, other.starts)

    __hash__ = None  # type: ignore[assignment]

    def having(self, pattern: re.Pattern[str]) -> set[str]:
        """The products whose line ``pattern`` is found in."""
        ids = self.ids
        return {ids[i] for i in self.rows_having(pattern).tolist()}

    def rows_having(self, pattern: re.Pattern[str]) -> np.ndarray:
        """The numbers of the lines ``pattern`` is found in, in order."""
        at = np.fromiter((m.start() for m in pattern.finditer(self.text)), dtype=np.int64)
        return np.unique(np.searchsorted(self.starts, at, side="right") - 1)


def product_lines(shop: Shop) -> ProductLines:
    return ProductLines.of(list(shop.products), [flat(product_text(p)) for p in shop.products.values()])


def _kind_words(p: Product, category_form: str, pieces: dict[str, list[str]] | None) -> tuple[str, ...]:
    """The words naming ``p``'s kind: its category (``category_form``, matching form) and its
    title's parts in matching form (read from ``pieces`` when it holds them)."""
    own = pieces.get(p.id) if pieces is not None else None
    if own is None:
        own = [flat(normalize(w)) for w in p.title.split()]
    return (category_form, *own)


def _title(p: Product, titles: dict[str, str]) -> str:
    """``p``'s title in matching form (read from ``titles`` when it holds it)."""
    title = titles.get(p.id)
    return title if title is not None else flat(normalize(p.title))


@dataclass(frozen=True, eq=False)
class CategoryTables:
    """Per category: the words naming its products' kinds, and its products' titles a line
    each, in the shop's order. Built for a category at its first recommendation otherwise (a
    category of thousands takes tens of milliseconds); a pure function of the shop
    (:func:`category_tables`), kept between starts by :mod:`bot.drafting.kept`."""

    words: dict[str, frozenset[str]]
    titles: dict[str, ProductLines]


def category_tables(shop: Shop, finder: FinderTables | None = None) -> CategoryTables:
    """``shop``'s :class:`CategoryTables`; ``finder``: its finder tables, whose titles and
    title pieces in matching form are read instead of normalising each title again."""
    members: dict[str, list[Product]] = {}
    for p in shop.products.values():
        members.setdefault(p.category, []).append(p)
    pieces = finder.pieces if finder is not None else None
    titles = finder.titles if finder is not None else {}
    words: dict[str, frozenset[str]] = {}
    lines: dict[str, ProductLines] = {}
    for category, products in members.items():
        form = flat(normalize(category))
        words[category] = frozenset().union(*(_kind_words(p, form, pieces) for p in products))
        lines[category] = ProductLines.of([p.id for p in products], [_title(p, titles) for p in products])
    return CategoryTables(words, lines)


_HAVING_SIZE = 20_000  # words whose products are remembered
_POOLS_SIZE = 256  # pools whose index is remembered


@dataclass(frozen=True, slots=True)
class _PoolIndex:
    """What recommending from one pool needs besides the wishes, worked out once per pool:
    its products' ids, the ids in id order (what the pool's unscored products are read in),
    and the words naming its kinds, a line each."""

    pool: Sequence[Product]  # kept, so the pool's id is not reused while its entry lives
    ids: frozenset[str]
    by_id: tuple[str, ...]
    words: str


class Recommender:
    """Picks products to suggest, for one shop. Prices are the pricing engine's, cached per
    product, SKU, buyer and set of valid promotions (they change only then)."""

    def __init__(
        self, shop: Shop, relevance: Relevance, lines: ProductLines | None = None, titles: FinderTables | None = None,
        categories: CategoryTables | None = None,
    ) -> None:
        """``lines``: the shop's :func:`product_lines` when they were kept (built at the first
        recommendation by need otherwise); ``titles``: the shop's finder tables, whose titles
        and title pieces in matching form are read instead of normalising each title again;
        ``categories``: the shop's :func:`category_tables` when they were kept (each
        category's built at its first recommendation otherwise)."""
        self.shop = shop
        self.relevance = relevance
        self._prices: dict[tuple[str, str, str, tuple[str, ...]], Decimal] = {}
        # Products per category, in the shop's order: a question looks at its categories
        # (a few hundred at most), not at every product.
        self._order = {pid: i for i, pid in enumerate(shop.products)}
        self._by_category: dict[str, list[Product]] = {}
        for p in shop.products.values():
            self._by_category.setdefault(p.category, []).append(p)
        # The same, by id: what goes with a product is read off a few categories in that
        # order, up to the first products in stock.
        self._by_id = {cat: sorted(ps, key=lambda p: p.id) for cat, ps in self._by_category.items()}
        # product id → its title in matching form, and the pieces of it
        self._titles: dict[str, str] = titles.titles if titles is not None else {}
        self._pieces: dict[str, list[str]] | None = titles.pieces if titles is not None else None
        self._category_forms: dict[str, str] = {}
        # category → its products' titles
        self._titles_of: dict[str, ProductLines] = dict(categories.titles) if categories is not None else {}
        self._kinds: dict[str, tuple[str, ...]] = {}  # product id → the words naming its kind
        self._stocked: dict[str, bool] = {}  # product id → in stock (a shop's stock is read once)
        self._kinds_of: dict[tuple[str, ...], list[Product]] = {}  # categories named → their products
        # Pools by identity (the categories a question names come back as the same list);
        # the whole shop's pool is known by its products, whatever list holds them.
        self._pools: dict[int, _PoolIndex] = {}
        self._category_words: dict[str, frozenset[str]] = dict(categories.words) if categories is not None else {}
        self._everything = list(shop.products.values())
        self._all: _PoolIndex | None = None
        self._lines = lines
        self._having: dict[str, frozenset[str]] = {}

    # --- prices ----------------------------------------------------------------------------

    def unit_price(self, p: Product, now: datetime, buyer: Buyer, sku: Sku | None = None) -> Decimal:
        """One piece of ``sku`` (default: the cheapest in stock), item discounts applied."""
        if sku is None:
            in_stock = [s for s in p.skus if s.stock > 0] or list(p.skus)
            sku = min(in_stock, key=lambda s: s.price)
        valid = tuple(sorted(promo.id for promo in self.shop.promotions_at(now)))
        key = (p.id, sku.sku_id, buyer.id, valid)
        cached = self._prices.get(key)
        if cached is not None:
            return cached
        price = sku.price
        try:
            price = price_basket(self.shop, [BasketLine(sku.sku_id, 1)], now, buyer=buyer).subtotal
        except TellCustomer:
            pass
        if len(self._prices) >= _CACHE_SIZE:
            self._prices.clear()
        self._prices[key] = price
        return price

    def fact(self, p: Product, now: datetime, buyer: Buyer, wishes: Question | None = None, sku: Sku | None = None) -> RecoFact:
        why = None
        if wishes is not None and wishes.terms:
            lines = [*p.selling_points, *(f"{k}{v}" for k, v in p.attributes.items())]
            best = max(lines, key=lambda line: self.relevance.score(wishes, line), default=None)
            if best is not None and self.relevance.score(wishes, best) > 0:
                why = best
        return RecoFact(
            product_id=p.id, title=p.title, category=p.category, price=fmt(self.unit_price(p, now, buyer, sku)),
            in_stock=p.in_stock if sku is None else sku.stock > 0, citation=product_citation(p), why=why,
            option=label(sku.props) if sku is not None else None,
        )

    def _in_order(self, groups: Iterable[list[Product]]) -> list[Product]:
        """The products of ``groups`` (whole categories) in the shop's order."""
        found = [p for group in groups for p in group]
        found.sort(key=lambda p: self._order[p.id])
        return found

    # --- by need ---------------------------------------------------------------------------

    def matching(self, q: Question) -> set[str]:
        """The products whose text has one of ``q``'s known words (or its alternatives): the
        only ones :meth:`Relevance.score` gives more than 0, found without scoring the shop."""
        out: set[str] = set()
        for t in q.known:
            for word in (t.word, *t.alts):
                out |= self._with_word(word)
        return out

    def _with_term(self, t: Term) -> frozenset[str]:
        """The products whose text has ``t`` (its word or an alternative): those where
        :meth:`Relevance.score` counts it."""
        found = self._with_word(t.word)
        for alt in t.alts:
            found = found | self._with_word(alt)
        return found

    def _with_word(self, word: str) -> frozenset[str]:
        found = self._having.get(word)
        if found is not None:
            return found
        if self._lines is None:
            self._lines = product_lines(self.shop)
        hits = self._lines.having(pattern_of(word))
        if len(self._having) >= _HAVING_SIZE:
            self._having.clear()
        found = self._having[word] = frozenset(hits)
        return found

    def kinds_named(self, question: str, naming: Naming) -> list[Product]:
        """Products of the kind the buyer names: a category written out, or a word several
        products share (「精华」, 「充电宝」, 「杯子」)."""
        wanted = core(question)
        named = tuple(cat for cat in self._by_category if cat and normalize(cat) in wanted)
        if named:
            # The same categories give the same products: put in order once (callers do not
            # change the list).
            found = self._kinds_of.get(named)
            if found is None:
                if len(self._kinds_of) >= _CACHE_SIZE:
                    self._kinds_of.clear()
                found = self._kinds_of[named] = self._in_order(self._by_category[cat] for cat in named)
            return found
        if naming.tied:
            return [self.shop.products[pid] for pid in naming.tied]
        best = naming.mentions[0] if naming.mentions else None
        if best is None:
            return []
        same = [m for m in naming.mentions if m.span == best.span]
        products = [self.shop.products[m.product_id] for m in same]
        # A word naming the kind (not one product's own title words) names every product of it.
        if len(products) == 1 and not _names_kind(best.span, products[0]):
            return []
        return products

    def by_need(
        self, question: str, q: Question, pool: Sequence[Product], now: datetime, buyer: Buyer, *,
        exclude: Sequence[str] = (), kind_named: bool = False, message: str = "",
    ) -> list[RecoFact]:
        """Products of ``pool`` (the kind named, else the whole shop) that match the wishes in
        ``q`` and the budget (anywhere in the ``message``), best first: in stock first, then
        by score, then by id; nothing when no product matches unasked wishes."""
        index = self._pool_index(pool)
        kind_words = index.words if kind_named else ""
        # A word inside a word naming the pool's kind is no wish (the words a line each).
        wishes = Question(tuple(t for t in q.terms if t.word not in kind_words))
        budget = budget_of(message or question)
        limit = None
        if budget is not None:
            amount, loose = budget
            limit = amount * Decimal(str(_AROUND)) if loose else amount
        excluded = set(exclude)

        def allowed(p: Product) -> bool:
            return p.id not in excluded and (limit is None or self.unit_price(p, now, buyer) <= limit)

        # Only products with a wished-for word can score above 0: they alone are scored, by
        # the products each word is in (what Relevance.score finds in their texts). Those of
        # the pool are split by which of the words they have (set operations, not a loop over
        # products): products with the same words score the same.
        having = self.matching(wishes) if wishes.terms else set()
        owners = [(t.weight, self._with_term(t)) for t in wishes.known]
        total = wishes.total
        products = self.shop.products
        classes: list[tuple[set[str], tuple[float, ...]]] = []
        found = having & index.ids if having else set()
        if found:
            classes = [(found, ())]
        for weight, ids in owners:
            split: list[tuple[set[str], tuple[float, ...]]] = []
            for members, weights in classes:
                inside = members & ids
                if inside:
                    split.append((inside, (*weights, weight)))
                if len(inside) < len(members):
                    split.append((members - inside, weights))
            classes = split
        by_score: dict[float, set[str]] = {}
        zero: set[str] = set()  # products with a wished-for word that still score 0
        for members, weights in classes:
            score = sum(weights) / total if total > 0 else 0.0
            (by_score.setdefault(score, set()) if score > 0 else zero).update(members)
        checked = limit is not None or bool(excluded)

        def positive() -> Iterator[Product]:
            """The allowed products scoring above 0, by score, then by id (ordered as far as read)."""
            for score in sorted(by_score, reverse=True):
                for pid in _ascending(by_score[score]):
                    p = products[pid]
                    if not checked or allowed(p):
                        yield p

        if not kind_named:
            picks = _in_stock_first(positive(), MAX_RECOMMEND, self._in_stock)
            return [self.fact(p, now, buyer, wishes) for p in picks]
        # The buyer named the kind: its other products follow, by id, read only as far as needed.
        picks = _first(positive(), MAX_RECOMMEND, self._in_stock)

        def rest() -> Iterator[Product]:
            """The pool's other products by id: without a wished-for word, or scoring 0 and allowed."""
            for pid in index.by_id:
                if pid not in having or (pid in zero and (not checked or allowed(products[pid]))):
                    yield products[pid]

        if len(picks) < MAX_RECOMMEND:
            picks += _first(rest(), MAX_RECOMMEND - len(picks), lambda p: self._in_stock(p) and allowed(p))
        if len(picks) < MAX_RECOMMEND:
            picks += _first(positive(), MAX_RECOMMEND - len(picks), lambda p: not self._in_stock(p))
        if len(picks) < MAX_RECOMMEND:
            picks += _first(rest(), MAX_RECOMMEND - len(picks), lambda p: not self._in_stock(p) and allowed(p))
        return [self.fact(p, now, buyer, wishes) for p in picks]

    def _pool_index(self, pool: Sequence[Product]) -> _PoolIndex:
        """The index of ``pool`` (a list of distinct products of the shop): remembered by the
        list's identity; the whole shop's is built once whatever list holds it."""
        found = self._pools.get(id(pool))
        if found is not None and found.pool is pool:
            return found
        everything = self._everything
        if len(pool) == len(everything) and all(map(operator.is_, pool, everything)):
            if self._all is None:
                self._all = self._index_of(everything)
            return self._all
        index = self._index_of(pool)
        if len(self._pools) >= _POOLS_SIZE:
            self._pools.clear()
        self._pools[id(pool)] = index
        return index

    def _index_of(self, pool: Sequence[Product]) -> _PoolIndex:
        ids = frozenset(p.id for p in pool)
        words: set[str] = set()
        for category in {p.category for p in pool}:
            # A category's products are usually all in the pool: their words are kept per
            # category; a pool holding only some of them is read product by product.
            members = self._by_category.get(category, [])
            if all(p.id in ids for p in members):
                words |= self._words_of_category(category)
            else:
                words.update(*(self._kind_words(p) for p in pool if p.category == category))
        return _PoolIndex(pool=pool, ids=ids, by_id=tuple(sorted(ids)), words="\n".join(sorted(words)))

    def _words_of_category(self, category: str) -> frozenset[str]:
        words = self._category_words.get(category)
        if words is None:
            words = self._category_words[category] = frozenset().union(
                *map(self._kind_words, self._by_category.get(category, []))
            )
        return words

    def _kind_words(self, p: Product) -> tuple[str, ...]:
        """The words naming ``p``'s kind: its category and title parts, in matching form."""
        words = self._kinds.get(p.id)
        if words is None:
            words = self._kinds[p.id] = _kind_words(p, self._category_form(p.category), self._pieces)
        return words

    def _category_form(self, category: str) -> str:
        """``category`` in matching form, worked out once per category."""
        form = self._category_forms.get(category)
        if form is None:
            form = self._category_forms[category] = flat(normalize(category))
        return form

    def _in_stock(self, p: Product) -> bool:
        found = self._stocked.get(p.id)
        if found is None:
            found = self._stocked[p.id] = p.in_stock
        return found

    def related(self, focus: Product, question: str, now: datetime, buyer: Buyer) -> list[RecoFact]:
        """What goes with ``focus``: of the kind the buyer names (「裤子」) among its related
        products if any match, else across the shop; else its related products."""
        shop = self.shop
        wanted = core(question)
        related = [shop.products[r] for r in focus.related if r in shop.products and r != focus.id]

        def category_match(category: str) -> int:
            return sum(1 for ch in set(category) if ch in wanted)

        def kind_match(p: Product) -> int:
            return category_match(p.category)

        matching: Iterable[Product] = [p for p in related if kind_match(p)]
        if not matching:
            # The products of the categories sharing the most characters with the question
            # first, by id: (-kind_match, id) over every such product, read lazily.
            levels: dict[int, list[list[Product]]] = {}
            for cat, ps in self._by_id.items():
                n = category_match(cat)
                if n:
                    levels.setdefault(n, []).append(ps)
            if levels:
                matching = (
                    p for n in sorted(levels, reverse=True) for p in heapq.merge(*levels[n], key=lambda p: p.id)
                    if p.id != focus.id
                )
            else:
                matching = []
        picked = _in_stock_first(matching, MAX_RECOMMEND)
        if not picked:
            picked = _in_stock_first(related, MAX_RECOMMEND)
        return [self.fact(p, now, buyer) for p in picked]

    # --- for less --------------------------------------------------------------------------

    def cheaper(
        self, focus: Product, kind: Sequence[Product], now: datetime, buyer: Buyer, *, than: Sku | None = None
    ) -> list[RecoFact]:
        """What costs less than ``focus`` (at ``than``, else its cheapest SKU in stock): its own
        cheaper SKUs in stock (a trial size first), then cheaper products of the same kind."""
        ref = self.unit_price(focus, now, buyer, than)
        out: list[RecoFact] = []
        own = sorted(
            (s for s in focus.skus if s.stock > 0 and (than is None or s.sku_id != than.sku_id)),
            key=lambda s: (not any(w in "".join(s.props.values()) for w in _TRIAL), s.price),
        )
        for s in own:
            if self.unit_price(focus, now, buyer, s) < ref:
                out.append(self.fact(focus, now, buyer, sku=s))
        others = [
            p for p in kind
            if p.id != focus.id and p.in_stock and self.unit_price(p, now, buyer) < ref
        ]
        others.sort(key=lambda p: self.unit_price(p, now, buyer))
        out.extend(self.fact(p, now, buyer) for p in others)
        return out[:MAX_RECOMMEND]

    def same_kind(self, focus: Product, naming_words: Sequence[str], heads: Callable[[str], set[str]]) -> list[Product]:
        """Products a buyer would take for the same thing: the same category, and the word they
        used for it in the title (「充电宝」, 「口红」) — or, when they used none, a head noun the
        titles share (a cup is no cheaper stove, though both are 茶具). ``heads`` gives a
        product's head nouns by id."""
        words = [flat(normalize(w)) for w in naming_words if w]
        category = self._category_form(focus.category)  # the category's products all have it
        members = self._by_category.get(focus.category, [])
        if words:
            if category in words:
                return list(members)
            # The titles' lines are the members in order: the lines found are the products.
            titles = self._category_titles(focus.category)
            rows = np.unique(np.concatenate([titles.rows_having(re.compile(re.escape(w))) for w in words]))
            return [members[i] for i in rows.tolist()]
        own_heads = heads(focus.id)
        return [p for p in members if p.id == focus.id or heads(p.id) & own_heads]

    def _category_titles(self, category: str) -> ProductLines:
        """The titles of a category's products (matching form), a line each: a word is found
        in all of them in one pass, not title by title (a category of thousands)."""
        found = self._titles_of.get(category)
        if found is None:
            members = self._by_category.get(category, [])
            lines = [_title(p, self._titles) for p in members]
            found = self._titles_of[category] = ProductLines.of([p.id for p in members], lines)
        return found


def _ascending(ids: set[str]) -> Iterator[str]:
    """``ids`` in order, ordered only as far as read: a heap, not a sort, for a big set (the
    products of a whole category having a wished-for word, of which a few are read)."""
    if len(ids) <= 64:
        yield from sorted(ids)
        return
    heap = list(ids)
    heapq.heapify(heap)
    while heap:
        yield heapq.heappop(heap)


def _first(products: Iterable[Product], n: int, keep: Callable[[Product], bool]) -> list[Product]:
    """The first ``n`` of ``products`` that ``keep`` keeps, reading no further."""
    out: list[Product] = []
    for p in products:
        if keep(p):
            out.append(p)
            if len(out) == n:
                break
    return out


def _in_stock_first(
    products: Iterable[Product], n: int, in_stock: Callable[[Product], bool] = attrgetter("in_stock")
) -> list[Product]:
    """The first ``n`` of ``products`` with those in stock before those out of stock, reading
    no further than the ``n``-th in stock."""
    stocked: list[Product] = []
    out_of_stock: list[Product] = []
    for p in products:
        if in_stock(p):
            stocked.append(p)
            if len(stocked) == n:
                return stocked
        elif len(out_of_stock) < n:
            out_of_stock.append(p)
    return (stocked + out_of_stock)[:n]


def _names_kind(span: str, product: Product) -> bool:
    """``span`` names a kind rather than one product: it is the category, or the head noun
    that ends a title part (保温杯 of 不锈钢保温杯) rather than a distinctive part of it."""
    s = flat(normalize(span))
    if not s:
        return False
    if s == flat(normalize(product.category)):
        return True
    return any(flat(normalize(piece)).endswith(s) and len(s) <= 3 for piece in product.title.split())
