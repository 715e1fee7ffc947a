"""Suggestions on a real SQLite file: store, decide once, guard what agents send, and report."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.clock import FrozenClock
from bot.errors import Conflict, NotFound, TellCustomer
from bot.ids import SequentialIds
from bot.shop.models import Shop
from bot.suggestions.guard import ShopReplyGuard
from bot.suggestions.service import FlaggedReply, SuggestionService
from tests.suggestions.helpers import draft


@pytest.fixture
def service(sql_engine: Engine, clock: FrozenClock, ids: SequentialIds) -> SuggestionService:
    return SuggestionService(sql_engine, clock, ids)


def test_a_draft_is_stored_pending_with_its_facts_citations_and_flags(service: SuggestionService, clock: FrozenClock) -> None:
    s = service.create("c1", "t1", "stock", draft(passed=False), auto_sent=False)
    again = service.get(s.id)
    assert again is not None and again.status == "pending"
    assert again.facts["asked_skus"][0]["sku_id"] == "TS01-BK-L"
    assert again.citations[0].citation == "products/TS01.yaml"
    assert again.flags == ["ad_law"] and again.flag_details == ["ad_law: 最好"]
    assert again.created == clock.now() and again.sent_text is None


def test_accepting_records_who_when_and_zero_edit_distance(service: SuggestionService, clock: FrozenClock) -> None:
    s = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    clock.advance(timedelta(seconds=30))
    done = service.accept(s.id, "alice")
    assert (done.status, done.decided_by, done.final_text, done.edit_distance) == ("accepted", "alice", s.draft, 0)
    assert done.decided_at == clock.now()


def test_editing_records_the_sent_text_and_the_edit_distance(service: SuggestionService) -> None:
    s = service.create("c1", "t1", "stock", draft("亲，有货的"), auto_sent=False)
    done = service.edit(s.id, "bob", "亲，有货的哦")
    assert done.status == "edited" and done.final_text == "亲，有货的哦" and done.edit_distance == 1


def test_rejecting_needs_a_reason_and_sends_nothing(service: SuggestionService) -> None:
    s = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    with pytest.raises(TellCustomer):
        service.reject(s.id, "alice", "  ")
    done = service.reject(s.id, "alice", "推荐的尺码不对")
    assert done.status == "rejected" and done.reject_reason == "推荐的尺码不对" and done.sent_text is None


def test_the_second_decision_conflicts(service: SuggestionService) -> None:
    s = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    service.accept(s.id, "alice")
    with pytest.raises(Conflict):
        service.edit(s.id, "bob", "别的")
    with pytest.raises(Conflict):
        service.reject(s.id, "bob", "晚了")
    assert service.get(s.id).decided_by == "alice"  # type: ignore[union-attr]


def test_two_agents_at_once_exactly_one_wins(
    shared_engine: Engine, clock: FrozenClock, ids: SequentialIds
) -> None:
    service = SuggestionService(shared_engine, clock, ids)
    s = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def decide(agent: str) -> None:
        barrier.wait()
        try:
            service.accept(s.id, agent)
            results.append("won")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=decide, args=(f"a{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1 and results.count("conflict") == 7


def test_unknown_suggestion_is_not_found(service: SuggestionService) -> None:
    with pytest.raises(NotFound):
        service.accept("sg999", "alice")


def test_auto_sent_drafts_are_recorded_as_sent_by_the_bot(service: SuggestionService) -> None:
    s = service.create("c1", "t1", "stock", draft(), auto_sent=True)
    assert s.status == "auto_sent" and s.sent_text == s.draft and s.decided_by == "bot"
    with pytest.raises(ValueError):
        service.create("c1", "t2", "stock", draft(passed=False), auto_sent=True)


def test_listing_filters_by_status_and_conversation(service: SuggestionService) -> None:
    a = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    service.create("c2", "t2", "stock", draft(), auto_sent=False)
    service.accept(a.id, "alice")
    assert [s.conversation_id for s in service.list(status="pending")] == ["c2"]
    assert [s.id for s in service.list(conversation_id="c1")] == [a.id]
    with pytest.raises(TellCustomer):
        service.list(status="bogus")


def test_stats_per_intent(service: SuggestionService) -> None:
    ids = [service.create("c1", f"t{i}", "stock", draft("亲，有货"), auto_sent=False).id for i in range(4)]
    service.accept(ids[0], "a")
    service.edit(ids[1], "a", "亲，有货的")
    service.reject(ids[2], "a", "语气生硬")
    service.create("c1", "t9", "size_advice", draft(), auto_sent=True)
    stats = service.stats()
    stock = stats["stock"]
    assert stock["total"] == 4 and stock["pending"] == 1
    assert stock["acceptance_rate"] == round(1 / 3, 4) and stock["edit_rate"] == round(1 / 3, 4)
    assert stock["mean_edit_distance"] == 1 and stock["rejection_reasons"] == {"语气生硬": 1}
    assert stats["size_advice"]["auto_sent"] == 1 and stats["_all"]["total"] == 5


@pytest.fixture
def guarded(sql_engine: Engine, clock: FrozenClock, ids: SequentialIds, mini_shop: Shop) -> SuggestionService:
    return SuggestionService(sql_engine, clock, ids, guard=ShopReplyGuard(mini_shop, lambda _cid: "b01"))


@pytest.mark.parametrize("text", [
    "亲，黑色XL码现在只要9.9元哦",
    "亲，穿坏了一年内免费换新",
    "亲，去 www.evil-shop.cn 下单更便宜",
])
def test_an_edit_failing_the_guards_is_refused_with_its_flags(guarded: SuggestionService, text: str) -> None:
    s = guarded.create("c1", "t1", "stock", draft(), auto_sent=False)
    with pytest.raises(FlaggedReply) as refused:
        guarded.edit(s.id, "alice", text)
    assert refused.value.flags and "确认无误后可选择「仍然发送」" in str(refused.value)
    still = guarded.get(s.id)
    assert still is not None and still.status == "pending" and still.sent_text is None


def test_an_override_sends_the_text_and_records_who_when_and_what(guarded: SuggestionService, clock: FrozenClock) -> None:
    s = guarded.create("c1", "t1", "stock", draft(), auto_sent=False)
    clock.advance(timedelta(minutes=2))
    done = guarded.edit(s.id, "alice", "亲，黑色XL码现在只要9.9元哦", override=True)
    assert done.status == "edited" and done.sent_text == "亲，黑色XL码现在只要9.9元哦"
    assert (done.override_by, done.override_at) == ("alice", clock.now())
    assert done.override_flags == ["unsupported_number: 9.9"]


def test_a_clean_edit_needs_no_override(guarded: SuggestionService) -> None:
    s = guarded.create("c1", "t1", "stock", draft(), auto_sent=False)
    done = guarded.edit(s.id, "bob", "亲，黑色L码暂时没货，黑色XL码有货哦")
    assert done.status == "edited" and done.override_by is None and done.override_flags == []


def test_accepting_a_flagged_draft_needs_an_override(guarded: SuggestionService) -> None:
    s = guarded.create("c1", "t1", "stock", draft("亲，这是最好的T恤", passed=False), auto_sent=False)
    with pytest.raises(FlaggedReply) as refused:
        guarded.accept(s.id, "alice")
    assert [f.code for f in refused.value.flags] == ["ad_law"]
    done = guarded.accept(s.id, "alice", override=True)
    assert done.status == "accepted" and done.override_by == "alice" and done.override_flags == ["ad_law: 最好"]


def test_the_flags_of_refused_model_drafts_travel_with_the_template_draft(guarded: SuggestionService) -> None:
    fallback = draft().model_copy(update={"fallback_reason": "guards failed twice: unsupported_number: 9.9；link_or_contact: www.evil-shop.cn"})
    s = guarded.create("c1", "t1", "stock", fallback, auto_sent=False)
    assert s.refused_flags == ["unsupported_number: 9.9", "link_or_contact: www.evil-shop.cn"]
    assert s.model_dump(mode="json")["refused_flags"] == s.refused_flags


def test_a_table_from_an_earlier_version_gains_the_override_columns(tmp_path, clock: FrozenClock, ids: SequentialIds) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect, text

    from bot.storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE sugg_suggestions (id VARCHAR(64) PRIMARY KEY, conversation_id VARCHAR(64), turn_id VARCHAR(64),"
            " intent VARCHAR(64), draft TEXT, citations JSON, facts JSON, flags JSON, flag_details JSON, drafter VARCHAR(16),"
            " fallback_reason TEXT, status VARCHAR(16), final_text TEXT, decided_by VARCHAR(64), decided_at VARCHAR(40),"
            " reject_reason TEXT, edit_distance INTEGER, created VARCHAR(40))"
        ))
    service = SuggestionService(engine, clock, ids)
    assert {"override_by", "override_at", "override_flags"} <= {c["name"] for c in inspect(engine).get_columns("sugg_suggestions")}
    s = service.create("c1", "t1", "stock", draft(), auto_sent=False)
    assert service.accept(s.id, "alice").status == "accepted"
