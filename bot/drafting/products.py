"""Product facts, and which products a buyer's question is about.

The entity linker finds the products a text names; here that is refined for answering: a
buyer's word for a kind (洗面奶 → 洁面) names products too, the options a question names
(250克, 16pro) and a price it quotes (「149有点贵」) point at the product that has them, a
title that ends in the word used (丝绒雾面口红 for 「口红」) beats one that merely contains it,
and a word inside a promotion's name (女王节) names the promotion, not a product. When one
word names several products equally (「精华」, 「充电器」) none is chosen: the reply asks which.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel

from bot.drafting.matching import DATA, flat
from bot.drafting.options import OptionIndexes, canon, value_forms, written
from bot.money import fmt
from bot.shop.models import Product, Shop, Sku
from bot.text.normalize import normalize

KIND_SCORE = 0.45  # a kind word naming one product (shared: divided by sqrt of the owners)
OPTION_BONUS = 0.15  # per option the text names
HEAD_BONUS = 0.05  # the title ends in the words used
PRICE_BONUS = 0.2  # the text quotes the product's price
TIE = 0.95  # scores this close, named by the same words, are a tie
KIND_TIE = 0.8  # ... or this close when the words are their shared category
MAX_FOCUS_AGE = 6  # history messages searched for the product being talked about
_PRICE = re.compile(r"(?<![0-9.])(\d+(?:\.\d{1,2})?)(?![0-9])")
_CACHE_SIZE = 4096


class Linker(Protocol):
    def link(self, text: str, *, focus_product: str | None = None) -> Sequence[Any]: ...


# --- facts ---------------------------------------------------------------------------------


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


def product_citation(product: Product) -> str:
    return f"products/{product.id}.yaml"


def sku_fact(product: Product, sku: Sku) -> SkuFact:
    return SkuFact(sku_id=sku.sku_id, product_id=product.id, props=dict(sku.props), price=fmt(sku.price), stock=sku.stock)


def product_fact(product: Product) -> ProductFact:
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
        skus=[sku_fact(product, s) for s in product.skus],
        citation=product_citation(product),
    )


def alternatives(product: Product, props: dict[str, str]) -> list[Sku]:
    """In-stock SKUs of the same product a shop assistant would offer instead: the same
    first-named option (colour) in the nearest other values (sizes), then the other options
    kept (same size, another colour)."""
    keys = list(props)
    index = {s.sku_id: i for i, s in enumerate(product.skus)}
    asked = next((s for s in product.skus if all(s.props.get(k) == v for k, v in props.items())), None)
    anchor = index[asked.sku_id] if asked else 0
    in_stock = [s for s in product.skus if s.stock > 0]

    def keeps(s: Sku, names: list[str]) -> bool:
        return all(s.props.get(k) == props[k] for k in names)

    if not keys:
        return in_stock[:4]
    first = sorted((s for s in in_stock if keeps(s, keys[:1])), key=lambda s: abs(index[s.sku_id] - anchor))
    rest_keys = keys[1:]
    second = sorted((s for s in in_stock if rest_keys and keeps(s, rest_keys) and s not in first), key=lambda s: -s.stock)
    picked = first[:2] + second[:1]
    others = [s for s in in_stock if s not in picked]
    return (picked + others)[:4]


# --- which products a text names -----------------------------------------------------------


@lru_cache(maxsize=1)
def kind_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Buyer word → the words titles and categories use (data/kind_words.tsv), longest first."""
    out = []
    for line in (DATA / "kind_words.tsv").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].rstrip()
        word, _, alts = line.partition("\t")
        if word.strip() and alts.strip():
            out.append((flat(normalize(word)), tuple(flat(normalize(a)) for a in alts.split(",") if a.strip())))
    return tuple(sorted(out, key=lambda wa: -len(wa[0])))


@dataclass
class Mention:
    """A product a text names: how strongly, by which words, and the options it names."""

    product_id: str
    score: float
    span: str
    options: dict[str, list[str]] = field(default_factory=dict)
    kind: str = ""  # the buyer's word for a kind of product that names it (杯子, 洗面奶)


@dataclass
class Naming:
    """The products a text names, best first; ``tied`` when one word names several equally
    and nothing tells them apart (then ``mentions[0]`` is not the one asked about)."""

    mentions: list[Mention]
    tied: list[str] = field(default_factory=list)

    @property
    def best(self) -> Mention | None:
        return self.mentions[0] if self.mentions and not self.tied else None

    def ids(self) -> list[str]:
        return [m.product_id for m in self.mentions]


@dataclass
class SizedProducts:
    """Products with a size chart: the SKU property that holds their size, their place in
    the shop, and each written form of a size value → the products having that value."""

    key: dict[str, str]
    order: dict[str, int]
    forms: dict[str, list[str]]

    @classmethod
    def of(cls, shop: Shop) -> SizedProducts:
        key: dict[str, str] = {}
        order: dict[str, int] = {}
        forms: dict[str, list[str]] = {}
        for i, (pid, p) in enumerate(shop.products.items()):
            if p.size_chart is None:
                continue
            k = next((k for s in p.skus for k in s.props if "码" in k), None)
            if not k:
                continue
            key[pid], order[pid] = k, i
            for value in dict.fromkeys(s.props[k] for s in p.skus if k in s.props):
                for form in value_forms(value):
                    owners = forms.setdefault(form, [])
                    if not owners or owners[-1] != pid:
                        owners.append(pid)
        return cls(key, order, {f: o for f, o in forms.items() if f})


@dataclass(frozen=True)
class FinderTables:
    """What :class:`ProductFinder` reads from the shop's titles once: the products each kind
    word names, each title's pieces and the whole title (matching form), each product's head
    nouns and the products each written size names. A pure
    function of the shop (:func:`finder_tables`), kept between starts by
    :mod:`bot.drafting.kept`."""

    kinds: list[tuple[str, list[str]]]
    pieces: dict[str, list[str]]
    heads: dict[str, set[str]]
    sized: SizedProducts
    titles: dict[str, str]  # product id → its whole title in matching form


def finder_tables(shop: Shop) -> FinderTables:
    # Each title and category read once; the kind words are then matched against them.
    names = {pid: (flat(normalize(p.title)), flat(normalize(p.category))) for pid, p in shop.products.items()}
    kinds: list[tuple[str, list[str]]] = []
    for word, alts in kind_words():
        owners = [
            pid for pid, (title, category) in names.items()
            if any(a and (a in title or a in category) for a in alts)
        ]
        if owners:
            kinds.append((word, owners))
    pieces = {
        pid: [flat(normalize(piece)) for piece in p.title.split() if piece.strip()] for pid, p in shop.products.items()
    }
    heads: dict[str, set[str]] = {}
    for pid, parts in pieces.items():
        words: set[str] = set()
        for piece in parts:
            run = re.findall(r"[\u4e00-\u9fff]+$", piece)
            if run:
                words.update(run[0][-n:] for n in range(2, min(4, len(run[0])) + 1))
        heads[pid] = words
    # Words most titles share (a brand) are no head nouns: counted once over the shop.
    owners_of = Counter(w for ws in heads.values() for w in ws)
    common = {w for w, n in owners_of.items() if n * 2 > len(heads) > 2}
    return FinderTables(
        kinds, pieces, {pid: ws - common for pid, ws in heads.items()}, SizedProducts.of(shop),
        {pid: title for pid, (title, _) in names.items()},
    )


class ProductFinder:
    """Finds the products questions name, for one shop. Caches are its own: rebuilt with it.
    ``tables`` are the shop's :func:`finder_tables` when they were kept (built here otherwise)."""

    def __init__(self, shop: Shop, linker: Linker, tables: FinderTables | None = None) -> None:
        self.shop = shop
        self.linker = linker
        self.options = OptionIndexes(shop)
        tables = tables or finder_tables(shop)
        self._kinds = tables.kinds
        self._pieces = tables.pieces
        self._heads = tables.heads
        self._sizes = tables.sized
        self._history: dict[str, str | None] = {}
        self._named: dict[tuple[str, tuple[str, ...]], Naming] = {}

    def named(self, text: str, *, skip: Iterable[str] = ()) -> Naming:
        """The products ``text`` names. Words inside a ``skip`` phrase (a promotion's name the
        text uses) name nothing. A text is read once (a conversation's messages come back every
        turn); callers do not change the result."""
        key = (text, tuple(skip))
        found = self._named.get(key)
        if found is None:
            found = self._name(text, key[1])
            if len(self._named) >= _CACHE_SIZE:
                self._named.clear()
            self._named[key] = found
        return found

    def _name(self, text: str, skip: Iterable[str]) -> Naming:
        norm = normalize(text)
        body = flat(norm)
        skips = [flat(normalize(s)) for s in skip if s]
        found: dict[str, Mention] = {}
        for m in self.linker.link(text):
            span = flat(getattr(m, "span", "") or "")
            if not span:
                continue
            pid = str(m.product_id)
            if skips and any(span in s for s in skips) and not self._ends_title(pid, span):
                continue  # 「女王节满减」 names the promotion, not 女王节限定礼盒
            found[pid] = Mention(pid, float(m.score), span)
        for word, owners in self._kinds:
            if word not in body or (skips and any(word in s for s in skips)):
                continue
            score = KIND_SCORE / math.sqrt(len(owners))
            for pid in owners:
                have = found.get(pid)
                if have is None:
                    found[pid] = Mention(pid, score, word, kind=word)
                else:
                    have.kind = have.kind or word
                    if have.score < score:
                        have.score, have.span = score, word
        prices = _prices(norm)
        for pid, mention in found.items():
            mention.options = self.options[pid].props(text)
            mention.score += OPTION_BONUS * len(mention.options)
            if self._ends_title(pid, mention.span):
                mention.score += HEAD_BONUS
            if prices and any(s.price in prices for s in self.shop.products[pid].skus):
                mention.score += PRICE_BONUS
        ranked = sorted(found.values(), key=lambda m: (-m.score, m.product_id))
        return Naming(ranked, self._ties(ranked))

    def ends_title(self, pid: str, span: str) -> bool:
        return self._ends_title(pid, span)

    def _ends_title(self, pid: str, span: str) -> bool:
        """``span`` is the head noun of the product's title (口红 of 丝绒雾面口红)."""
        return any(piece.endswith(span) for piece in self._pieces[pid])

    def _ties(self, ranked: list[Mention]) -> list[str]:
        if len(ranked) < 2:
            return []
        top = ranked[0]
        tied = [m for m in ranked if m.span == top.span and m.score >= top.score * TIE]
        # A category several products share (「充电器」, 「精华」) names none of them, whichever
        # title happens to end in it.
        kind = [
            m for m in ranked
            if m.span == top.span and not m.options and flat(normalize(self.shop.products[m.product_id].category)) == top.span
            and m.score >= top.score * KIND_TIE
        ]
        if len(kind) >= 2 and not top.options and len(kind) > len(tied):
            tied = kind
        return [m.product_id for m in tied] if len(tied) >= 2 else []

    def kind_owners(self, word: str) -> list[str]:
        """The products a buyer's word for a kind names (杯子 → every cup)."""
        return next((owners for w, owners in self._kinds if w == word), [])

    def head_nouns(self, product_id: str) -> set[str]:
        """The words that end the product's title parts (充电宝 of 磁吸无线充电宝), without
        those most titles share (a brand)."""
        return self._heads.get(product_id, set())

    def by_sizes(self, text: str, *, limit: int | None = None) -> list[str]:
        """Products with a size chart whose sizes the text names (「穿73还是80」), in the shop's
        order; the first ``limit`` of them when it is given (「L码」 names most clothes: whether
        it names one product alone needs two)."""
        sized = self._sizes
        t = canon(text).replace(" ", "")
        # Only products one of whose size values is written in the text (in any of its forms,
        # where a form may name it: not inside a longer ASCII run, not a count or a price) can
        # be named by it; those are checked in full, in the shop's order.
        # Each form's owners are in the shop's order: merged lazily, a size most products have
        # (「XL」 at a big shop) costs only the products read before ``limit`` are found.
        lists = [owners for form, owners in sized.forms.items() if form in t and written(t, form)]
        out: list[str] = []
        last = None
        for pid in heapq.merge(*lists, key=sized.order.__getitem__):
            if pid == last:
                continue
            last = pid
            if self.options[pid].props(text).get(sized.key[pid]):
                out.append(pid)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def history_focus(self, history: Sequence[tuple[str, str]]) -> str | None:
        """The product the conversation was last about: the newest message naming one."""
        for _role, text in list(reversed(list(history or [])))[:MAX_FOCUS_AGE]:
            found = self._history.get(text, False)
            if found is False:
                # Earlier messages come back every turn: read each text once.
                naming = self.named(text)
                found = naming.best.product_id if naming.best else None
                if len(self._history) >= _CACHE_SIZE:
                    self._history.clear()
                self._history[text] = found
            if found:
                return found
        return None


def _prices(norm: str) -> set[Decimal]:
    out = set()
    for m in _PRICE.finditer(norm):
        try:
            value = Decimal(m.group(1))
        except InvalidOperation:
            continue
        if value >= 10:  # 「2米」, 「1段」 are not prices
            out.add(value)
    return out
