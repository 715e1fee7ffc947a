"""Builders shared by the drafting tests (imported as tests.drafting.helpers)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.drafting.pipeline import DraftingPipeline, DraftRequest, build_pipeline
from bot.retrieval.linker import EntityLinker
from bot.shop.loader import load_shop
from bot.shop.models import Shop
from tests.fakes.retriever import FakeRetriever

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


def pipeline(shop: Shop, settings: Settings | None = None) -> DraftingPipeline:
    return build_pipeline(shop, settings or Settings(llm_model=None), FakeRetriever(shop), EntityLinker(shop))


def request(shop: Shop, question: str, intent: str, product_id: str | None = None, **kw: Any) -> DraftRequest:
    entities = kw.pop("entities", {"product_ids": [product_id]} if product_id else {})
    return DraftRequest(
        conversation_id="c1",
        buyer=kw.pop("buyer", next(iter(shop.buyers.values()))),
        question=question,
        intent=intent,
        entities=entities,
        history=kw.pop("history", []),
        declined=kw.pop("declined", False),
        now=kw.pop("now", NOW),
    )


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_shop(name: str) -> Shop:
    """One of the shops of other trades in ``tests/fixtures`` (digital_shop, beauty_shop …)."""
    return load_shop(FIXTURES / name)
