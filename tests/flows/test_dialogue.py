"""The dialogue manager on the spec's mini tea shop and a real SQLite order backend:
any shop in the format works, every change needs a yes, a yes acts once, state survives."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.evaluation.audit import raw_ids
from bot.flows.dialogue import DialogueManager, FlowOutcome
from bot.ids import SequentialIds, UuidIds, internal_id
from bot.orders.sql import SqlOrderBackend
from bot.router.router import Router, build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(MINI)


@pytest.fixture(scope="module")
def router(shop: Shop) -> Router:
    return build_router(shop)


@pytest.fixture
def backend(shop: Shop, tmp_path: Path) -> SqlOrderBackend:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    b = SqlOrderBackend(engine, shop)
    b.ensure_seeded()
    return b


def manager(shop: Shop, backend: SqlOrderBackend, router: Router, at: datetime = NOW) -> DialogueManager:
    return DialogueManager(shop, backend, router, FrozenClock(at), SequentialIds())


def talk(dm: DialogueManager, buyer: str, *texts: str, state: dict | None = None) -> list[FlowOutcome]:
    outs, state = [], dict(state or {})
    for text in texts:
        out = dm.handle(state, buyer, text)
        state = out.state
        outs.append(out)
    return outs


def test_cancel_unpaid_order_needs_a_summary_then_a_yes(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    (ask,) = talk(dm, "b01", "还没付款的那个订单不要了")
    assert ask.action is None and "7003" in ask.reply and "98.00" in ask.reply
    assert ask.quick_replies == ["确认", "不用了"]
    assert backend.order("7003").status == "WAIT_BUYER_PAY"  # nothing before the yes
    yes = dm.handle(ask.state, "b01", "确认")
    assert yes.action == "order.cancel"
    assert backend.order("7003").status == "TRADE_CLOSED"


def test_a_no_or_another_topic_changes_nothing(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    talk(dm, "b01", "取消7003", "不用了", "确认")
    talk(dm, "b01", "取消7003", "龙井是今年的新茶吗", "确认")
    assert backend.order("7003").status == "WAIT_BUYER_PAY"


def test_a_retried_yes_on_the_same_state_acts_once(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    (ask,) = talk(dm, "b01", "7001不要了 退款")
    first = dm.handle(ask.state, "b01", "确认")
    again = dm.handle(ask.state, "b01", "确认")  # e.g. the engine retried after a crash
    assert first.action == again.action == "refund.create"
    refunds = backend.order("7001").refunds
    assert len(refunds) == 1
    assert (refunds[0].type, refunds[0].status, str(refunds[0].amount)) == ("REFUND_ONLY", "SUCCESS", "142.80")
    assert backend.order("7001").status == "TRADE_CLOSED"


def test_dialogue_state_survives_a_restart(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    (ask,) = talk(manager(shop, backend, router), "b01", "7002的保温杯不想要了 退货")
    stored = json.loads(json.dumps(ask.state))
    yes = manager(shop, backend, build_router(shop)).handle(stored, "b01", "好的")
    assert yes.action == "return.create"
    assert backend.order("7002").refunds[0].type == "RETURN_REFUND"


def test_another_buyers_order_looks_exactly_like_an_unknown_one(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    (other,) = talk(dm, "b02", "查一下订单7001")
    (unknown,) = talk(dm, "b02", "查一下订单7999")
    assert other.reply.replace("7001", "X") == unknown.reply.replace("7999", "X")
    assert "142.80" not in other.reply
    talk(dm, "b02", "取消订单7003", "确认")
    assert backend.order("7003").status == "WAIT_BUYER_PAY"


def test_overdue_shipment_apologises_and_opens_one_urge_ticket(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    first, second = talk(manager(shop, backend, router), "b01", "7001怎么还不发货", "7001催一下")
    assert first.action == "ticket.create" and "抱歉" in first.reply and "11月20日 20:02" in first.reply
    assert second.action == "logistics.query"
    tickets = backend.tickets("7001")
    assert [t.kind for t in tickets] == ["urge_shipping"]
    assert backend.order("7001").status == "WAIT_SELLER_SEND_GOODS"


def test_exchange_targets_an_in_stock_sku_of_the_same_product(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    product = shop.products["W202"]
    current = "W202-GR"
    target = next(s for s in product.skus if s.sku_id != current and s.stock > 0)
    value = next(v for k, v in target.props.items() if product.sku(current).props.get(k) != v)
    ask, yes = talk(manager(shop, backend, router), "b01", f"7002换成{value}", "确认")
    assert yes.action == "exchange.create", ask.reply
    assert backend.order("7002").refunds[0].exchange_sku == target.sku_id


def test_handoff_outside_service_hours_says_when_someone_answers(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    late = manager(shop, backend, router, datetime.fromisoformat("2026-11-21T23:10:00+08:00"))
    (out,) = talk(late, "b01", "转人工")
    assert out.handoff and out.action == "handoff"
    assert "明天 09:00" in out.reply
    assert "b01" in (out.handoff_summary or "")


def test_two_turns_not_understood_hand_over(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    first, second = talk(manager(shop, backend, router), "b01", "😂", "🙃")
    assert not first.handoff and first.reply
    assert second.handoff and second.intent == "other"


@pytest.mark.parametrize(
    "text",
    ["", "🤔🤔", "啊" * 5000, "hello I want 退货 for order 7002 please", "订单99999999退款",
     "地址改成火星", "7002换成紫色", "\x00\n\t", "<script>alert(1)</script>"],
)
def test_bad_input_gets_a_reply_and_changes_nothing(shop: Shop, backend: SqlOrderBackend, router: Router, text: str) -> None:
    before = backend.export().model_dump()
    out = manager(shop, backend, router).handle({}, "b01", text)
    assert out.intent
    assert out.action in (None, "order.query", "logistics.query")
    assert backend.export().model_dump() == before


def test_a_missing_template_variable_is_an_error_naming_it(shop: Shop, tmp_path: Path) -> None:
    from bot.errors import ConfigError
    from bot.flows.templates import FlowTemplates

    (tmp_path / "t.yaml").write_text('hi: {variables: [term, tid], text: "{term} {tid}"}\n', encoding="utf-8")
    templates = FlowTemplates(shop, tmp_path)
    assert templates.render("hi", tid="7001") == "亲 7001"
    with pytest.raises(ConfigError, match="tid"):
        templates.render("hi")
    (tmp_path / "t.yaml").write_text('bad: {variables: [term], text: "{term} {amount}"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="amount"):
        FlowTemplates(shop, tmp_path)


def test_naming_a_product_picks_the_order_asked_about(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    ask, answer = talk(manager(shop, backend, router), "b01", "我的快递到哪了", "保温杯那一单")
    assert "7001" in ask.reply and "7002" in ask.reply  # which order?
    assert answer.intent == "logistics" and answer.action == "logistics.query"
    assert "SF1234567890" in answer.reply and "7001" not in answer.reply


def test_changing_ones_mind_about_a_cancel_keeps_the_order(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    before = backend.export().model_dump()
    ask, no, yes = talk(manager(shop, backend, router), "b01", "还没付款的那个订单不要了", "算了算了，先不取消了", "确认")
    assert "7003" in ask.reply
    assert no.intent == "deny" and no.state.get("pending") is None
    assert yes.action is None  # the yes has nothing left to confirm
    assert backend.export().model_dump() == before


def test_clear_off_topic_questions_go_to_the_drafter_without_a_handover(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    outs = talk(manager(shop, backend, router), "b01", "你们工厂在哪", "你们老板是谁", "今天星期几")
    assert all(o.reply is None and o.intent == "other" and not o.handoff for o in outs)


SNACK = MINI.parent / "snack_shop"


@pytest.fixture(scope="module")
def snack() -> tuple[Shop, Router]:
    shop = load_shop(SNACK)
    return shop, build_router(shop)


@pytest.fixture
def snack_backend(snack: tuple[Shop, Router], tmp_path: Path) -> SqlOrderBackend:
    engine = make_engine(f"sqlite:///{tmp_path / 'snack.db'}")
    create_all(engine)
    b = SqlOrderBackend(engine, snack[0])
    b.ensure_seeded()
    return b


def test_a_snack_shop_buyer_drops_an_unpaid_gift_box_in_words(snack: tuple[Shop, Router], snack_backend: SqlOrderBackend) -> None:
    shop, router = snack
    ask, done = talk(manager(shop, snack_backend, router), "c01", "那个红色礼盒我还没付钱，不打算买了", "嗯 可以")
    assert "9101" in ask.reply and ask.action is None
    assert done.action == "order.cancel"
    assert snack_backend.order("9101").status == "TRADE_CLOSED"


def test_urging_names_the_order_of_the_product_named_not_of_a_word_inside_it(snack: tuple[Shop, Router], snack_backend: SqlOrderBackend) -> None:
    shop, router = snack
    # 每日坚果 is in 9201; 坚果 alone would also fit the 坚果大礼包 of 9202.
    (out,) = talk(manager(shop, snack_backend, router), "c02", "每日坚果拍了两天了咋还不见发出来")
    assert out.action == "ticket.create" and "9201" in out.reply and "9202" not in out.reply


def test_an_address_change_in_one_long_message_asks_only_for_the_yes(snack: tuple[Shop, Router], snack_backend: SqlOrderBackend) -> None:
    shop, router = snack
    ask, done = talk(
        manager(shop, snack_backend, router), "c01",
        "碧根果那个订单收货地址写错了，麻烦改成江苏省南京市玄武区珠江路58号", "对的",
    )
    assert "9102" in ask.reply and "珠江路58号" in ask.reply
    assert done.action == "address.update"
    assert snack_backend.order("9102").address.detail == "珠江路58号"


def test_asking_when_a_product_ships_means_the_buyers_own_parcel_when_one_is_waiting(
    shop: Shop, backend: SqlOrderBackend, router: Router
) -> None:
    dm = manager(shop, backend, router)
    # b01's 龙井 order 7001 is paid and not shipped: the question is about that parcel.
    (own,) = talk(dm, "b01", "龙井一般多久能发货")
    assert own.intent == "logistics"
    # b02 has no 龙井 order waiting: the same words ask about the shop's shipping policy.
    (policy,) = talk(dm, "b02", "龙井一般多久能发货")
    assert policy.intent == "shipping_policy"


def test_the_engines_counters_survive_the_flows_round_trip(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    out = dm.handle({"engine": {"turns": 4, "declined_at": 3}}, "b01", "你好")
    assert out.state["engine"] == {"turns": 4, "declined_at": 3}


def test_a_return_policy_question_is_answered_not_started(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    dm = manager(shop, backend, router)
    (out,) = talk(dm, "b01", "茶叶拆封了还能七天无理由吗")
    assert out.reply is None and out.action is None  # the drafter answers from the rules
    assert out.state.get("pending") is None


# After-sales and tickets the bot makes get short numbers a buyer can read out (售后单 1),
# one sequence per kind in the order store, with production's random ids.
def test_a_new_refund_is_told_by_its_short_number_never_by_its_id(
    shop: Shop, backend: SqlOrderBackend, router: Router
) -> None:
    dm = DialogueManager(shop, backend, router, FrozenClock(NOW), UuidIds())
    ask = dm.handle({}, "b01", "7001不要了 退款")
    yes = dm.handle(ask.state, "b01", "确认")
    assert yes.action == "refund.create"
    (refund,) = backend.order("7001").refunds
    assert internal_id(refund.id) and refund.no == 1
    progress = dm.handle(yes.state, "b01", "7001的退款到哪一步了")
    assert "售后单 1" in progress.reply, progress.reply
    assert refund.id not in progress.reply and not raw_ids(progress.reply)
    ask = dm.handle(progress.state, "b01", "7002的保温杯不想要了 退货")
    dm.handle(ask.state, "b01", "好的")
    assert [r.no for r in backend.order("7002").refunds] == [2]
    again = dm.handle({}, "b01", "7002的保温杯不想要了 退货")  # in progress: refused, by number
    assert "售后单 2" in again.reply and not raw_ids(again.reply), again.reply


def test_numbers_count_per_kind_and_restart_with_the_store(backend: SqlOrderBackend) -> None:
    assert [backend.next_number("refund") for _ in range(3)] == [1, 2, 3]
    assert backend.next_number("ticket") == 1
    backend.reset()  # the benchmark runner's reset: every change is dropped, numbers too
    assert backend.next_number("refund") == 1


class CountingBackend:
    """The real backend, counting the reads of a buyer's records."""

    def __init__(self, backend: SqlOrderBackend) -> None:
        self._backend = backend
        self.reads: list[str] = []

    def orders_of(self, buyer_id: str) -> list:  # type: ignore[type-arg]
        self.reads.append("orders_of")
        return self._backend.orders_of(buyer_id)

    def buyer(self, buyer_id: str):  # type: ignore[no-untyped-def]
        self.reads.append("buyer")
        return self._backend.buyer(buyer_id)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._backend, name)


def test_a_turn_reads_the_buyers_orders_only_when_a_step_needs_them_and_once(
    shop: Shop, backend: SqlOrderBackend, router: Router
) -> None:
    counting = CountingBackend(backend)
    dm = DialogueManager(shop, counting, router, FrozenClock(NOW), SequentialIds())  # type: ignore[arg-type]
    dm.handle({}, "b01", "你好")
    assert counting.reads == []  # a greeting needs no order
    out = dm.handle({}, "b01", "7001到哪了")
    assert "7001" in out.reply
    assert counting.reads.count("orders_of") == 1  # read once, however many steps looked
    counting.reads.clear()
    ask = dm.handle({}, "b01", "还没付款的那个订单不要了")
    assert "7003" in ask.reply and counting.reads.count("orders_of") == 1


def test_a_return_of_an_unshipped_order_is_the_refund_it_proposes(shop: Shop, backend: SqlOrderBackend, router: Router) -> None:
    assert backend.order("7001").status == "WAIT_SELLER_SEND_GOODS"
    ask, yes = talk(manager(shop, backend, router), "b01", "7001我要退货", "确认")
    assert (ask.intent, ask.state["pending"]["kind"]) == ("refund", "refund"), ask.reply
    assert yes.action == "refund.create"
    assert backend.order("7001").refunds[0].type == "REFUND_ONLY"
