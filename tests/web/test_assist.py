"""The assist loop in a real browser: no buyer left waiting, rejected drafts and hand-backs end
in an answer, the copilot drafts during a take-over, an agent's unsupported offer is flagged
before it is sent. Screenshots of both pages at 1280 and 390 pixels.

The app runs the demo shop with a short reply policy and a fast scheduler tick: a holding
message after 1 s, price questions answered by the bot after 3 s, other drafts after 120 s
(so an agent's actions are never raced by the timer in these tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.live_server import serving
from tests.web.conftest import CHROMIUM_ARGS, DEMO_AGENT, SHOP_DIR, Server  # noqa: F401

pytestmark = pytest.mark.browser

REPLY = "[data-testid='msg-bot'], [data-testid='msg-agent']"
PRODUCT_QUESTION = "纯棉重磅短袖T恤是什么面料的？穿着舒服吗"
PRICE_QUESTION = "现在有什么优惠活动吗？"
SOCKS = "亲，这款是纯棉的，现在下单再送一双袜子哦～"
HOLD_S, SHORT_WAIT_S, LONG_WAIT_S, TICK_S = 1, 3, 120, 0.3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if os.environ.get("XIAOER_E2E_BASE_URL"):
        pytest.skip("needs its own reply policy: runs on the test's own server only")
    from bot.api.app import create_app
    from bot.config import Settings
    from bot.services import build_services
    from bot.shop import load_shop
    from bot.shop.models import IntentReply, ReplyPolicy

    shop = load_shop(SHOP_DIR)
    shop.info.reply_policy = ReplyPolicy(
        hold_s=HOLD_S, wait_s=LONG_WAIT_S, intents={"price_promotion": IntentReply(wait_s=SHORT_WAIT_S)}
    )
    settings = Settings(
        shop_dir=SHOP_DIR, data_dir=Path(tmp_path_factory.mktemp("assist-app")), demo=True, demo_login=True,
        rate_limits=False, reply_mode="assist", llm_model=None, embedding_model=None, scheduler_interval_s=TICK_S,
    )
    services = build_services(settings, shop=shop, ephemeral=True)
    with serving(create_app(settings, services), name="xiaoer-assist") as url:
        yield Server(url, [DEMO_AGENT])


def send(page: Any, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")


def conversation_of(buyer: Any) -> str:
    return str(buyer.locator("#app").get_attribute("data-conversation-id"))


def open_conversation(console: Any, buyer: Any) -> Any:
    item = console.locator(f"[data-testid='queue-item'][data-conversation-id='{conversation_of(buyer)}']")
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")
    return item


def test_a_question_with_no_agent_online_is_answered_within_the_shops_limit(pages, shop) -> None:
    buyer = pages.buyer(buyer_id="b05")
    send(buyer, PRICE_QUESTION)
    # A first reply within seconds (Taobao 首响 is 30 s), then the guard-clean draft itself.
    expect(buyer.get_by_test_id("msg-bot").filter(has_text="稍等")).to_have_count(1, timeout=(HOLD_S + 5) * 1000)
    expect(buyer.get_by_test_id("agent-typing")).to_have_count(0)
    answer = buyer.get_by_test_id("msg-bot").filter(has_not_text="稍等")
    expect(answer).to_have_count(1, timeout=(SHORT_WAIT_S + 5) * 1000)
    expect(answer.first).not_to_be_empty()
    assert shop.info.persona.name in buyer.get_by_test_id("msg-bot").first.inner_text()


def test_a_waiting_draft_is_queued_and_a_rejected_one_opens_the_reply_box(pages, server, screenshots) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b04")
    send(buyer, PRODUCT_QUESTION)
    item = open_conversation(console, buyer)
    # 待接入 with its waiting time, and the draft's own countdown.
    expect(item).to_have_attribute("data-status", "waiting")
    expect(item.get_by_test_id("waiting-draft")).to_be_visible()
    expect(item.get_by_test_id("waiting-time")).to_contain_text("等待")
    expect(console.get_by_test_id("suggestion-due")).to_contain_text("后自动发送")
    expect(console.get_by_test_id("buyer-panel")).to_be_visible()
    expect(buyer.get_by_test_id("msg-bot").filter(has_text="稍等")).to_have_count(1)

    console.keyboard.press("r")
    console.get_by_test_id("reject-reason").fill("面料说法需要核实")
    console.get_by_test_id("reject-reason").press("Enter")
    # The buyer's question is still open: the reply box opens on it.
    expect(console.get_by_test_id("agent-composer")).to_be_visible()
    expect(console.get_by_test_id("reply-box-question")).to_contain_text(PRODUCT_QUESTION)
    expect(console.get_by_test_id("agent-input")).to_be_focused()
    console.get_by_test_id("agent-input").fill("亲，这款是100%棉的，亲肤透气，日常穿着很舒服哦～")
    console.get_by_test_id("agent-input").press("Enter")
    expect(buyer.get_by_test_id("msg-agent").filter(has_text="100%棉")).to_have_count(1)
    expect(console.get_by_test_id("thread-pane")).to_have_attribute("data-status", "agent")
    screenshots(console, "console-reply-after-reject")


def test_a_reject_reason_keeps_its_focus_when_the_conversation_moves_meanwhile(pages, server) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b08")
    send(buyer, PRODUCT_QUESTION)
    open_conversation(console, buyer)
    expect(console.get_by_test_id("suggestion-draft").first).not_to_be_empty()
    console.keyboard.press("r")
    expect(console.get_by_test_id("reject-reason")).to_be_focused()
    console.keyboard.type("面料说法")
    # The buyer writes again while the agent types: the console redraws the conversation.
    send(buyer, "在吗")
    expect(console.get_by_test_id("thread-pane")).to_contain_text("在吗")
    expect(console.get_by_test_id("reject-reason")).to_be_focused()
    console.keyboard.type("需要核实")
    console.keyboard.press("Enter")  # rejects with the reason; never Enter's "accept" on the page
    expect(console.get_by_test_id("agent-composer")).to_be_visible()
    expect(console.get_by_test_id("reply-box-question")).to_contain_text(PRODUCT_QUESTION)
    expect(buyer.get_by_test_id("msg-bot").filter(has_text="100%棉")).to_have_count(0)


def test_the_copilot_drafts_during_a_takeover_and_hand_back_ends_in_an_answer(pages, server, screenshots) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b06")
    send(buyer, "你好")
    expect(buyer.locator(REPLY).last).not_to_be_empty()
    open_conversation(console, buyer)
    console.keyboard.press("t")
    expect(console.get_by_test_id("agent-input")).to_be_focused()  # taking over focuses the reply box
    console.get_by_test_id("agent-input").press("Escape")

    send(buyer, PRODUCT_QUESTION)
    copilot = console.get_by_test_id("suggestion").filter(has=console.get_by_test_id("suggestion-copilot"))
    expect(copilot).to_have_count(1)
    expect(copilot.get_by_test_id("suggestion-draft")).not_to_be_empty()
    expect(copilot.get_by_test_id("suggestion-citation").first).to_be_visible()
    draft = copilot.get_by_test_id("suggestion-draft").inner_text().strip()
    screenshots(console, "console-copilot")

    console.keyboard.press("b")  # hand back: the bot answers what is open
    expect(buyer.get_by_test_id("msg-bot").filter(has_text=draft[:12])).to_have_count(1)
    expect(console.get_by_test_id("thread-pane")).to_have_attribute("data-status", "bot")


def test_an_agent_edit_adding_an_unsupported_offer_is_flagged_before_send(pages, server) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(buyer_id="b07")
    send(buyer, PRODUCT_QUESTION)
    open_conversation(console, buyer)

    # Editing the draft: the guards refuse the gift before anything is sent.
    expect(console.get_by_test_id("suggestion")).to_have_count(1)
    console.keyboard.press("e")
    console.get_by_test_id("edit-text").fill(SOCKS)
    console.get_by_test_id("edit-text").press("Enter")
    expect(console.get_by_test_id("guard-refusal")).to_contain_text("赠品")
    expect(buyer.locator(REPLY).filter(has_text="袜子")).to_have_count(0)

    # Writing directly: flagged while typing, refused on send, sent only as a recorded override.
    console.keyboard.press("t")
    box = console.get_by_test_id("agent-input")
    box.fill(SOCKS)
    expect(console.get_by_test_id("composer-flag")).to_contain_text("无依据的赠品或优惠")
    box.press("Enter")
    expect(console.get_by_test_id("composer-override")).to_be_visible()
    expect(buyer.locator(REPLY).filter(has_text="袜子")).to_have_count(0)
    console.get_by_test_id("composer-override").click()
    expect(buyer.get_by_test_id("msg-agent").filter(has_text="袜子")).to_have_count(1)
    expect(console.get_by_test_id("thread-system").filter(has_text="已看过合规标记")).to_have_count(1)
    # The buyer's page shows the shop's persona, never an account name.
    assert "demo" not in buyer.get_by_test_id("chat-messages").inner_text()
    expect(buyer.get_by_test_id("chat-status")).not_to_contain_text("demo")


def _context(browser: Any, base_url: str, width: int) -> Any:
    phone = width < 600
    return browser.new_context(
        base_url=base_url, viewport={"width": width, "height": 844 if phone else 800},
        device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone, locale="zh-CN",
        timezone_id="America/Los_Angeles",  # far from the shop: every time must still read as the shop's
        service_workers="block", bypass_csp=True,
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_console_and_chat(browser, pages, server, shop, screenshots, width: int) -> None:
    chat = pages.open("/", context=_context(browser, server.url, width))
    pages.contexts.append(chat.context)
    chat.get_by_test_id("demo-buyer-b01").click()
    chat.get_by_test_id("chat-input").wait_for()
    chat.wait_for_function("document.querySelector('#app').dataset.conversationId")
    send(chat, PRODUCT_QUESTION)
    expect(chat.get_by_test_id("msg-bot").filter(has_text="稍等")).to_have_count(1)
    # A reply being checked is no transfer to a person: the buyer is told so, and may still ask for one.
    expect(chat.get_by_test_id("chat-status")).to_have_text("客服正在为您核对答复…")
    expect(chat.get_by_test_id("handoff-button")).to_be_enabled()
    # Bubble times read in the shop's timezone (+08:00), not the browser's (Los Angeles).
    stored = chat.evaluate(
        "async (id) => (await (await fetch(`/api/conversations/${id}`)).json()).messages.at(-1).created",
        conversation_of(chat),
    )
    expect(chat.locator(".msg-time").last).to_contain_text(stored[11:16])
    send(chat, "我的订单到哪了")
    expect(chat.get_by_test_id("msg-buyer")).to_have_count(2)
    expect(chat.locator(REPLY).last).not_to_contain_text("稍等")
    assert chat.evaluate("document.documentElement.scrollWidth") <= width
    screenshots(chat, f"assist-chat-{width}")

    console = pages.open("/console", context=_context(browser, server.url, width))
    pages.contexts.append(console.context)
    console.get_by_test_id("login-username").fill(DEMO_AGENT[0])
    console.get_by_test_id("login-password").fill(DEMO_AGENT[1])
    console.get_by_test_id("login-submit").click()
    console.wait_for_selector("[data-testid='live-status'][data-state='open']")
    open_conversation(console, chat)
    expect(console.get_by_test_id("buyer-orders")).to_be_visible()
    expect(console.get_by_test_id("suggestion")).to_have_count(1)
    screenshots(console, f"assist-console-{width}")
