"""The queue's count of drafts waiting for an agent, per row of the page: only pending
drafts, only the conversations asked about."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.clock import FrozenClock
from bot.drafting.pipeline import Draft
from bot.ids import SequentialIds
from bot.suggestions.service import SuggestionService
from bot.suggestions.sql import pending_counts


def _draft() -> Draft:
    return Draft(text="亲，这款是纯棉的哦～", citations=[], facts={}, flags=[], drafter="template", passed=True)


def test_counts_the_pending_drafts_of_the_conversations_asked(sql_engine: Engine, clock: FrozenClock,
                                                              ids: SequentialIds) -> None:
    service = SuggestionService(sql_engine, clock, ids)
    for cid, pending, sent in (("c1", 3, 1), ("c2", 1, 0), ("c3", 0, 2), ("c4", 2, 0)):
        for i in range(pending):
            service.create(cid, f"{cid}-p{i}", "product_info", _draft(), auto_sent=False)
        for i in range(sent):
            service.create(cid, f"{cid}-s{i}", "product_info", _draft(), auto_sent=True)
    decided = service.create("c2", "c2-x", "product_info", _draft(), auto_sent=False)
    service.reject(decided.id, "alice", "不准确")
    assert pending_counts(sql_engine, ["c1", "c2", "c3", "nope"]) == {"c1": 3, "c2": 1}
    assert pending_counts(sql_engine, []) == {}
