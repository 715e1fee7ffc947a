"""Real streaming in a real browser: the model's tokens reach the console's draft panel, and
the buyer where the shop sends that intent at once, before the draft is complete.

The model is the fake OpenAI-compatible server of tests/fakes, streaming a few characters at
a time with a pause between chunks; the real openai and langchain client code runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.live_server import serving
from tests.web.conftest import DEMO_AGENT, SHOP_DIR, Server

pytestmark = pytest.mark.browser

QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
MODEL_TEXT = "亲，这款T恤是纯棉面料，日常穿着不易起球，透气又舒服哦～"


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[Server]:
    if os.environ.get("XIAOER_E2E_BASE_URL"):
        pytest.skip("needs the fake model: runs on the test's own server only")
    from bot.api.app import create_app
    from bot.config import Settings
    from bot.services import build_services
    from bot.shop import load_shop
    from bot.shop.models import IntentReply, ReplyPolicy

    shop = load_shop(SHOP_DIR)
    shop.info.reply_policy = ReplyPolicy(intents={"product_info": IntentReply(send="send")})
    settings = Settings(
        shop_dir=SHOP_DIR, data_dir=Path(tmp_path_factory.mktemp("stream-app")), demo=True, demo_login=True,
        rate_limits=False, reply_mode="assist", llm_model="fake-model", openai_base_url=model.base_url,
        openai_api_key="test", embedding_model=None,
    )
    services = build_services(settings, shop=shop, ephemeral=True)
    with serving(create_app(settings, services), name="xiaoer-stream") as url:
        yield Server(url, [DEMO_AGENT])


def test_tokens_reach_the_draft_panel_and_the_buyer_before_the_draft_is_complete(pages, server, model: FakeOpenAI) -> None:
    # ~30 chunks 0.12 s apart: the whole draft takes a few seconds to write.
    model.script(Reply(MODEL_TEXT, chunk_chars=1, chunk_delay_s=0.12), Reply(MODEL_TEXT))
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b08")
    cid = str(buyer.locator("#app").get_attribute("data-conversation-id"))
    item = console.locator(f"[data-testid='queue-item'][data-conversation-id='{cid}']")
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")

    buyer.get_by_test_id("chat-input").fill(QUESTION)
    buyer.get_by_test_id("chat-input").press("Enter")

    # Part of the text is in the console's draft panel and in the buyer's bubble, not all of it.
    streaming = console.get_by_test_id("draft-stream-text")
    expect(streaming).to_contain_text(MODEL_TEXT[:4])
    partial = streaming.inner_text()
    assert 0 < len(partial) < len(MODEL_TEXT), partial
    bubble = buyer.locator(".msg.streaming .msg-text")
    expect(bubble).to_contain_text(MODEL_TEXT[:4])
    assert len(bubble.inner_text()) < len(MODEL_TEXT)

    # Guarded as a whole, then sent: one bubble with the whole reply, and the panel clears.
    final = buyer.get_by_test_id("msg-bot").last
    expect(final).to_contain_text(MODEL_TEXT[-6:], timeout=20_000)
    expect(buyer.locator(".msg.streaming")).to_have_count(0)
    expect(buyer.get_by_test_id("msg-bot")).to_have_count(1)
    expect(console.get_by_test_id("draft-stream")).to_have_count(0)
    assert model.chat_requests and model.chat_requests[0].body.get("stream") is True


PRICE_QUESTION = "现在有什么优惠活动吗？"
FIRST_DRAFT = "亲，优惠活动以商品页显示为准哦～"
SECOND_DRAFT = "亲，具体能用的优惠以商品页和结算页显示为准，下单前可以看一下哦～"


def test_a_rejected_draft_is_written_again_for_the_agents_reason(pages, server, model: FakeOpenAI) -> None:
    model.clear()
    model.script(Reply(FIRST_DRAFT), Reply(FIRST_DRAFT))
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b07")
    cid = str(buyer.locator("#app").get_attribute("data-conversation-id"))
    buyer.get_by_test_id("chat-input").fill(PRICE_QUESTION)
    buyer.get_by_test_id("chat-input").press("Enter")
    item = console.locator(f"[data-testid='queue-item'][data-conversation-id='{cid}']")
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")
    expect(console.get_by_test_id("suggestion-draft").first).to_have_text(FIRST_DRAFT, timeout=20_000)

    model.clear()
    model.script(Reply(SECOND_DRAFT), Reply(SECOND_DRAFT))
    console.get_by_test_id("reject-button").first.click()
    console.get_by_test_id("reject-reason").fill("太笼统，说清楚在哪里看优惠")
    console.get_by_test_id("reject-regenerate").click()
    # The new draft waits for the agent in the panel; the buyer got neither draft.
    expect(console.get_by_test_id("suggestion-draft").first).to_have_text(SECOND_DRAFT, timeout=20_000)
    assert "太笼统" in model.chat_requests[-1].body["messages"][0]["content"]
    console.get_by_test_id("accept-button").first.click()
    expect(buyer.get_by_test_id("msg-bot").filter(has_text=SECOND_DRAFT)).to_have_count(1)
    expect(buyer.get_by_test_id("msg-bot").filter(has_text=FIRST_DRAFT)).to_have_count(0)
