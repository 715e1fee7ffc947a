"""A stored draft is returned as reading it back gives it, without reading it back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine

from bot.clock import FrozenClock
from bot.drafting.pipeline import Draft
from bot.ids import SequentialIds
from bot.storage.db import make_engine
from bot.suggestions.service import SuggestionService
from bot.turns import Source
from tests.suggestions.helpers import draft

# What the JSON column changes on the way in and out: tuples become lists, number keys
# become text, and text outside ASCII is escaped and comes back whole.
ODD_FACTS = {
    "intent": "price",
    "tuple": ("L", "XL"),
    "numbers": {1: "一", 2.5: "二点五"},
    "nested": [{"价格": "129.00", "ok": True, "none": None}, (1, 2.0, -3)],
    "emoji": "亲😊",
    "quote": 'a "b" \\ c\n',
}


def _odd_draft() -> Draft:
    return Draft(
        text="亲，这款129元哦😊",
        citations=[Source(id="product:TS01", citation="products/TS01.yaml", title="T恤", score=0.5)],
        facts=ODD_FACTS,
        flags=["numbers"],
        flag_details=["numbers: 129"],
        drafter="template",
        fallback_reason="ad_law: 最好",
        passed=False,
    )


def _check(service: SuggestionService, clock: FrozenClock) -> None:
    cases = [
        service.create("c1", "t1", "price", _odd_draft(), auto_sent=False,
                       hold_at=clock.now() + timedelta(seconds=20), due_at=clock.now() + timedelta(seconds=90)),
        service.create("c1", "t2", "stock", draft(), auto_sent=True),
        service.create("c2", "t3", "stock", draft(), auto_sent=False, origin="copilot"),
    ]
    for made in cases:
        again = service.get(made.id)
        assert again is not None
        assert made == again
        assert made.model_dump(mode="json") == again.model_dump(mode="json")
    assert cases[0].facts["tuple"] == ["L", "XL"] and cases[0].facts["numbers"] == {"1": "一", "2.5": "二点五"}
    assert cases[0].refused_flags == ["ad_law: 最好"]


def test_a_created_draft_equals_the_stored_one(sql_engine: Engine, clock: FrozenClock, ids: SequentialIds) -> None:
    _check(SuggestionService(sql_engine, clock, ids), clock)


def test_on_an_engine_not_made_by_make_engine_too(tmp_path: Path, clock: FrozenClock, ids: SequentialIds) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        _check(SuggestionService(engine, clock, ids), clock)
    finally:
        engine.dispose()


def test_the_stored_text_is_plain_json(tmp_path: Path, clock: FrozenClock, ids: SequentialIds) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    service = SuggestionService(engine, clock, ids)
    made = service.create("c1", "t1", "price", _odd_draft(), auto_sent=False)
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT facts, flags, override_flags FROM sugg_suggestions WHERE id = ?", (made.id,)).one()
    # JSON text once (not a JSON string of JSON text), UTF-8 as it is
    assert raw[0].startswith('{"intent":"price"') and '"亲😊"' in raw[0]
    assert json.loads(raw[0])["numbers"] == {"1": "一", "2.5": "二点五"}
    assert raw[1] == '["numbers"]' and raw[2] == "null"
    engine.dispose()
