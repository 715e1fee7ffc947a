"""Entity linking: which product (and which SKUs) a buyer's words point at.

"龙井500克礼盒" → T101 / T101-500, "保温杯墨绿" → W202 / W202-GR, and, while a product is in
focus, "黑色的那个" → that product's black SKUs. Everything is derived from the shop at
construction: titles, title parts, categories, attribute values, SKU property values and ids.
A query is a scan over the normalised text, looking up its substrings of the alias lengths
that start with each character (no regex per alias, no loop over products),
plus a rapidfuzz pass for typos only when nothing product-specific matched exactly. The typo
pass reads the text without its numbers (a number names a product only as written) and scores
only a shortlist: the aliases that share enough characters with the text to
reach the cutoff at all (:class:`_CharIndex`), in their original order, so it finds what a
pass over every alias finds.

A word many products share (a category, a head noun, a colour, a size: 「T恤」 names about
1,500 products of a 50,000-product shop) costs no work per product it names: its owners are
columns, sorted by product, and a query reads only the rows of the products that could be
reported (those some other word names, the product in focus, those the shared words alone
could lift to ``MIN_SCORE``), found by binary search; the typo pass keeps, with numpy, only
the owners whose score reaches ``MIN_SCORE`` (and the product in focus).

The tables are a pure function of the shop's files, the tokenizer's words and the code; with
``cache_dir`` they are kept in the data directory (:mod:`bot.caching`) and read back at the
next start instead of being built again.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz, process

from bot.caching import kept_for_shop, words_digest
from bot.retrieval.vocab import pieces, shop_tokenizer
from bot.shop.models import Product, Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

# Weights of one matched alias, before the specificity factor (1/sqrt(products sharing it)).
W_ID = 2.0
W_TITLE = 1.0
W_FRAGMENT = 0.6
W_CATEGORY = 0.4
W_PROP = 0.3
W_ATTRIBUTE = 0.15
W_FOCUS = 0.6
FUZZY_CUTOFF = 75.0
TYPO_LIMIT = 8  # aliases the typo pass takes, best first
_SCAN_FIRST = 64  # candidates beyond this are first searched for ones scoring 100
COMMON_OWNERS = 32  # an alias of more products than this is "common" (see EntityLinker._exact)
MIN_HEAD = 3  # shortest title-part tail taken as a head noun (2 characters are too vague)
MIN_SCORE = 0.25  # below this a product is not reported (e.g. only "黑色" shared by many)

_ASCII = re.compile(r"[a-z0-9]")
# Unit spellings a buyer may use for a SKU value written the other way (500g ↔ 500克).
_UNITS = (("g", "克"), ("kg", "千克"), ("kg", "公斤"), ("ml", "毫升"), ("l", "升"), ("cm", "厘米"))
_COLOR_TAILS = ("色", "款")
KINDS = ("id", "sku", "title", "fragment", "category", "attribute", "prop")
_NOT_TYPOS = (KINDS.index("prop"), KINDS.index("attribute"))  # kinds the typo pass does not credit
CACHE_NAME = "linker"
# What the tables are computed from besides the shop: this module and what it imports (the
# vocabulary, the normaliser, tokenizer and colour words, the shop models).
CODE = ("bot.retrieval.linker",)
LIBRARIES = ("jieba", "numpy", "rapidfuzz")


class ProductMention(BaseModel):
    """A product the text refers to; ``sku_ids`` are the SKUs consistent with ``props``
    (every SKU when no property was named; empty when the named combination does not exist)."""

    product_id: str
    sku_ids: list[str]
    props: dict[str, str]
    span: str
    score: float


@dataclass(frozen=True, slots=True)  # one per alias and product: millions in a big shop
class _Alias:
    product_id: str
    kind: str
    weight: float


def _bounded(text: str, start: int, alias: str) -> bool:
    """ASCII/digit aliases must not sit inside a longer ASCII run (L is not inside XL)."""
    end = start + len(alias)
    if _ASCII.match(alias[0]) and start > 0 and _ASCII.match(text[start - 1]):
        return False
    if _ASCII.match(alias[-1]) and end < len(text) and _ASCII.match(text[end]):
        return False
    return True


def _find_all(text: str, alias: str) -> list[int]:
    out, start = [], text.find(alias)
    while start >= 0:
        if _bounded(text, start, alias):
            out.append(start)
        start = text.find(alias, start + 1)
    return out


@lru_cache(maxsize=4096)
def value_variants(value: str) -> frozenset[str]:
    """How a buyer may write a SKU property value: 500g礼盒 → 500克礼盒, 500g, 礼盒; 黑色 → 黑的."""
    base = normalize(value)
    forms = {base}
    for unit, word in _UNITS:
        if re.search(rf"\d{unit}(?![a-z])", base):
            forms.add(re.sub(rf"(\d){unit}(?![a-z])", rf"\1{word}", base))
    for form in list(forms):
        for m in re.finditer(r"\d+(?:\.\d+)?[^\d\s]{0,2}", form):
            if m.group(0) != form and len(m.group(0)) >= 2:
                forms.add(m.group(0))
        rest = re.sub(r"\d+(?:\.\d+)?(?:g|kg|ml|l|cm|克|千克|公斤|毫升|升|厘米)?", " ", form).split()
        forms.update(r for r in rest if len(r) >= 2 and r != form)
    for tail in _COLOR_TAILS:
        if len(base) == 2 and base.endswith(tail):
            forms.update({base[0] + "的", base[0] + "款", base[0] + "色"})
    family = colour_family(base)
    if family and base not in (family, family + "色"):
        forms.update({family + "色", family + "的", family + "款"})
    return frozenset(f for f in forms if f)


@lru_cache(maxsize=1)
def _colour_words() -> tuple[str, ...]:
    path = Path(__file__).resolve().parent.parent / "text" / "data" / "colour_families.txt"
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")]
    return tuple(sorted(words, key=len, reverse=True))


def colour_family(value: str) -> str | None:
    """The basic colour a shop's colour name belongs to (曜石黑 → 黑, 墨绿 → 绿), or None."""
    best: tuple[int, str] | None = None
    for word in _colour_words():
        at = value.rfind(word)
        if at >= 0 and (best is None or at > best[0]):
            best = (at, word)
    return best[1] if best else None


class _PropIndex:
    """One product's SKU property values and the ways to write them."""

    def __init__(self, product: Product) -> None:
        self.product = product
        self.values: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)  # key → value → forms
        for sku in product.skus:
            for key, value in sku.props.items():
                if value not in self.values[key]:
                    self.values[key][value] = value_variants(value)

    def find(self, text: str) -> tuple[dict[str, str], list[str]]:
        """The property values ``text`` names (one per key) and the matched spans."""
        found: dict[str, str] = {}
        spans: list[str] = []
        taken: list[tuple[int, int]] = []
        candidates: list[tuple[int, int, str, str, str]] = []  # (-len, start, key, value, form)
        for key, values in self.values.items():
            for value, forms in values.items():
                for form in forms:
                    for start in _find_all(text, form):
                        candidates.append((-len(form), start, key, value, form))
        candidates.sort()
        for neg_len, start, key, value, form in candidates:
            end = start - neg_len
            if key in found or any(s < end and start < e for s, e in taken):
                continue
            # A form shared by several values (礼盒 in two gift boxes) names none of them.
            if sum(1 for fs in self.values[key].values() if form in fs) > 1 and form != normalize(value):
                continue
            found[key] = value
            spans.append(form)
            taken.append((start, end))
        return found, spans

    def skus_for(self, props: dict[str, str]) -> list[str]:
        return [
            s.sku_id
            for s in self.product.skus
            if all(s.props.get(k) == v for k, v in props.items())
        ]


@dataclass(frozen=True)
class Shortlist:
    """What :meth:`_CharIndex.shortlist` finds for a text, each list in the strings' order."""

    strings: list[str]  # every string that could reach the cutoff
    whole: list[str]  # those with every character of the shorter of it and the text (repeats
    # counted): the only ones that can be inside the text or hold it


class _CharIndex:
    """Which of a list of strings could reach a ``fuzz.partial_ratio`` of ``cutoff`` with a text.

    ``partial_ratio`` aligns the shorter string (length ``m``) with windows of the longer one
    and scores ``200·LCS / (m + w)`` for a window of length ``w ≤ m``; reaching ``cutoff``
    therefore needs ``LCS ≥ m·cutoff / (200 − cutoff)`` (the window as short as the common
    part). The common part never exceeds the characters the two strings share, counted with
    repeats, so a string sharing fewer cannot match.

    A query does not count the shared characters of every string that has one of the text's
    characters (a common character is in tens of thousands of a big shop's aliases). With a
    string's characters put rarest first (with repeats), one that shares enough has one of
    its first ``m − need + 1`` in the text, or it could share at most ``need − 1``: a string
    no longer than the text is found under those rarest characters of its own. A string
    longer than the text needs fewer shared characters than its length asks, so it is found
    the other way round, under the text's rarest ``L − need + 1`` characters. Only the
    strings found either way are counted, from each string's own characters, and kept when
    they reach the bound, in their original order. When that finds many (short aliases made
    of common characters), every string's shared characters are counted at once instead, per
    character of the text, with numpy: the same list.
    """

    def __init__(self, strings: list[str], cutoff: float) -> None:
        self.strings = strings
        self.ratio = cutoff / (200.0 - cutoff)
        self.lengths = np.array([len(s) for s in strings], dtype=np.int32)
        # Strings found under rarest characters are counted one by one up to this many; more
        # (one in 32 of them) are counted all at once, which costs less then.
        self.found_at_most = len(strings) // 32
        counters = [Counter(s) for s in strings]
        df: Counter[str] = Counter()
        for counter in counters:
            df.update(counter.keys())
        # Character ids, rarest first: a string's characters in id order are rarest first.
        self.chars = {ch: i for i, ch in enumerate(sorted(df, key=lambda ch: (df[ch], ch)))}
        starts, char_ids, counts = [0], [], []
        owners: list[list[int]] = [[] for _ in self.chars]  # character → the strings with it
        owned: list[list[int]] = [[] for _ in self.chars]  # and how often each has it
        rarest: list[list[int]] = [[] for _ in self.chars]  # character → strings having it among their rarest
        for i, counter in enumerate(counters):
            first = len(strings[i]) - self._need(len(strings[i])) + 1
            seen = 0
            for cid, n in sorted((self.chars[ch], n) for ch, n in counter.items()):
                char_ids.append(cid)
                counts.append(n)
                owners[cid].append(i)
                owned[cid].append(n)
                if seen < first:
                    rarest[cid].append(i)
                seen += n
            starts.append(len(char_ids))
        self.starts = np.array(starts, dtype=np.int64)
        self.char_ids = np.array(char_ids, dtype=np.int32)
        self.counts = np.array(counts, dtype=np.int32)
        self.owners = [np.array(rows, dtype=np.int32) for rows in owners]
        self.owned = [np.array(ns, dtype=np.int32) for ns in owned]
        self.rarest = [np.array(rows, dtype=np.int32) for rows in rarest]

    def _need(self, length: int) -> int:
        """Shared characters a string needs when the shorter of it and the text is ``length``
        long (at least one)."""
        return max(1, math.ceil(length * self.ratio - 1e-9))

    def shortlist(self, text: str) -> Shortlist:
        wanted = Counter(text)
        known = [(self.chars[ch], n) for ch, n in wanted.items() if ch in self.chars]
        if not known:
            return Shortlist([], [])
        size = len(text)
        short = np.concatenate([self.rarest[cid] for cid, _ in known])
        # The text's rarest characters, as many as a longer string must share one of (a
        # character no string has counts as the rarest of all).
        room = size - self._need(size) + 1
        longer: list[np.ndarray] = []
        for ch, n in sorted(wanted.items(), key=lambda kv: (self.chars.get(kv[0], -1), kv[0])):
            if room <= 0:
                break
            if ch in self.chars:
                longer.append(self.owners[self.chars[ch]])
            room -= n
        long = np.concatenate(longer) if longer else np.zeros(0, dtype=np.int32)
        if short.size + long.size > self.found_at_most:
            return self._counted_all(known, size)
        short = short[self.lengths[short] <= size]
        long = long[self.lengths[long] > size]
        found = np.unique(np.concatenate([short, long]))
        if found.size == 0:
            return Shortlist([], [])
        # The characters each found string shares with the text, counted from its own.
        in_text = np.zeros(len(self.chars), dtype=np.int32)
        for cid, n in known:
            in_text[cid] = n
        begin, end = self.starts[found], self.starts[found + 1]
        spans = end - begin
        offsets = np.cumsum(spans) - spans
        at = np.repeat(begin - offsets, spans) + np.arange(int(spans.sum()))
        shared = np.add.reduceat(np.minimum(self.counts[at], in_text[self.char_ids[at]]), offsets)
        return self._kept(found, shared, size)

    def _counted_all(self, known: list[tuple[int, int]], size: int) -> Shortlist:
        shared = np.zeros(len(self.strings), dtype=np.int32)
        for cid, n in known:
            shared[self.owners[cid]] += np.minimum(self.owned[cid], n)  # rows are distinct within a list
        return self._kept(np.arange(len(self.strings)), shared, size)

    def _kept(self, rows: np.ndarray, shared: np.ndarray, size: int) -> Shortlist:
        """Of ``rows`` (in order) sharing ``shared`` characters with a text of ``size``, those
        reaching the bound."""
        shorter = np.minimum(self.lengths[rows], size)
        # A small slack below the bound keeps float rounding on the safe side.
        keep = (shared > 0) & (shared >= shorter * self.ratio - 1e-9)
        strings = self.strings
        return Shortlist(
            [strings[i] for i in rows[keep].tolist()],
            [strings[i] for i in rows[keep & (shared == shorter)].tolist()],
        )


_NUMBER = re.compile(r"\d+(?:\.\d+)?[a-z]{0,3}")  # with a unit written in letters (165cm, 60kg)


def _spelled(text: str) -> bool:
    """``text`` (normalised) has words a typo can be in: at least two letters or characters
    besides its numbers. A number (「158」, 「90斤」, 「165cm」, an order's 「7038」) names a
    product only as written, in the exact pass; a typo pass would find it inside every
    title's code."""
    return sum(ch.isalpha() for ch in _NUMBER.sub("", text)) >= 2


def _words_only(text: str) -> str:
    """``text`` (normalised) without its numbers, what the typo pass reads: a number names a
    product only as written (an order's 「7038」, a phone number or 「165cm」 would otherwise
    count towards every title with those digits in its code)."""
    return " ".join(_NUMBER.sub(" ", text).split())


class _AliasTable:
    """Every alias with its owners (product, kind, weight), as columns: one dict entry per
    alias and three arrays, not an object per alias and product (millions in a big shop).
    An alias's owners are in the shop's product order (``owner`` ascending within an alias);
    ``table[alias]`` gives them as :class:`_Alias` objects."""

    def __init__(
        self, pids: list[str], rows: dict[str, int], starts: np.ndarray,
        owner: np.ndarray, kind: np.ndarray, weight: np.ndarray,
    ) -> None:
        self.pids = pids
        self.rows = rows  # alias → its number; owners of alias i are starts[i]:starts[i + 1]
        self.starts = starts
        self.owner = owner  # int32 index into pids
        self.kind = kind  # int8 index into KINDS
        self.weight = weight  # float64, specificity included

    @classmethod
    def build(cls, raw: dict[str, dict[str, tuple[str, float]]], pids: list[str]) -> _AliasTable:
        n = len(pids)
        index = {pid: i for i, pid in enumerate(pids)}
        codes = {k: i for i, k in enumerate(KINDS)}
        rows: dict[str, int] = {}
        starts = [0]
        owner: list[int] = []
        kind: list[int] = []
        weight: list[float] = []
        for alias, owners in raw.items():
            specificity = 1.0 / math.sqrt(len(owners)) if n > 1 else 1.0
            rows[alias] = len(rows)
            for pid, (k, w) in owners.items():
                owner.append(index[pid])
                kind.append(codes[k])
                weight.append(w * specificity)
            starts.append(len(owner))
        table = cls(
            pids, rows, np.array(starts, dtype=np.int64), np.array(owner, dtype=np.int32),
            np.array(kind, dtype=np.int8), np.array(weight, dtype=np.float64),
        )
        table._sort_owners()
        return table

    def _sort_owners(self) -> None:
        """Put each alias's owners in product order (the order :meth:`among` searches in).
        Aliases gathered product by product already are; the check costs one pass."""
        if len(self.owner) < 2:
            return
        rising = np.diff(self.owner) > 0
        rising[self.starts[1:-1] - 1] = True  # where the next alias's owners begin
        if bool(rising.all()):
            return
        segment = np.repeat(np.arange(len(self.starts) - 1), np.diff(self.starts))
        order = np.lexsort((self.owner, segment))
        self.owner, self.kind, self.weight = self.owner[order], self.kind[order], self.weight[order]

    def __contains__(self, alias: object) -> bool:
        return alias in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def span(self, alias: str) -> tuple[int, int]:
        i = self.rows[alias]
        return int(self.starts[i]), int(self.starts[i + 1])

    def size(self, alias: str) -> int:
        start, end = self.span(alias)
        return end - start

    def __getitem__(self, alias: str) -> list[_Alias]:
        start, end = self.span(alias)
        return self._objects(start + np.arange(end - start))

    def among(self, alias: str, rows: np.ndarray) -> list[_Alias]:
        """The owners of ``alias`` that are products ``rows`` (indexes into ``pids``, sorted),
        found by binary search: the cost grows with ``rows``, not with the owners."""
        start, end = self.span(alias)
        owners = self.owner[start:end]
        at = np.searchsorted(owners, rows)
        inside = at < len(owners)
        at = at[inside]
        hits = at[owners[at] == rows[inside]]
        return self._objects(start + hits)

    def scored(
        self, alias: str, factors: tuple[float, ...], least: float, keep: int, skip: tuple[int, ...]
    ) -> list[tuple[str, float]]:
        """(product, weight × each of ``factors`` in turn) of the owners of ``alias`` not of a
        kind in ``skip`` whose score reaches ``least``, and of product ``keep`` (an index, -1
        for none) whatever its score; in owner order."""
        start, end = self.span(alias)
        owners = self.owner[start:end]
        scores = self.weight[start:end]
        for factor in factors:  # in the order a product's score is worked out, so equal to it
            scores = scores * factor
        wanted = (scores >= least) | (owners == keep)
        for k in skip:
            wanted &= self.kind[start:end] != k
        picked = np.flatnonzero(wanted)
        pids = self.pids
        return [(pids[o], s) for o, s in zip(owners[picked].tolist(), scores[picked].tolist())]

    def _objects(self, at: np.ndarray) -> list[_Alias]:
        pids = self.pids
        return [
            _Alias(pids[o], KINDS[k], w)
            for o, k, w in zip(self.owner[at].tolist(), self.kind[at].tolist(), self.weight[at].tolist())
        ]


@dataclass
class _Tables:
    """What an :class:`EntityLinker` derives from its shop, kept between starts as one entry."""

    sku_ids: dict[str, str]  # normalised SKU id → SKU id
    aliases: _AliasTable
    lengths: dict[str, list[int]]
    fuzzy: list[str]
    fuzzy_index: _CharIndex
    common: frozenset[str]  # aliases of more than COMMON_OWNERS products


def _words_of(tokenizer: ShopTokenizer | None) -> str:
    """The tokenizer's words as a key part (the shop's own tokenizer when none is given,
    itself a function of the shop and the code)."""
    return "shop tokenizer" if tokenizer is None else words_digest(tokenizer.words)


class EntityLinker:
    """Resolve product and SKU mentions in buyer text against one shop."""

    def __init__(
        self, shop: Shop, *, tokenizer: ShopTokenizer | None = None, cache_dir: Path | None = None
    ) -> None:
        """``cache_dir`` (the data directory's cache folder) keeps the tables between starts
        of the same shop and code; a shop read from no files (no file hashes) is never kept."""
        if not shop.products:
            raise ValueError("EntityLinker needs a shop with products")
        self._shop = shop
        # Built for a product when a text first points at it, not for every product up front.
        self._props: dict[str, _PropIndex] = {}
        def build() -> _Tables:
            return self._tables(shop, tokenizer or shop_tokenizer(shop))

        tables = kept_for_shop(
            shop, cache_dir, CACHE_NAME, CODE, build,
            lambda t: isinstance(t, _Tables) and t.aliases.pids == list(shop.products),
            libraries=LIBRARIES, parts=[_words_of(tokenizer)],
        )
        self._sku_ids = tables.sku_ids
        self._aliases = tables.aliases
        # First character → the lengths of the aliases starting with it, longest first: a
        # scan position costs one dict lookup per length, however many products there are.
        self._lengths = tables.lengths
        self._fuzzy = tables.fuzzy
        self._fuzzy_index = tables.fuzzy_index
        # Aliases shared by many products: their owners are looked up by product.
        self._common = tables.common
        self._pids = tables.aliases.pids
        self._row = {pid: i for i, pid in enumerate(self._pids)}  # product → its index in the columns

    @classmethod
    def _tables(cls, shop: Shop, tokenizer: ShopTokenizer) -> _Tables:
        sku_ids = {normalize(s.sku_id): s.sku_id for p in shop.products.values() for s in p.skus}
        aliases = _AliasTable.build(cls._raw_aliases(shop, tokenizer), list(shop.products))
        lengths: dict[str, set[int]] = defaultdict(set)
        for alias in aliases:
            lengths[alias[0]].add(len(alias))
        fuzzy = [a for a in aliases if len(a) >= 3 and not a.isascii()]
        return _Tables(
            sku_ids=sku_ids,
            aliases=aliases,
            lengths={ch: sorted(ls, reverse=True) for ch, ls in lengths.items()},
            fuzzy=fuzzy,
            fuzzy_index=_CharIndex(fuzzy, FUZZY_CUTOFF),
            common=frozenset(a for a in aliases if aliases.size(a) > COMMON_OWNERS),
        )

    # --- construction --------------------------------------------------------------------

    @staticmethod
    def _raw_aliases(shop: Shop, tokenizer: ShopTokenizer) -> dict[str, dict[str, tuple[str, float]]]:
        """Alias → product → its best (kind, weight), before the specificity factor."""
        raw: dict[str, dict[str, tuple[str, float]]] = defaultdict(dict)  # alias → pid → best
        # Categories, attribute and SKU values repeat across products: each normalised once.
        normal: dict[str, str] = {}

        def add(alias: str, pid: str, kind: str, weight: float) -> None:
            norm = normal.get(alias)
            if norm is None:
                norm = normal[alias] = normalize(alias)
            alias = norm
            if len(alias) < 2 and not (kind in ("id", "sku") and alias):
                return
            if alias.isdigit() and kind not in ("id", "sku"):
                return  # bare numbers (2026, 500) name no product
            best = raw[alias].get(pid)
            if best is None or best[1] < weight:
                raw[alias][pid] = (kind, weight)

        for pid, product in shop.products.items():
            add(pid, pid, "id", W_ID)
            for sku in product.skus:
                add(sku.sku_id, pid, "sku", W_ID)
            title = normalize(product.title)
            add(title, pid, "title", W_TITLE)
            for part in pieces(title):
                add(part, pid, "fragment", W_FRAGMENT)
                # A Chinese noun phrase ends in its head noun: 奶香碧根果 is a 碧根果, so a
                # buyer may name the product by a tail of the title part.
                for size in range(MIN_HEAD, len(part)):
                    tail = part[-size:]
                    if not tail.isascii():
                        add(tail, pid, "fragment", W_FRAGMENT)
                for word in tokenizer.search_terms(part, normalized=True):
                    add(word, pid, "fragment", W_FRAGMENT)
            add(product.category, pid, "category", W_CATEGORY)
            for value in product.attributes.values():
                for part in pieces(value):
                    if len(part) <= 8:
                        add(part, pid, "attribute", W_ATTRIBUTE)
            for sku in product.skus:
                for value in sku.props.values():
                    for form in value_variants(value):
                        add(form, pid, "prop", W_PROP)
        return raw

    # --- queries -------------------------------------------------------------------------

    def _exact(
        self, text: str, keep: str | None = None
    ) -> tuple[dict[str, tuple[float, list[tuple[int, int]]]], dict[str, str]]:
        """Scores and spans per product, and the SKU ids named outright (product → SKU).

        Products reached only through common aliases (a category or colour many products
        share) are left out when even all their common aliases together could not lift them
        to MIN_SCORE (they would not be reported); ``keep`` (the product in focus) is always
        scored in full. Reported products and their scores are the same either way."""
        events: list[tuple[int, str]] = []  # matched aliases in scan order
        seen: set[str] = set()
        aliases = self._aliases
        for i, ch in enumerate(text):
            for size in self._lengths.get(ch, ()):
                alias = text[i : i + size]
                if len(alias) < size or alias in seen or alias not in aliases or not _bounded(text, i, alias):
                    continue
                seen.add(alias)
                events.append((i, alias))
        common = self._common
        wanted = {a.product_id for _, alias in events if alias not in common for a in aliases[alias]}
        if keep is not None:
            wanted.add(keep)
        shared = [aliases.span(alias) for _, alias in events if alias in common]
        if shared:
            # The most each product can collect from common aliases (no halving, no skips);
            # those that could reach MIN_SCORE that way are scored in full as well.
            rows = np.concatenate([aliases.owner[a:b] for a, b in shared]).astype(np.int64)
            weights = np.concatenate([aliases.weight[a:b] for a, b in shared])
            most = np.bincount(rows, weights=weights, minlength=len(self._pids))
            wanted.update(self._pids[i] for i in np.flatnonzero(most >= MIN_SCORE))

        # Of a common alias, only the owners among the wanted products are read.
        among = None
        if shared:
            among = np.array(sorted(self._row[pid] for pid in wanted if pid in self._row), dtype=np.int32)
        scores: dict[str, float] = defaultdict(float)
        named: dict[str, str] = {}
        kinds_seen: dict[str, set[str]] = defaultdict(set)
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, alias in events:
            if among is not None and alias in common:
                matches = aliases.among(alias, among)
            else:
                matches = aliases[alias]
            for a in matches:
                if a.kind == "sku":
                    named.setdefault(a.product_id, self._sku_ids[alias])
                # Inside a span already credited to this product, a shorter alias of the
                # same kind adds nothing (保温杯 inside 不锈钢保温杯).
                inside = any(s <= i and i + len(alias) <= e for s, e in spans[a.product_id])
                if inside and a.kind in kinds_seen[a.product_id]:
                    continue
                scores[a.product_id] += a.weight * (0.5 if inside else 1.0)
                kinds_seen[a.product_id].add(a.kind)
                spans[a.product_id].append((i, i + len(alias)))
        return {pid: (s, spans[pid]) for pid, s in scores.items()}, named

    def _fuzzy_match(self, text: str, keep: str | None = None) -> dict[str, tuple[float, list[tuple[int, int]]]]:
        """Products the typo pass finds, with their scores: only those reaching MIN_SCORE
        (no others are reported) and ``keep`` (the product in focus, whose score the focus
        adds to) whatever its score. A head noun's thousand owners below it are not read."""
        out: dict[str, tuple[float, list[tuple[int, int]]]] = {}
        if len(text) < 3:
            return out
        keep_row = self._row.get(keep, -1) if keep is not None else -1
        for alias, ratio in self._typo_aliases(text):
            for pid, score in self._aliases.scored(alias, (ratio / 100.0, 0.8), MIN_SCORE, keep_row, _NOT_TYPOS):
                if score > out.get(pid, (0.0, []))[0]:
                    out[pid] = (score, [])
        return out

    def _typo_aliases(self, text: str) -> list[tuple[str, float]]:
        """The TYPO_LIMIT aliases scoring best against ``text`` (normalised), with their
        scores, ties in the order of all aliases: what rapidfuzz's extract over every alias
        gives. An alias scores 100 exactly when the shorter of the two is inside the other;
        when that many candidates do (a number inside many titles' codes, 「165」), they are
        the answer and the rest need no scoring."""
        shortlist = self._fuzzy_candidates(text)
        candidates = shortlist.strings
        if len(candidates) > _SCAN_FIRST:
            whole = [a for a in shortlist.whole if text in a or a in text][:TYPO_LIMIT]
            if len(whole) == TYPO_LIMIT:
                return [(a, 100.0) for a in whole]
        return [
            (alias, ratio) for alias, ratio, _ in process.extract(
                text, candidates, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=TYPO_LIMIT
            )
        ]

    def _fuzzy_candidates(self, text: str) -> Shortlist:
        """The aliases the typo pass scores against ``text`` (normalised): every alias that
        could reach FUZZY_CUTOFF, in the order of all aliases (rapidfuzz breaks ties by it)."""
        return self._fuzzy_index.shortlist(text)

    def link(
        self, text: str, *, focus_product: str | None = None, fuzzy: bool = True
    ) -> list[ProductMention]:
        """Products ``text`` mentions, best first. With ``focus_product`` (the product being
        talked about), words like 黑色的那个 resolve within that product. ``fuzzy=False``
        skips the typo pass."""
        norm = normalize(text or "")[:500]
        if not norm:
            return self._focus_only(focus_product)
        found, named = self._exact(norm, keep=focus_product)
        specific = {
            pid for pid, (score, _) in found.items() if score >= MIN_SCORE
        }
        if not specific and fuzzy and _spelled(norm):
            for pid, hit in self._fuzzy_match(_words_only(norm), keep=focus_product).items():
                if hit[0] > found.get(pid, (0.0, []))[0]:
                    found[pid] = hit
        if focus_product in self._shop.products:
            score, spans = found.get(focus_product, (0.0, []))
            found[focus_product] = (score + W_FOCUS, spans)
        mentions = []
        for pid, (score, spans) in found.items():
            if score < MIN_SCORE:
                continue
            props, prop_spans = self._prop_index(pid).find(norm)
            sku = named.get(pid)
            if sku is not None:
                props = dict(self._shop.products[pid].sku(sku).props)  # type: ignore[union-attr]
            span = self._span(norm, spans, prop_spans)
            mentions.append(
                ProductMention(
                    product_id=pid,
                    sku_ids=[sku] if sku else self._prop_index(pid).skus_for(props),
                    props=props,
                    span=span,
                    score=round(min(1.0, score), 4),
                )
            )
        mentions.sort(key=lambda m: (-m.score, m.product_id))
        return mentions

    def props_in(self, text: str, product_id: str) -> dict[str, str]:
        """SKU property values of ``product_id`` named in ``text``: "换成L码黑色" →
        {"尺码": "L", "颜色": "黑色"}. Unknown products give {}."""
        if product_id not in self._shop.products:
            return {}
        index = self._prop_index(product_id)
        props, _ = index.find(normalize(text or "")[:500])
        return props

    # --- helpers -------------------------------------------------------------------------

    def _prop_index(self, product_id: str) -> _PropIndex:
        index = self._props.get(product_id)
        if index is None:
            index = self._props.setdefault(product_id, _PropIndex(self._shop.products[product_id]))
        return index

    def _focus_only(self, focus_product: str | None) -> list[ProductMention]:
        if focus_product not in self._shop.products:
            return []
        product = self._shop.products[focus_product]  # type: ignore[index]
        return [
            ProductMention(
                product_id=product.id,
                sku_ids=[s.sku_id for s in product.skus],
                props={},
                span="",
                score=W_FOCUS,
            )
        ]

    @staticmethod
    def _span(text: str, spans: list[tuple[int, int]], prop_spans: list[str]) -> str:
        positions = list(spans)
        for form in prop_spans:
            start = text.find(form)
            if start >= 0:
                positions.append((start, start + len(form)))
        if not positions:
            return ""
        start = min(s for s, _ in positions)
        end = max(e for _, e in positions)
        return text[start:end]


def without_ambiguous(mentions: list[ProductMention], focus_product: str | None) -> list[ProductMention]:
    """Drop the leading mentions when one shared word names several products equally
    (坚果 in two titles): picking one of them would answer about a product the buyer did not
    choose. The product in focus and a SKU named outright are never dropped."""
    if len(mentions) < 2 or not mentions[0].span:
        return mentions
    top = mentions[0]
    tied = [m for m in mentions if m.score == top.score and m.span == top.span]
    if len(tied) < 2 or any(m.product_id == focus_product for m in tied):
        return mentions
    drop = {m.product_id for m in tied}
    return [m for m in mentions if m.product_id not in drop]
