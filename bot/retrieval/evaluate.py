"""Score a retriever against a labelled set: recall@1, recall@5 and MRR per search mode.

A labelled set is YAML: ``shop`` (path relative to the file), ``now``, and ``queries``, each
``{q: 问题, ids: [passage ids that answer it], types: [...]?, product_id: ...?}``. A query is
found at k when any of its ids is in the top k; MRR uses the first answering passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from bot.retrieval.hybrid import HybridRetriever

MODES = ("hybrid", "bm25", "vector")


class LabelledQuery(BaseModel):
    q: str
    ids: list[str] = Field(min_length=1)
    types: list[str] | None = None
    product_id: str | None = None


class LabelledSet(BaseModel):
    shop: str
    now: datetime
    queries: list[LabelledQuery]

    @classmethod
    def load(cls, path: Path) -> LabelledSet:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def shop_dir(self, path: Path) -> Path:
        return (path.parent / self.shop).resolve()


@dataclass
class ModeScore:
    mode: str
    n: int = 0
    found_at_1: int = 0
    found_at_5: int = 0
    rr_sum: float = 0.0
    misses: list[tuple[str, list[str]]] = field(default_factory=list)  # (query, top ids)

    @property
    def recall_at_1(self) -> float:
        return self.found_at_1 / self.n if self.n else 0.0

    @property
    def recall_at_5(self) -> float:
        return self.found_at_5 / self.n if self.n else 0.0

    @property
    def mrr(self) -> float:
        return self.rr_sum / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "mode": self.mode,
            "queries": self.n,
            "recall@1": round(self.recall_at_1, 4),
            "recall@5": round(self.recall_at_5, 4),
            "mrr": round(self.mrr, 4),
        }


def evaluate(
    retriever: HybridRetriever, labelled: LabelledSet, *, modes: tuple[str, ...] = MODES, depth: int = 10
) -> list[ModeScore]:
    """Run every query of ``labelled`` in each mode; ranks beyond ``depth`` count as missed."""
    results = []
    for mode in modes:
        score = ModeScore(mode)
        for item in labelled.queries:
            hits = retriever.search(
                item.q,
                k=depth,
                types=item.types,
                product_id=item.product_id,
                now=labelled.now,
                mode=mode,
            )
            ranked = [h.passage.id for h in hits]
            wanted = set(item.ids)
            first = next((i for i, pid in enumerate(ranked) if pid in wanted), None)
            score.n += 1
            if first is not None:
                score.rr_sum += 1.0 / (first + 1)
                score.found_at_1 += first == 0
                score.found_at_5 += first < 5
            if first is None or first >= 5:
                score.misses.append((item.q, ranked[:5]))
        results.append(score)
    return results
