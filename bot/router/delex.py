"""Delexicalisation: the words naming goods become placeholders before classification.

"普洱茶饼还有货吗" → "〈商品〉还有货吗", "换成L码黑色" → "换成〈尺码〉〈颜色〉". The intent classifier
is trained and queried on such text, so what it learns is how buyers ask, not which goods the
training sentences happened to name: a tea or snack shop is served as well as the apparel
shop the training sentences were written with.

The vocabulary is the generic one of ``data/delex.yaml`` plus the current shop's titles,
title parts, categories, SKU property values and attribute values. Matching is a left-to-right
longest-match scan; protected words (包邮, 现货, 特价 …) are never replaced.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.caching import kept_for_shop
from bot.errors import ConfigError
from bot.retrieval.linker import value_variants
from bot.retrieval.vocab import common_terms, pieces, stopwords
from bot.router.lexicon import DATA_DIR
from bot.shop.models import Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer
from bot import yamlfiles

DELEX_FILE = "delex.yaml"
PLACEHOLDER = re.compile(r"〈[^〈〉]{1,4}〉")
_ASCII = re.compile(r"[a-z0-9]")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
_DIGITS = re.compile(r"^[\d.%×x*]+$")


@dataclass(frozen=True)
class DelexConfig:
    """The contents of ``delex.yaml``."""

    product: str
    attribute: str
    other_prop: str
    prop_keys: Mapping[str, str]  # property name → placeholder
    keep: frozenset[str]
    min_len: int
    generic: Mapping[str, str]  # word → placeholder
    size_pattern: re.Pattern[str]
    size_placeholder: str

    def placeholder_for_prop(self, key: str) -> str:
        return self.prop_keys.get(normalize(key), self.other_prop)


@lru_cache(maxsize=4)
def load_delex_config(data_dir: Path = DATA_DIR) -> DelexConfig:
    """Read ``delex.yaml``; missing keys or bad patterns raise ConfigError."""
    try:
        raw = yamlfiles.read(data_dir / DELEX_FILE)
        ph = raw["placeholders"]
        prop_keys = {
            normalize(str(key)): str(placeholder)
            for placeholder, keys in ph["prop_keys"].items()
            for key in keys
        }
        generic = {
            normalize(str(word)): str(placeholder)
            for placeholder, words in raw["generic"].items()
            for word in words
        }
        size_placeholder = next(
            (p for p, keys in ph["prop_keys"].items() if "尺码" in keys), str(ph["other_prop"])
        )
        return DelexConfig(
            product=str(ph["product"]),
            attribute=str(ph["attribute"]),
            other_prop=str(ph["other_prop"]),
            prop_keys=prop_keys,
            keep=frozenset(normalize(str(w)) for w in raw["keep"]) | frozenset(common_terms()),
            min_len=int(raw.get("min_len", 2)),
            generic=generic,
            size_pattern=re.compile(str(raw["size_pattern"])),
            size_placeholder=str(size_placeholder),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"{DELEX_FILE}: {exc}") from exc


def _bounded(text: str, start: int, end: int) -> bool:
    """ASCII/digit words must not sit inside a longer ASCII run (L is not inside XL or 1l)."""
    if _ASCII.match(text[start]) and start > 0 and _ASCII.match(text[start - 1]):
        return False
    return not (_ASCII.match(text[end - 1]) and end < len(text) and _ASCII.match(text[end]))


class Delexicaliser:
    """Replace known words (normalised) by their placeholders in normalised text."""

    def __init__(
        self,
        terms: Mapping[str, str],
        *,
        keep: Iterable[str] = (),
        size_pattern: re.Pattern[str] | None = None,
        size_placeholder: str = "〈尺码〉",
    ) -> None:
        # A big shop has a million words and a few placeholders: each placeholder is checked once.
        bad = [p for p in set(terms.values()) if not PLACEHOLDER.fullmatch(p)]
        if "" in terms or bad:
            word = "" if "" in terms else next(w for w, p in terms.items() if p == bad[0])
            raise ValueError(f"bad delexicalisation entry {word!r} → {terms[word]!r}")
        # Protected words map to themselves; the scan treats both alike (longest match wins).
        table: dict[str, str | None] = dict(terms)
        for word in keep:
            if word:
                table[word] = None
        self._table = table
        lengths: dict[str, set[int]] = defaultdict(set)
        for word in table:
            lengths[word[0]].add(len(word))
        self._lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}
        self._size = size_pattern
        self._size_placeholder = size_placeholder

    @property
    def vocabulary(self) -> dict[str, str]:
        """Word → placeholder (protected words left out)."""
        return {w: p for w, p in self._table.items() if p is not None}

    def __call__(self, norm: str) -> str:
        if self._size is not None:
            # Sizes first: 均码 or XL码 is a size even where a shop lists it as an attribute.
            norm = self._size.sub(self._size_placeholder, norm)
        out: list[str] = []
        i, n = 0, len(norm)
        table, lengths = self._table, self._lengths
        while i < n:
            for size in lengths.get(norm[i], ()):
                end = i + size
                if end > n:
                    continue
                word = norm[i:end]
                if word in table and _bounded(norm, i, end):
                    placeholder = table[word]
                    out.append(word if placeholder is None else placeholder)
                    i = end
                    break
            else:
                out.append(norm[i])
                i += 1
        return "".join(out)


def _title_words(title: str, min_len: int, plain: ShopTokenizer) -> set[str]:
    """A title's parts, their dictionary words (明前西湖龙井 → 龙井) and, since a Chinese product
    noun ends its phrase (奶香碧根果 → 碧根果), the heads and tails of three characters or more
    of each run of Chinese characters."""
    words: set[str] = set()
    for part in pieces(title):
        words.add(part)
        words.update(w for w in plain.search_terms(part, normalized=True) if len(w) >= min_len)
        for run in _HAN_RUN.findall(part):
            words.update(run[k:] for k in range(1, len(run) - 2))
            words.update(run[:k] for k in range(3, len(run)))
    return words


def shop_terms(shop: Shop, config: DelexConfig) -> dict[str, str]:
    """The shop's own words and their placeholders (SKU values first, then product names, then
    attribute values: the first placeholder given to a word stands)."""
    terms: dict[str, str] = {}
    skip = config.keep | stopwords()
    plain = ShopTokenizer()  # jieba's own dictionary: the shop's words would stay whole

    normalized: dict[str, str] = {}  # products share most of their words: normalise each once

    def add(word: str, placeholder: str, min_len: int | None = None) -> None:
        norm = normalized.get(word)
        if norm is None:
            norm = normalized[word] = normalize(word).strip()
        if len(norm) < (config.min_len if min_len is None else min_len) or norm in skip:
            return
        if _DIGITS.match(norm):
            return  # bare numbers are order ids, quantities and heights as often
        terms.setdefault(norm, placeholder)

    # A word added again with the same placeholder changes nothing (the first one stands), so
    # a SKU value, category or attribute value met before is skipped whole.
    seen_props: set[tuple[str, str]] = set()
    seen_categories: set[str] = set()
    seen_values: set[str] = set()
    for product in shop.products.values():
        for sku in product.skus:
            for key, value in sku.props.items():
                if (key, value) in seen_props:
                    continue
                seen_props.add((key, value))
                placeholder = config.placeholder_for_prop(key)
                # One-letter sizes (S, M, L) are words here; one Chinese character is not.
                shortest = 1 if value.isascii() else config.min_len
                forms = set(value_variants(value)) | set(pieces(normalize(value)))
                if placeholder == config.size_placeholder:
                    forms |= {f + tail for f in list(forms) for tail in ("码", "号")}
                for form in forms:
                    if not form.endswith("的"):  # 白的 sits inside 明白的
                        add(form, placeholder, shortest)
    for product in shop.products.values():
        add(product.title, config.product)
        for word in _title_words(normalize(product.title), config.min_len, plain):
            add(word, config.product)
        if product.category not in seen_categories:
            seen_categories.add(product.category)
            category = normalize(product.category)
            add(category, config.product)
            for k in range(1, len(category) - 1):
                add(category[k:], config.product)
        for sku in product.skus:
            add(sku.sku_id, config.product)
        add(product.id, config.product)
    for product in shop.products.values():
        for value in product.attributes.values():
            text = str(value)
            if text in seen_values:
                continue
            seen_values.add(text)
            for part in pieces(text):
                if len(part) <= 8:
                    add(part, config.attribute)
    return terms


# What the shop's words are made from besides the shop: this module and what it imports (the
# lexicon and its data, the retrieval vocabulary and variants, the normaliser and tokenizer),
# and jieba's dictionary.
TERMS_CODE = ("bot.router.delex",)
TERMS_LIBRARIES = ("jieba",)
TERMS_NAME = "delex-terms"


def kept_shop_terms(shop: Shop, config: DelexConfig, cache_dir: Path | None) -> dict[str, str]:
    """:func:`shop_terms`, from ``cache_dir`` when an earlier start of the same shop and code
    kept them there (a big shop's words take seconds to find: every title's parts and every
    SKU value's forms)."""
    return kept_for_shop(
        shop, cache_dir, TERMS_NAME, TERMS_CODE, lambda: shop_terms(shop, config),
        lambda t: isinstance(t, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in t.items()),
        libraries=TERMS_LIBRARIES,
    )


def delexicaliser_for(
    shop: Shop | None, config: DelexConfig | None = None, *, cache_dir: Path | None = None
) -> Delexicaliser:
    """The generic vocabulary plus ``shop``'s words (the shop's own placeholders win); with
    ``cache_dir`` the shop's words are kept there between starts."""
    config = config or load_delex_config()
    terms = dict(config.generic)
    if shop is not None:
        terms.update(kept_shop_terms(shop, config, cache_dir))
    return Delexicaliser(
        terms,
        keep=config.keep,
        size_pattern=config.size_pattern,
        size_placeholder=config.size_placeholder,
    )


def placeholder_aware(tokenize: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """Wrap a word tokenizer so each placeholder stays one token (jieba would split 〈商品〉)."""

    def cut(text: str) -> list[str]:
        out: list[str] = []
        last = 0
        for m in PLACEHOLDER.finditer(text):
            if m.start() > last:
                out.extend(tokenize(text[last : m.start()]))
            out.append(m.group(0))
            last = m.end()
        if last < len(text):
            out.extend(tokenize(text[last:]))
        return out

    return cut
