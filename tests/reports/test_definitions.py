"""Each figure's definition on hand-made conversations in real SQLite: when a wait starts,
what answers it, which order converts an inquiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.conversations.sql import SqlConversationStore
from bot.errors import TellCustomer
from bot.orders.sql import SqlOrderBackend
from bot.outreach.outbox import Outbox, Outgoing, message_id_of
from bot.reports.activity import load_activity
from bot.reports.conversion import inquiries
from bot.reports.definitions import Definitions, load_definitions
from bot.reports.responses import timings_of
from bot.reports.service import ReportService
from bot.reports.window import ReportWindow
from bot.shop import Shop
from bot.storage.db import create_all, make_engine
from bot.turns import TurnResult

T0 = datetime.fromisoformat("2026-11-19T21:00:00+08:00")


class Log:
    """Writes a conversation message by message at chosen times."""

    def __init__(self, tmp_path: Path, shop: Shop) -> None:
        self.engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
        create_all(self.engine)
        self.store = SqlConversationStore(self.engine, tz=shop.tz)
        self.orders = SqlOrderBackend(self.engine, shop)
        self.orders.ensure_seeded()
        self.shop = shop
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def conversation(self, buyer: str, at: datetime) -> str:
        return self.store.create(buyer, at, self._id("c")).id

    def buyer(self, cid: str, text: str, at: datetime, *, intent: str = "other", handoff: bool = False) -> None:
        mid = self._id("m")
        self.store.add_message(cid, "buyer", text, at, mid)
        self.store.add_turn(
            TurnResult(conversation_id=cid, turn_id=self._id("t"), reply="", intent=intent, handoff=handoff), mid, at
        )

    def say(self, cid: str, role: str, text: str, at: datetime, author: str | None = None, *, turn: bool = True) -> None:
        """A reply; a bot message without ``turn`` is one the shop sends unprompted."""
        turn_id = self._id("t") if turn and role == "bot" else None
        self.store.add_message(cid, role, text, at, self._id("m"), author=author, turn_id=turn_id)  # type: ignore[arg-type]

    def unprompted(self, cid: str, buyer: str, text: str, at: datetime) -> None:
        """A message from the outbox, delivered as the outreach delivery does it."""
        key = f"test:{self._id('k')}"
        outbox = Outbox(self.engine, tz=self.shop.tz)
        outbox.enqueue(Outgoing(key, buyer, "notice", text, at), at)
        self.store.add_message(cid, "bot", text, at, message_id_of(key))
        assert outbox.mark_sent(message_id_of(key), cid, at)

    def activity(self, window: ReportWindow = ReportWindow()):  # type: ignore[no-untyped-def]
        return load_activity(self.engine, self.orders, self.shop.tz, window)


@pytest.fixture
def log(tmp_path: Path, demo_shop: Shop) -> Log:
    return Log(tmp_path, demo_shop)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_wait_starts_at_the_first_unanswered_buyer_message(log: Log) -> None:
    cid = log.conversation("b02", s(0))
    log.say(cid, "bot", "亲，欢迎光临～", s(0), turn=False)  # the shop speaks first: it answers nothing
    log.buyer(cid, "在吗", s(10))
    log.buyer(cid, "这件有M码吗", s(15))
    log.say(cid, "system", "买家进入了店铺", s(16))  # not an answer
    log.unprompted(cid, "b02", "亲，您的订单7006已发货啦", s(17))  # a notice arriving: no answer either
    log.say(cid, "bot", "亲，有的哦", s(18))
    log.buyer(cid, "好的", s(60))
    log.say(cid, "bot", "亲，这是我们的尺码表", s(61), author="xiaoyu")  # a draft an agent sent
    log.say(cid, "agent", "还有别的需要吗", s(70), author="xiaoyu")  # nothing was waiting
    t = timings_of(log.activity().conversations[0])
    assert [(w.responder, w.agent, w.seconds) for w in t.answers] == [("bot", None, 8.0), ("agent", "xiaoyu", 1.0)]
    assert [(w.responder, w.seconds) for w in t.firsts] == [("bot", 8.0), ("agent", 1.0)]


def test_a_conversation_the_buyer_never_wrote_in_is_not_counted(log: Log) -> None:
    outreach = log.conversation("b03", s(0))
    log.say(outreach, "bot", "亲，您的包裹已签收，满意的话给个五星好评吧～", s(0), turn=False)
    served = log.conversation("b02", s(5))
    log.buyer(served, "在吗", s(5))
    assert [c.id for c in log.activity().conversations] == [served]


def test_an_agent_first_response_counts_from_the_handoff(log: Log) -> None:
    cid = log.conversation("b02", s(0))
    log.buyer(cid, "我要人工", s(0), intent="human_agent", handoff=True)
    log.say(cid, "bot", "亲，已为您转接人工客服，请稍等～", s(0))
    log.say(cid, "agent", "亲，我是客服小美", s(95), author="demo")
    t = timings_of(log.activity().conversations[0])
    assert [(w.responder, w.seconds) for w in t.answers] == [("bot", 0.0)]
    assert [(w.responder, w.agent, w.seconds) for w in t.firsts] == [("bot", None, 0.0), ("agent", "demo", 95.0)]


def test_a_holding_message_is_a_first_response_but_no_answer(log: Log) -> None:
    cid = log.conversation("b02", s(0))
    log.buyer(cid, "这件有现货吗", s(0), intent="stock")
    log.say(cid, "bot", "亲稍等，正在为您确认～", s(20), turn=False)
    log.say(cid, "bot", "亲，有现货的哦", s(55), author="demo")
    t = timings_of(log.activity().conversations[0])
    assert [(w.responder, w.seconds) for w in t.firsts] == [("bot", 20.0), ("agent", 55.0)]
    assert [(w.responder, w.seconds) for w in t.answers] == [("agent", 55.0)]


def test_the_bot_first_response_needs_the_bot_to_answer_first(log: Log) -> None:
    cid = log.conversation("b02", s(0))
    log.buyer(cid, "这件起球吗", s(0), intent="product_info")
    log.say(cid, "bot", "亲，不容易起球哦", s(30), author="demo")
    log.buyer(cid, "好的谢谢", s(40), intent="chitchat")
    log.say(cid, "bot", "不客气～", s(40))
    t = timings_of(log.activity().conversations[0])
    assert [(w.responder, w.seconds) for w in t.firsts] == [("agent", 30.0)]
    assert [(w.responder, w.seconds) for w in t.answers] == [("agent", 30.0), ("bot", 0.0)]


def test_an_inquiry_converts_by_the_buyers_order_within_24_hours(log: Log) -> None:
    # b02's orders were created 2026-11-15 13:20, 11-20 20:58 and 11-21 09:08.
    just_in = log.conversation("b02", T0)  # 7006 comes 23 h 58 min later
    log.buyer(just_in, "这件衬衫有白色吗", T0, intent="product_info")
    too_late = log.conversation("b02", T0 - timedelta(hours=1, minutes=1))  # 24 h 59 min
    log.buyer(too_late, "满多少包邮", T0 - timedelta(hours=1, minutes=1), intent="shipping_policy")
    other_buyer = log.conversation("b03", T0)  # b03 orders nothing afterwards
    log.buyer(other_buyer, "有优惠券吗", T0, intent="price_promotion")
    after_sale = log.conversation("b02", T0)  # not pre-sales: not an inquiry at all
    log.buyer(after_sale, "我的快递到哪了", T0, intent="logistics")
    found = {i.conversation_id: i for i in inquiries(log.activity(), load_definitions())}
    assert set(found) == {just_in, too_late, other_buyer}
    assert found[just_in].order is not None and found[just_in].order.tid == "7006"
    assert not found[too_late].converted and not found[other_buyer].converted


def test_definitions_refuse_what_is_not_a_canonical_intent() -> None:
    good = load_definitions().model_dump()
    with pytest.raises(ValueError, match="not canonical intents: pre_sale"):
        Definitions.model_validate({**good, "presales_intents": ["pre_sale"]})
    with pytest.raises(ValueError):
        Definitions.model_validate({**good, "conversion_window_hours": 0})


def test_a_window_that_ends_before_it_starts_is_empty_and_bad_text_is_refused_in_chinese(log: Log) -> None:
    cid = log.conversation("b02", T0)
    log.buyer(cid, "在吗", T0)
    service = ReportService(log.engine, log.shop, log.orders, FrozenClock(T0))
    assert service.report(service.window("2026-11-19", "2026-11-19")).total.conversations == 1
    backwards = service.window("2026-11-21", "2026-11-20")
    assert backwards.backwards and service.report(backwards).total.conversations == 0
    with pytest.raises(TellCustomer, match="无法识别的时间"):
        service.window("上周", None)
    # The calendar's last day as the end, or its first as the start, is no bound at all.
    assert service.window("0001-01-01", "9999-12-31") == ReportWindow()
