"""The words a shop teaches jieba: categories, title parts, attribute and SKU values."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from bot.shop.models import Shop
from bot.text.tokenize import ShopTokenizer

_TERMS_FILE = Path(__file__).resolve().parent.parent / "text" / "data" / "shop_terms.txt"
_STOP_FILE = Path(__file__).resolve().parent / "data" / "stopwords.txt"
_SPLIT = re.compile(r"[\s,，、/|()（）\[\]【】+·:：;；]+")
MAX_WORD = 12  # longer values are sentences, not words


@lru_cache(maxsize=1)
def common_terms() -> tuple[str, ...]:
    """Shop-service words every shop shares (七天无理由, 运费险 …), from a data file."""
    lines = _TERMS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Question words with no topic (什么, 怎么, 有没有 …), from a data file."""
    lines = _STOP_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def search_terms(tokenizer: ShopTokenizer, text: str, *, normalized: bool = False) -> list[str]:
    """BM25 terms of ``text``: jieba search-mode words without stop words."""
    stop = stopwords()
    return [t for t in tokenizer.search_terms(text, normalized=normalized) if t not in stop]


SHORT_LINE = 80  # lines this short repeat across passages (titles, aspect words): cached


def pieces(text: str) -> list[str]:
    """``text`` split at spaces and punctuation (a title's or value's natural parts)."""
    return [p for p in _SPLIT.split(text) if p]


_HAN = re.compile(r"^[\u4e00-\u9fff]$")


def leftovers(text: str, plain: ShopTokenizer) -> list[str]:
    """Runs of characters jieba's own dictionary does not know, e.g. 华夫格 in 华夫格短袖t恤:
    in a title these are usually style or brand names buyers repeat."""
    out: list[str] = []
    run = ""
    previous = ""
    for token in plain.cut_plain(text) + [""]:
        # A character right after Latin letters belongs to a mixed word (t恤), not a run.
        if _HAN.match(token) and not (previous.isascii() and previous.isalnum()):
            run += token
        else:
            if len(run) >= 2:
                out.append(run)
            run = ""
        previous = token
    return out


def shop_words(shop: Shop) -> list[str]:
    """Every word of ``shop`` that must stay whole when tokenising."""
    words: list[str] = list(common_terms())
    plain = ShopTokenizer()
    for product in shop.products.values():
        words.append(product.category)
        words.extend(pieces(product.title))
        for piece in pieces(product.title):
            words.extend(leftovers(piece, plain))
        for key, value in product.attributes.items():
            words.append(key)
            words.extend(p for p in pieces(value) if len(p) <= MAX_WORD)
        for sku in product.skus:
            for key, value in sku.props.items():
                words.append(key)
                words.extend(pieces(value))
    for doc in shop.rules:
        words.extend(p for p in pieces(doc.title) if len(p) <= MAX_WORD)
        words.extend(p for s in doc.sections for p in pieces(s.heading) if len(p) <= MAX_WORD)
    return [w for w in dict.fromkeys(words) if len(w) >= 2]


def shop_tokenizer(shop: Shop) -> ShopTokenizer:
    """A tokenizer that knows ``shop``'s words."""
    return ShopTokenizer(shop_words(shop))
