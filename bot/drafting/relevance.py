"""Does a piece of shop text answer the buyer's question? Weighted word overlap, explainable.

The question is cut into words (the shop's tokenizer, dictionary words only), words that
carry no topic are dropped (``data/question_stopwords.txt``, and the words that merely name
the product asked about), and every remaining word is weighted by how rare it is in the
shop's own texts (inverse document frequency), so 发票 or 皱 count for much more than 穿 or
衣服. A candidate's score is the weighted share of the question's words it contains.

A word the shop's texts never contain (明星, 工厂) cannot be answered from them: it still
counts against every candidate, so a question about an unknown topic gets "unknown"
rather than an answer to a different question. Words match exactly or with at most two
characters in between (开票 ~ 开发票, 店铺券 ~ 店铺优惠券).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bot.drafting.frequency import TextCounts
from bot.drafting.matching import DATA, flat, stopwords
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

MIN_SCORE = 0.4  # a candidate answers when it covers this share of the question's weight
UNKNOWN_SHARE = 0.5  # weight of a word the shop never uses, relative to the known ones
MAX_GAP = 2  # characters allowed between the characters of a word in a fuzzy match
_CACHE_SIZE = 4096
_FOUND_SIZE = 100_000  # remembered (word, shop text) matches per shop
_CJK_OR_WORD = re.compile(r"[0-9a-z\u4e00-\u9fff]")


@dataclass(frozen=True)
class Term:
    word: str
    weight: float
    known: bool  # found somewhere in the shop's texts
    alts: tuple[str, ...] = ()  # other words that count as this one (question_synonyms.tsv)

    def found_in(self, text: str) -> bool:
        return contains(text, self.word) or any(contains(text, a) for a in self.alts)


@dataclass(frozen=True)
class Question:
    """The content words of a question with their weights."""

    terms: tuple[Term, ...]

    @cached_property
    def known(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.known)

    @cached_property
    def total(self) -> float:
        return sum(t.weight for t in self.terms)

    def words(self) -> list[str]:
        return [t.word for t in self.terms]


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Buyer word → the words shop texts use for it (data/question_synonyms.tsv)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in (DATA / "question_synonyms.tsv").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].rstrip()
        word, _, alts = line.partition("\t")
        if word.strip() and alts.strip():
            out[flat(normalize(word))] = tuple(a for a in (flat(normalize(x)) for x in alts.split(",")) if a)
    return out


@lru_cache(maxsize=8192)
def _flat_cached(text: str) -> str:
    """Shop texts are scored again and again: flatten each once."""
    return flat(text)


@lru_cache(maxsize=4096)
def _cut_cached(tokenizer: ShopTokenizer, phrase: str) -> tuple[str, ...]:
    """The words of a naming phrase, with the dictionary words inside long ones
    (男女同款 → 男女, 同款), so a part of a product's name counts as naming it."""
    return tuple(dict.fromkeys([*tokenizer.cut_plain(phrase), *tokenizer.search_terms(phrase, normalized=True)]))


@lru_cache(maxsize=4096)
def _fuzzy(word: str) -> re.Pattern[str]:
    return re.compile(f".{{0,{MAX_GAP}}}".join(re.escape(ch) for ch in word))


def contains(text: str, word: str) -> bool:
    """``word`` in ``text`` (both in :func:`flat` form), allowing small gaps for 2+ chars."""
    if word in text:
        return True
    return len(word) >= 2 and not word.isascii() and _fuzzy(word).search(text) is not None


def pattern_of(word: str) -> re.Pattern[str]:
    """What :func:`contains` looks for, as one pattern: the word with small gaps between its
    characters (2+ non-ASCII characters), else the word itself. A gap never crosses a line
    break, so texts joined by ``\n`` are searched one by one in a single pass."""
    return _fuzzy(word) if len(word) >= 2 and not word.isascii() else re.compile(re.escape(word))


def text_counts(texts: Iterable[str]) -> TextCounts:
    """The shop's texts in matching form, counted (:class:`Relevance` weighs words by them)."""
    return TextCounts(d for d in (flat(t) for t in texts) if d)


class Relevance:
    """Scores shop texts against questions for one shop. Built once per shop."""

    def __init__(self, texts: Iterable[str] | TextCounts, tokenizer: ShopTokenizer) -> None:
        """``texts``: the shop's texts, or their :func:`text_counts` when those were kept."""
        self._texts = texts if isinstance(texts, TextCounts) else text_counts(texts)
        if not self._texts.total:
            raise ValueError("Relevance needs at least one shop text")
        self.tokenizer = tokenizer
        self._df: dict[str, int] = {}
        self._stop = frozenset(stopwords())
        self._stop_phrases = tuple(w for w in stopwords() if len(w) >= 2)
        self._questions: dict[tuple[str, frozenset[str]], Question] = {}
        # The shop's texts are few and buyers' words recur: whether a word is in a text is
        # worked out once (the fuzzy search is most of the cost of scoring).
        self._found: dict[tuple[str, tuple[str, ...], str], bool] = {}

    # --- weights -------------------------------------------------------------------------

    @property
    def docs(self) -> tuple[str, ...]:
        """The shop's texts in matching form, each distinct one once."""
        return self._texts.texts

    def df(self, word: str) -> int:
        """Number of shop texts containing ``word`` (exactly, else with small gaps)."""
        found = self._df.get(word)
        if found is None:
            found = self._texts.count(word, _fuzzy(word) if len(word) >= 2 and not word.isascii() else None)
            if len(self._df) < 50_000:
                self._df[word] = found
        return found

    def weight(self, df: int) -> float:
        # Smoothed IDF: rare words count more, but a word in two texts is not worth ten
        # times one in twenty (shop texts are few, rarity is noisy).
        return math.log((self._texts.total + 1) / (df + 1)) + 1

    # --- questions -----------------------------------------------------------------------

    def question(self, text: str, *, drop: Iterable[str] = ()) -> Question:
        """Content words of ``text`` without stop words and without the ``drop`` phrases
        (the words naming the product asked about). A question is read once per wording."""
        key = (text, frozenset(drop))
        found = self._questions.get(key)
        if found is None:
            found = self._question(text, key[1])
            if len(self._questions) >= _CACHE_SIZE:
                self._questions.clear()
            self._questions[key] = found
        return found

    def _question(self, text: str, drop: Iterable[str]) -> Question:
        norm = normalize(text)
        drops = sorted({normalize(d).replace(" ", "") for d in drop if d and len(d.strip()) >= 2}, key=len, reverse=True)
        for phrase in drops:
            norm = norm.replace(phrase, " ")
        # Stop phrases (会不会, 有没有) go before cutting: jieba may split them apart.
        for phrase in self._stop_phrases:
            norm = norm.replace(phrase, " ")
        dropped_words = {w for phrase in drops for w in self._words(phrase) if len(w) >= 2}
        seen: set[str] = set()
        terms: list[Term] = []
        known_weights: list[float] = []
        pending: list[str] = []
        for word in self.tokenizer.cut_plain(norm):
            word = flat(word)
            if not word or not _CJK_OR_WORD.search(word) or word in self._stop or word in dropped_words or word in seen:
                continue
            seen.add(word)
            pending.append(word)
        table = synonyms()
        for word in pending:
            alts = table.get(word, ())
            df = max([self.df(word), *(self.df(a) for a in alts)])
            if not df and (inner := self._unglued(word)) and inner not in seen:
                # 「我想开发票」 cuts as 我/想开/发票: the word the shop knows is 开, not 想开.
                seen.add(inner)
                word, alts = inner, table.get(inner, ())
                df = max([self.df(word), *(self.df(a) for a in alts)])
            if df:
                w = self.weight(df)
                known_weights.append(w)
                terms.append(Term(word, w, True, alts))
            else:
                terms.append(Term(word, 0.0, False))
        # An unknown word weighs half an average known word of the question: words the
        # shop never uses (一天, 厉害) must not swamp the ones it does, but a question that
        # is only about unknown things (明星, 工厂) has nothing to match and stays unanswered.
        unknown_w = UNKNOWN_SHARE * (sum(known_weights) / len(known_weights)) if known_weights else self.weight(0)
        return Question(tuple(t if t.known else Term(t.word, unknown_w, False) for t in terms))

    def _unglued(self, word: str) -> str | None:
        """A word the shop never uses that is a leading stop word (a modal verb, a pronoun)
        glued to one it does (想开, 能开): the word it does use, or None. Only the front is cut:
        现在 is no 现."""
        inner = word
        while len(inner) >= 2 and inner[0] in self._stop:
            inner = inner[1:]
        if inner == word or inner in self._stop or not _CJK_OR_WORD.search(inner):
            return None
        return inner if self.df(inner) else None

    def _words(self, phrase: str) -> tuple[str, ...]:
        return _cut_cached(self.tokenizer, phrase)

    # --- scoring -------------------------------------------------------------------------

    def score(self, q: Question, text: str) -> float:
        """Weighted share of the question's words found in ``text`` (0 for an empty question)."""
        total = q.total
        if total <= 0:
            return 0.0
        cand = _flat_cached(text)
        got = sum(t.weight for t in q.known if self._in(t, cand))
        return got / total

    def matched(self, q: Question, text: str) -> list[str]:
        cand = _flat_cached(text)
        return [t.word for t in q.known if self._in(t, cand)]

    def _in(self, term: Term, cand: str) -> bool:
        key = (term.word, term.alts, cand)
        found = self._found.get(key)
        if found is None:
            found = term.found_in(cand)
            if len(self._found) >= _FOUND_SIZE:
                self._found.clear()
            self._found[key] = found
        return found
