"""A small in-memory retriever over a shop's FAQ, rules and product Q&A: character-bigram
overlap, no index. It has the shape of bot.retrieval's ``Retriever.search`` so drafting tests
run without chroma."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.retrieval.passages import Hit, Passage
from bot.shop.models import Shop
from bot.text.normalize import normalize


def _bigrams(text: str) -> set[str]:
    t = normalize(text).replace(" ", "")
    return {t[i : i + 2] for i in range(len(t) - 1)}


class FakeRetriever:
    def __init__(self, shop: Shop) -> None:
        self.passages: list[Passage] = []
        for i, entry in enumerate(shop.faq):
            self.passages.append(Passage(id=f"faq-{i}", type="faq", text=f"{entry.q}\n{entry.a}", title=entry.q,
                                         citation=f"faq.yaml#{i}", source="faq.yaml"))
        for doc in shop.rules:
            for section in doc.sections:
                self.passages.append(
                    Passage(id=f"rule-{doc.file}-{section.heading}", type="rule", text=section.text,
                            title=section.heading, citation=f"{doc.file}#{section.heading}",
                            source=f"rules/{doc.file}")
                )
        for product in shop.products.values():
            for j, qa in enumerate(product.faq):
                self.passages.append(
                    Passage(id=f"{product.id}-faq-{j}", type="product", text=f"{qa.q}\n{qa.a}",
                            title=f"{product.title}：{qa.q}", citation=f"products/{product.id}.yaml#faq",
                            product_id=product.id, category=product.category,
                            source=f"products/{product.id}.yaml")
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
                hits.append(Hit(passage=p, score=round(score, 4)))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]
