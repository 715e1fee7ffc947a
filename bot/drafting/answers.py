"""Which piece of shop data answers a question: a product's FAQ, attribute, usage, care,
selling point, options or size chart, or a rule or FAQ passage of the shop — and when none
does.

Every candidate is scored by :class:`Relevance` against the question without the words that
merely name the product. Below the floor nothing answers, and the reply says so and offers a
person: a question about something the shop's texts never mention (a technical term no text
holds, 「pps」), or one whose only shared word is incidental (「茶多酚含量」 against a passage that
merely says 含量), is not answered from a passage that happens to share a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from bot.drafting.matching import attributes_asked, flat, topic_of
from bot.drafting.options import label
from bot.drafting.products import product_citation
from bot.drafting.relevance import MIN_SCORE, Question, Relevance, Term
from bot.retrieval.passages import Passage
from bot.shop.models import Product
from bot.turns import Source

STRONG = 0.75  # a heading (FAQ question, attribute name) this close asks the same thing
HALF = 0.5
MAX_ANSWERS = 4
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_LETTERS = re.compile(r"^[a-z]{2,}$")
_TAGS = re.compile(r"（[^（）]*）$")
_HOLDERS_SIZE = 20_000  # remembered terms, each with the shop passages that contain it
_OPTION_KEYS = ("颜色", "色号", "规格", "尺码", "款式", "口味", "型号", "机型", "段位", "容量", "套餐", "长度", "厚度", "组合")


class AnswerFact(BaseModel):
    """Shop data that answers a question: a FAQ, an attribute, care/usage text, a passage."""

    kind: str  # faq | attribute | care | usage | selling_points | options | size_chart | passage
    question: str  # its heading: the FAQ question, the attribute name, the rule's title
    answer: str
    source: Source
    cover: float
    head: float = 0.0  # how well its heading matches the question
    product_id: str | None = None  # whose data it is; None for the shop's rules and FAQ


class PassageFact(BaseModel):
    """A retrieved passage, as the facts carry it."""

    id: str
    type: str
    title: str
    citation: str
    text: str
    product_id: str | None = None
    score: float | None = None

    @classmethod
    def of(cls, passage: Passage, score: float | None = None) -> PassageFact:
        title = passage.title
        if passage.type == "rule":
            # A rule's title ends in its file's tags (（发货、快递、充电宝…）): they describe the
            # file, not this section, and must not make every section match.
            title = _TAGS.sub("", title)
        return cls(
            id=passage.id, type=passage.type, title=title, citation=passage.citation, text=passage.text,
            product_id=passage.product_id, score=round(float(score), 4) if score is not None else None,
        )


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def answer_part(title: str, text: str) -> str:
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


def same(a: str, b: str) -> bool:
    fa, fb = flat(a), flat(b)
    return bool(fa) and bool(fb) and (fa in fb or fb in fa)


def asks_same(head: float, cover: float) -> bool:
    """A Q&A whose question asks what the buyer asks: its heading close, or half close and
    the answer covering the rest (「黄皮选哪个色号显白」 ~ 「黄皮选哪个色号」 + 「…显白」)."""
    return head >= STRONG or (head >= HALF and cover >= STRONG)


def qualified_terms(q: Question, clause: str) -> frozenset[str]:
    """Known words of ``q`` that an unknown word right before or after qualifies in
    ``clause`` (「茶多酚含量」: 含量 of something the shop never mentions)."""
    text = flat(clause)
    unknown = [t.word for t in q.terms if not t.known and t.word]
    known = [t.word for t in q.terms if t.known and t.word]
    out: set[str] = set()
    for u in unknown:
        start = text.find(u)
        while start >= 0:
            end = start + len(u)
            for k in known:
                after = text[end:]
                if after.startswith(k) or after.startswith("的" + k) or text[:start].endswith(k):
                    out.add(k)
            start = text.find(u, start + 1)
    return frozenset(out)


def unanswerable(q: Question) -> bool:
    """The question names a thing in letters no shop text holds (「pps」, 「ldac」): no passage
    can answer it, whatever else it shares."""
    return any(not t.known and _LETTERS.match(t.word) for t in q.terms)


class AnswerFinder:
    """Scores one shop's data against questions."""

    def __init__(self, relevance: Relevance, shop_passages: Sequence[Passage]) -> None:
        self.relevance = relevance
        # The shop's rules and FAQ, scored for every question (there are few); retrieval
        # adds product Q&A and catches paraphrases.
        self.shop_passages = [PassageFact.of(p) for p in shop_passages if p.type in ("rule", "faq")]
        self._texts = {p.citation: (f"{p.title} {p.text}", answer_part(p.title, p.text)) for p in self.shop_passages}
        self._shop_flats = [flat(self._texts[p.citation][0]) for p in self.shop_passages]
        # Term → the shop passages that contain it: a question's candidates among the shop's
        # passages are those its words reach, not every passage scored word by word.
        self._holders: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}

    def _holding(self, term: Term) -> tuple[int, ...]:
        key = (term.word, term.alts)
        found = self._holders.get(key)
        if found is None:
            found = tuple(i for i, text in enumerate(self._shop_flats) if term.found_in(text))
            if len(self._holders) >= _HOLDERS_SIZE:
                self._holders.clear()
            self._holders[key] = found
        return found

    def shop_candidates(self, q: Question) -> frozenset[int]:
        """Indexes of the shop passages whose score for ``q`` reaches :data:`MIN_SCORE`:
        the same sum as :meth:`Relevance.score`, term by term in the question's order, over
        only the passages each term is in."""
        total = q.total
        if total <= 0:
            return frozenset()
        got: dict[int, list[float]] = {}
        for term in q.known:
            for i in self._holding(term):
                got.setdefault(i, []).append(term.weight)
        return frozenset(i for i, ws in got.items() if sum(ws) / total >= MIN_SCORE)

    def _passes(self, q: Question, text: str, cover: float, head: float, qualified: frozenset[str]) -> bool:
        """The relevance floor. ``qualified``: words of the question qualified by something the
        shop's texts never mention (含量 in 「茶多酚含量」) — matching only those answers nothing."""
        if cover < MIN_SCORE:
            return False
        if head >= STRONG:
            return True  # its heading asks the same: an attribute named, a topic word (怎么洗)
        if qualified and set(self.relevance.matched(q, text)) <= qualified:
            return False
        return True

    def for_product(
        self, product: Product, question: str, q: Question, *, asks_options: bool = False,
        qualified: frozenset[str] = frozenset(),
    ) -> list[AnswerFact]:
        """The product's own data that answers ``q``, best first. ``question`` is the buyer's
        question without the words that name the product (「磁吸充电宝」 does not ask about
        the attribute 磁吸)."""
        rel = self.relevance
        src = Source(id=f"product:{product.id}", citation=product_citation(product), title=product.title)
        found: list[AnswerFact] = []

        def add(kind: str, heading: str, answer: str, cover: float, head: float, text: str, first: bool = False) -> None:
            if self._passes(q, text, cover, head, qualified):
                fact = AnswerFact(kind=kind, question=heading, answer=answer, source=src,
                                  cover=round(cover, 4), head=round(head, 4), product_id=product.id)
                # The field the question's words name (怎么用 → usage) goes before equals.
                found.insert(0, fact) if first else found.append(fact)

        for qa in product.faq:
            head = rel.score(q, qa.q)
            cover = max(head, rel.score(q, f"{qa.q} {qa.a}"))
            add("faq", qa.q, qa.a, cover, head, f"{qa.q} {qa.a}")
        asked = attributes_asked(question, product.attributes)
        for attr, value in product.attributes.items():
            head = 1.0 if attr in asked else rel.score(q, attr)
            cover = max(head, rel.score(q, f"{attr} {value}"))
            add("attribute", attr, f"{attr}：{value}", cover, head, f"{attr} {value}")
        field = topic_of(question)
        texts = {"care": ("保养方法", product.care), "usage": ("使用建议", product.usage)}
        for kind, (heading, text) in texts.items():
            if not text:
                continue
            if field == kind:
                add(kind, heading, text, 1.0, 1.0, text, first=True)
                continue
            parts = sentences(text) if len(sentences(text)) > 1 else [text]
            best = max(parts, key=lambda s: rel.score(q, s))
            cover = rel.score(q, best)
            add(kind, heading, best, cover, 0.0, best)
        if product.selling_points:
            if field == "selling_points":
                add("selling_points", "特点", "；".join(product.selling_points), 1.0, 1.0, " ".join(product.selling_points), first=True)
            else:
                best = max(product.selling_points, key=lambda s: rel.score(q, s))
                add("selling_points", "特点", best, rel.score(q, best), 0.0, best)
        option = self._options(product, question, asks_options)
        if option is not None:
            found.append(option)
        found.sort(key=lambda a: (-a.cover, -a.head))
        return found

    def _options(self, product: Product, question: str, asked: bool) -> AnswerFact | None:
        """「有几个颜色」: the values of an option, which are in stock."""
        norm = flat(question)
        keys: list[str] = []
        for sku in product.skus:
            for key in sku.props:
                if key not in keys:
                    keys.append(key)
        named = [k for k in keys if flat(k) in norm or (k.endswith("色") and "颜色" in norm and "色" in k)]
        if not named and not asked:
            return None
        if not named:
            named = [k for k in keys if k in _OPTION_KEYS][:1] or keys[:1]
        if not named:
            return None
        key = named[0]
        stock: dict[str, int] = {}
        for sku in product.skus:
            if key in sku.props:
                stock[sku.props[key]] = stock.get(sku.props[key], 0) + sku.stock
        if len(stock) < 1:
            return None
        have = [v for v, n in stock.items() if n > 0]
        out = [v for v, n in stock.items() if n == 0]
        text = f"{key}有{'、'.join(label({key: v}) for v in stock)}"
        if out and have:
            text += f"，其中{'、'.join(label({key: v}) for v in out)}暂时没货"
        elif not have:
            text += "，目前都暂时没货"
        src = Source(id=f"product:{product.id}", citation=product_citation(product), title=product.title)
        return AnswerFact(kind="options", question=key, answer=text, source=src, cover=1.0, head=1.0, product_id=product.id)

    def from_passages(
        self, q: Question, passages: Iterable[PassageFact], *, products: Sequence[str] = (), strong_only: bool = False,
        excluded: Iterable[str] = (), qualified: frozenset[str] = frozenset(),
    ) -> list[AnswerFact]:
        """Rule and FAQ passages (retrieved, and every one of the shop) that answer ``q``.
        A product's Q&A counts only for ``products`` — or, when the buyer named none, when its
        question asks the same thing (its product is then named in the reply)."""
        rel = self.relevance
        seen: set[str] = set()
        skip = set(excluded)
        found: list[AnswerFact] = []
        reach = self.shop_candidates(q)
        retrieved = list(passages)
        for n, p in enumerate([*retrieved, *self.shop_passages]):
            if p.citation in seen or p.citation in skip:
                continue
            seen.add(p.citation)
            if n >= len(retrieved) and n - len(retrieved) not in reach:
                continue  # the shop passage's score is below the floor
            text, body = self._texts.get(p.citation) or (f"{p.title} {p.text}", answer_part(p.title, p.text))
            cover = rel.score(q, text)
            if cover < MIN_SCORE:
                continue
            head = rel.score(q, p.title)
            if p.product_id:
                if p.type not in ("product_faq", "product") or products:
                    continue  # the named products' own data is scored field by field
                head = rel.score(q, answer_question(p))
                if not asks_same(head, cover):
                    continue  # a product the buyer did not name answers only its own question
            if strong_only and head < STRONG:
                continue
            if not self._passes(q, text, cover, head, qualified):
                continue
            answer = self.relevant_sentences(q, body)
            found.append(
                AnswerFact(
                    kind="passage", question=p.title, answer=answer,
                    source=Source(id=p.id, citation=p.citation, title=p.title, score=p.score),
                    cover=round(cover, 4), head=round(head, 4), product_id=p.product_id,
                )
            )
        found.sort(key=lambda a: (-a.cover, -a.head))
        return found

    def relevant_sentences(self, q: Question, text: str) -> str:
        """The sentences of a long passage that speak to the question (all when none does)."""
        parts = sentences(text)
        if len(parts) <= 2:
            return text
        keep = [x for x in parts if self.relevance.matched(q, x)]
        return "".join(keep) if keep else text


def answer_question(p: PassageFact) -> str:
    """The question a Q&A passage answers (``问：X 答：…`` or its title)."""
    if "问：" in p.text:
        return p.text.split("问：", 1)[1].split("答：", 1)[0].strip()
    return p.title.split("：", 1)[-1]


def rank(answers: Iterable[AnswerFact]) -> list[AnswerFact]:
    """Best first; among equals, the product's own data, then the shop's, in the order found.
    An answer that repeats a better one is dropped."""
    out: list[AnswerFact] = []
    flats: list[str] = []
    for a in sorted(answers, key=lambda a: (-a.cover, -a.head)):
        fa = flat(a.answer)
        if fa and any(fa in fb or fb in fa for fb in flats):
            continue
        out.append(a)
        flats.append(fa)
        if len(out) >= MAX_ANSWERS:
            break
    return out
