"""A small in-memory retriever over a shop's FAQ, rules and product Q&A: character-bigram
overlap, no index. It has the shape of bot.retrieval's ``Retriever.search`` so drafting tests
run without chroma."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.shop.models import Shop
from bot.text.normalize import normalize


@dataclass(frozen=True)
class Passage:
    id: str
    type: str
    text: str
    title: str
    citation: str
    product_id: str | None = None
    category: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def _bigrams(text: str) -> set[str]:
    t = normalize(text).replace(" ", "")
    return {t[i : i + 2] for i in range(len(t) - 1)}


class FakeRetriever:
    def __init__(self, shop: Shop) -> None:
        self.passages: list[Passage] = []
        for i, entry in enumerate(shop.faq):
            self.passages.append(Passage(f"faq-{i}", "faq", f"{entry.q}\n{entry.a}", entry.q, f"faq.yaml#{i}", source="faq.yaml"))
        for doc in shop.rules:
            for section in doc.sections:
                self.passages.append(
                    Passage(f"rule-{doc.file}-{section.heading}", "rule", section.text, section.heading,
                            f"{doc.file}#{section.heading}", source=f"rules/{doc.file}")
                )
        for product in shop.products.values():
            for j, qa in enumerate(product.faq):
                self.passages.append(
                    Passage(f"{product.id}-faq-{j}", "product", f"{qa.q}\n{qa.a}", f"{product.title}：{qa.q}",
                            f"products/{product.id}.yaml#faq", product.id, product.category, f"products/{product.id}.yaml")
                )
        self._grams = [_bigrams(p.text) | _bigrams(p.title) for p in self.passages]
        self.calls: list[str] = []

    def search(self, query: str, *, k: int = 5, types: Sequence[str] | None = None,
               product_id: str | None = None, now: datetime | None = None) -> list[Hit]:
        self.calls.append(query)
        q = _bigrams(query)
        hits = []
        for p, grams in zip(self.passages, self._grams):
            if types and p.type not in types:
                continue
            if product_id and p.product_id != product_id:
                continue
            score = len(q & grams) / (len(q) or 1)
            if score > 0:
                hits.append(Hit(p, round(score, 4)))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]
