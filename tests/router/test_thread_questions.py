"""A question with no topic of its own (「然后呢」, 「要多久」, 「需要怎么做」) asks about the thread it is
in, however sure the classifier is of something else; small talk and a bare order number in
between keep the thread, and price protection is a thread of its own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.flows.dialogue import DialogueManager
from bot.ids import SequentialIds
from bot.orders.sql import SqlOrderBackend
from bot.router.classifier import Prediction
from bot.router.lexicon import load_lexicon
from bot.router.router import Router, build_router
from bot.shop import Shop, load_shop
from bot.storage.db import create_all, make_engine
from bot.text.normalize import normalize

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini_shop"
NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")


class SureOfOther:
    """A classifier certain that every line asks something no flow serves."""

    fitted = True

    def predict(self, norm: str) -> Prediction:
        return Prediction("other", 0.99, "chitchat", 0.01)


@pytest.fixture(scope="module")
def shop() -> Shop:
    return load_shop(MINI)


@pytest.fixture(scope="module")
def router(shop: Shop) -> Router:
    return build_router(shop)


@pytest.fixture(scope="module")
def sure(shop: Shop, router: Router) -> Router:
    return Router(shop, router.linker, SureOfOther())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "carries"),
    [
        ("然后呢", True),
        ("哦，要多久", True),
        ("那需要怎么做？", True),
        ("好了 然后呢亲", True),  # an acknowledgement before it names no topic
        ("你好，那怎么办", True),
        ("要多久到账", True),
        ("怎么样了", True),
        ("确定可以吗", True),  # doubts what was just said about the thread
        ("你确定哦?", True),
        ("那然后需要怎么做", True),
        ("确定", False),  # a yes, not a question
        ("退款要多久", False),  # names its topic
        ("多少钱", False),
        ("什么时候发货", False),
        ("好的 谢谢", False),  # asks nothing
        ("时间怎么算的呢 下单时间开始?", False),  # the second clause has words of its own
    ],
)
def test_a_question_with_no_topic_of_its_own(text: str, carries: bool) -> None:
    assert load_lexicon().carries_thread(normalize(text)) is carries


@pytest.mark.parametrize(
    ("thread", "text"),
    [("refund", "然后呢"), ("invoice", "需要怎么做"), ("return", "那要多久呢"), ("logistics", "好的，然后呢"), ("invoice", "确定可以吗")],
)
def test_it_carries_the_after_sales_thread_however_sure_the_classifier_is(sure: Router, thread: str, text: str) -> None:
    turn = sure.route(text, {"last_intent": thread})
    assert (turn.intent, turn.fine_intent, turn.source) == (thread, "follow_up", "context")


def test_outside_a_thread_it_is_not_carried(sure: Router) -> None:
    assert sure.route("然后呢", {}).fine_intent != "follow_up"
    assert sure.route("然后呢", {"last_intent": "product_info"}).fine_intent != "follow_up"


def test_price_protection_is_a_thread_though_promotions_are_not(sure: Router) -> None:
    turn = sure.route("然后呢", {"last_intent": "price_promotion", "last_fine": "price_protection"})
    assert (turn.intent, turn.fine_intent) == ("price_promotion", "follow_up")
    assert sure.route("然后呢", {"last_intent": "price_promotion", "last_fine": "promotion"}).fine_intent != "follow_up"


def test_a_question_naming_its_own_topic_leaves_the_thread(router: Router) -> None:
    turn = router.route("这件衬衫有什么颜色", {"last_intent": "refund", "last_fine": "refund_only"})
    assert turn.intent != "refund"


@pytest.fixture
def dm(shop: Shop, router: Router, tmp_path: Path) -> DialogueManager:
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    create_all(engine)
    backend = SqlOrderBackend(engine, shop)
    backend.ensure_seeded()
    return DialogueManager(shop, backend, router, FrozenClock(NOW), SequentialIds())


def test_small_talk_and_an_order_number_keep_the_price_protection_thread(dm: DialogueManager) -> None:
    first = dm.handle({}, "b01", "刚买就降价了，能申请价保吗")
    assert (first.intent, first.state["last_fine"]) == ("price_promotion", "price_protection")
    thanks = dm.handle(first.state, "b01", "好的 谢谢")
    assert thanks.intent == "chitchat"
    number = dm.handle(thanks.state, "b01", "7001")
    assert (number.state["last_intent"], number.state["last_fine"]) == ("price_promotion", "price_protection")
    out = dm.handle(number.state, "b01", "然后呢")
    assert out.intent == "price_promotion"
    again = dm.handle(out.state, "b01", "那要多久呢")
    assert again.intent == "price_promotion"
    assert again.state["last_fine"] == "price_protection"  # a follow-up keeps the thread's own fine intent


def test_a_follow_up_is_drafted_with_the_words_that_opened_its_thread(dm: DialogueManager) -> None:
    first = dm.handle({}, "b01", "我想开发票")
    assert first.intent == "invoice" and first.question is None
    thanks = dm.handle(first.state, "b01", "好的")
    out = dm.handle(thanks.state, "b01", "那需要怎么做？")
    assert (out.intent, out.fine_intent, out.reply) == ("invoice", "follow_up", None)
    assert out.question == "我想开发票 那需要怎么做？"
    fresh = dm.handle(out.state, "b01", "衬衫有什么颜色")
    assert fresh.question is None


def test_the_model_drafting_a_follow_up_reads_the_thread_s_words(tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.services import build_services
    from tests.fakes.openai_server import FakeOpenAI, Reply

    root = Path(__file__).resolve().parents[2]
    with FakeOpenAI() as llm:
        llm.script(Reply("亲，可以开电子普通发票哦～"), Reply("亲，下单后在订单详情申请开票就可以啦～"))
        services = build_services(
            Settings(shop_dir=root / "knowledge", data_dir=tmp_path, llm_model="fake-model",
                     openai_base_url=llm.base_url, openai_api_key="test"),
            clock=FrozenClock(NOW), ids=SequentialIds(), ephemeral=True,
        )
        cid = services.bot.start_conversation("b01")
        services.bot.handle(cid, "b01", "我想开发票")
        services.bot.handle(cid, "b01", "需要怎么做")
        chats = [r for r in llm.requests if r.path.endswith("/chat/completions")]
        last = " ".join(m["content"] for m in chats[-1].body["messages"] if m["role"] == "user")
        assert "我想开发票 需要怎么做" in last
