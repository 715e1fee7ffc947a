"""Word lists and small text helpers for matching questions to shop data: stop words,
topic words (care / usage / selling points), attribute aliases, the flat matching form.
Scoring a candidate against a question lives in :mod:`bot.drafting.relevance`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot import yamlfiles
from bot.text.normalize import normalize

DATA = Path(__file__).parent / "data"
MIN_COVER = 0.5


def _lines(name: str) -> list[str]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].rstrip()
        if line.strip():
            out.append(line)
    return out


@lru_cache(maxsize=1)
def stopwords() -> tuple[str, ...]:
    return tuple(sorted({normalize(w) for w in _lines("question_stopwords.txt")}, key=lambda w: -len(w)))


@lru_cache(maxsize=1)
def topics() -> dict[str, tuple[str, ...]]:
    data = yamlfiles.read(DATA / "topics.yaml") or {}
    return {field: tuple(normalize(w) for w in words) for field, words in data.items()}


@lru_cache(maxsize=1)
def attribute_aliases() -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in _lines("attribute_aliases.tsv"):
        word, _, attr = line.partition("\t")
        if word and attr:
            pairs.append((normalize(word), attr.strip()))
    return tuple(pairs)


@lru_cache(maxsize=1)
def quantity_units() -> tuple[str, ...]:
    """Measure words that follow a count of pieces (件, 袋, 罐)."""
    return tuple(sorted({normalize(w) for w in _lines("quantity_units.txt")}, key=lambda w: -len(w)))


def core(text: str, *, drop: tuple[str, ...] = ()) -> str:
    """``text`` normalised, without spaces, punctuation, stop words and ``drop`` words."""
    norm = normalize(text)
    for word in (*drop, *stopwords()):
        if word:
            norm = norm.replace(word, " ")
    return "".join(ch for ch in norm if ch.isalnum() or "\u4e00" <= ch <= "\u9fff")


def bigrams(text: str) -> set[str]:
    if len(text) == 1:
        return {text}
    return {text[i : i + 2] for i in range(len(text) - 1)}


def flat(text: str) -> str:
    """Cheap matching form of shop text (already simplified Chinese): lower-case, letters,
    digits and CJK only. Shop data is not run through the full ``normalize`` per query."""
    return "".join(filter(str.isalnum, text.lower()))


def cover(question_core: str, candidate: str) -> float:
    """Share of the question's bigrams found in ``candidate`` (0 when the question is empty)."""
    q = bigrams(question_core)
    if not q:
        return 0.0
    cand = flat(candidate)
    return sum(1 for b in q if b in cand) / len(q)


def topic_of(question: str) -> str | None:
    """The product field (care, usage, selling_points) the question asks about, if any."""
    norm = normalize(question).replace(" ", "")
    for field, words in topics().items():
        if any(w in norm for w in words):
            return field
    return None


def attributes_asked(question: str, attributes: dict[str, str]) -> list[str]:
    """Attribute names of a product the question asks about (by name or by a buyer's word)."""
    norm = normalize(question).replace(" ", "")
    asked = [k for k in attributes if len(k) >= 2 and normalize(k) in norm]
    for word, attr in attribute_aliases():
        if word in norm and attr in attributes and attr not in asked:
            asked.append(attr)
    return asked
