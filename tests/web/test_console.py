"""The agents' console in a real browser: drafts, edits, races, the queue, access."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPLY = "[data-testid='msg-bot'], [data-testid='msg-agent']"


def product_question(shop: Any, index: int = 0) -> str:
    """A sales question about one of the shop's products (the drafter answers these)."""
    products = list(shop.products.values())
    return f"{products[index % len(products)].title}是什么面料的？穿着舒服吗"


def conversation_of(buyer: Any) -> str:
    return str(buyer.locator("#app").get_attribute("data-conversation-id"))


def queue_item(console: Any, buyer: Any) -> Any:
    return console.locator(f"[data-testid='queue-item'][data-conversation-id='{conversation_of(buyer)}']")


def open_conversation(console: Any, buyer: Any) -> Any:
    item = queue_item(console, buyer)
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")
    expect(console.get_by_test_id("thread-nick")).to_have_text(buyer_nick(buyer))
    return item


def buyer_nick(page: Any) -> str:
    return page.get_by_test_id("buyer-nick").inner_text().strip()


def send(buyer: Any, text: str) -> None:
    buyer.get_by_test_id("chat-input").fill(text)
    buyer.get_by_test_id("chat-input").press("Enter")


def test_agent_edits_the_draft_and_the_buyer_sees_the_edited_text(pages, server, shop, screenshots) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(0)

    send(buyer, product_question(shop))
    expect(buyer.get_by_test_id("agent-typing")).to_have_text("客服正在回复…")

    # The draft reaches the console live, with the bot turn's meta.
    expect(queue_item(console, buyer).get_by_test_id("pending-count")).to_be_visible()
    open_conversation(console, buyer)
    suggestion = console.get_by_test_id("suggestion").first
    expect(suggestion.get_by_test_id("suggestion-draft")).not_to_be_empty()
    expect(console.get_by_test_id("thread-buyer").last).to_contain_text(product_question(shop))
    expect(console.get_by_test_id("thread-draft").get_by_test_id("turn-intent")).to_be_visible()
    screenshots(console, "console-draft")

    # E opens the editor with the draft; Enter sends the edited text.
    console.keyboard.press("e")
    editor = console.get_by_test_id("edit-text")
    expect(editor).to_be_focused()
    expect(editor).not_to_have_value("")
    edited = "亲，这款的面料和穿着感受我帮您核对过了，详情以商品页说明为准哦～（已人工确认）"
    editor.fill(edited)
    screenshots(console, "console-editing")
    editor.press("Enter")

    expect(buyer.locator(REPLY).filter(has_text=edited)).to_have_count(1)
    expect(buyer.get_by_test_id("agent-typing")).to_have_count(0)
    expect(console.get_by_test_id("suggestion")).to_have_count(0)
    expect(console.get_by_test_id("suggestion-history").first).to_contain_text(edited)
    expect(console.locator("[data-testid='thread-agent'], [data-testid='thread-bot']").filter(has_text=edited)).to_have_count(1)
    screenshots(buyer, "chat-phone-edited-reply")
    screenshots(console, "console-after-edit")


def test_agent_rejects_a_draft_with_a_reason_and_the_buyer_never_sees_it(pages, server, shop) -> None:
    console = pages.agent(*server.agents[0])
    buyer = pages.buyer(10)
    send(buyer, product_question(shop, 2))
    expect(buyer.get_by_test_id("agent-typing")).to_be_visible()
    open_conversation(console, buyer)
    draft = console.get_by_test_id("suggestion-draft").inner_text().strip()

    console.keyboard.press("r")
    reason = console.get_by_test_id("reject-reason")
    expect(reason).to_be_focused()
    reason.press("Enter")  # a reason is required
    expect(console.get_by_test_id("toast")).to_contain_text("原因")
    reason.fill("面料信息需要再核对")
    reason.press("Enter")

    history = console.get_by_test_id("suggestion-history").first
    expect(history).to_have_attribute("data-status", "rejected")
    expect(history).to_contain_text("面料信息需要再核对")
    expect(console.get_by_test_id("suggestion")).to_have_count(0)
    expect(buyer.get_by_test_id("agent-typing")).to_be_visible()
    expect(buyer.locator(REPLY).filter(has_text=draft[:12])).to_have_count(0)


def test_two_agents_race_on_one_suggestion_and_the_second_is_told(pages, server, shop, screenshots) -> None:
    first = pages.agent(*server.agents[0])
    second = pages.agent(*server.agents[1])
    buyer = pages.buyer(1)

    buyer.get_by_test_id("chat-input").fill(product_question(shop, 1))
    buyer.get_by_test_id("chat-send").click()
    for console in (first, second):
        open_conversation(console, buyer)
        expect(console.get_by_test_id("suggestion")).to_have_count(1)

    # The second agent starts editing; meanwhile the first accepts with Enter.
    second.keyboard.press("e")
    second.get_by_test_id("edit-text").fill("亲，这是第二位客服改写的回复")
    draft = first.get_by_test_id("suggestion-draft").inner_text().strip()
    first.keyboard.press("Enter")
    expect(buyer.locator(REPLY).filter(has_text=draft[:12])).to_have_count(1)

    # The second agent's editor stays, marked as handled; sending is refused by the server.
    expect(second.get_by_test_id("stale-note")).to_be_visible()
    second.get_by_test_id("edit-text").press("Enter")
    told = second.get_by_test_id("toast")
    expect(told).to_contain_text(f"该建议已被 {server.agents[0][0]} 处理")
    expect(told).to_contain_text("无需再次操作")  # shown only when the server answered 409
    screenshots(second, "console-race-loser")
    expect(second.get_by_test_id("suggestion")).to_have_count(0)
    expect(buyer.locator(REPLY).filter(has_text="第二位客服")).to_have_count(0)


def test_asking_for_a_human_puts_the_conversation_on_top_of_the_queue(pages, server, shop, screenshots) -> None:
    console = pages.agent(*server.agents[0])
    early = pages.buyer(2)
    send(early, "你好")
    expect(early.locator(REPLY).last).not_to_be_empty()

    # Someone else writes later, so the first buyer is no longer on top.
    later = pages.buyer(3)
    send(later, "在吗")
    expect(later.locator(REPLY).last).not_to_be_empty()
    queue = console.get_by_test_id("queue-item")
    expect(queue.first).not_to_have_attribute("data-conversation-id", conversation_of(early))

    early.get_by_test_id("handoff-button").click()
    expect(early.get_by_test_id("chat-status")).to_contain_text("人工")

    expect(queue.first).to_have_attribute("data-conversation-id", conversation_of(early))
    expect(queue.first).to_have_attribute("data-status", "waiting")
    expect(queue.first.get_by_test_id("status-badge")).to_have_text("等待人工")
    expect(queue.first.get_by_test_id("waiting-time")).to_contain_text("等待")
    expect(queue.first.get_by_test_id("vip")).to_have_text(vip_of(server.url, buyer_nick(early)))
    # Drafts of earlier tests still waiting for review are 待接入 too; the handoff leads them.
    expect(console.get_by_test_id("filter-waiting")).to_contain_text(re.compile(r"待接入\s*[1-9]"))
    screenshots(console, "console-queue-handoff")
    screenshots(early, "chat-phone-handoff")

    # T takes over: the buyer sees the agent's name, the agent's message arrives live.
    open_conversation(console, early)
    console.keyboard.press("t")
    expect(console.get_by_test_id("agent-composer")).to_be_visible()
    # The buyer sees the shop's persona, never the agent's account name.
    expect(early.get_by_test_id("chat-status")).to_contain_text(f"人工客服 {shop.info.persona.name}")
    expect(early.get_by_test_id("chat-status")).not_to_contain_text(server.agents[0][0])
    console.get_by_test_id("agent-input").fill("亲，我是人工客服，请问有什么可以帮您？")
    console.get_by_test_id("agent-input").press("Enter")
    expect(early.get_by_test_id("msg-agent").last).to_contain_text("我是人工客服")
    screenshots(console, "console-agent-reply")

    # B hands the conversation back to the bot.
    console.get_by_test_id("agent-input").press("Escape")
    console.keyboard.press("b")
    expect(console.get_by_test_id("thread-pane")).to_have_attribute("data-status", "bot")
    expect(early.get_by_test_id("chat-status")).not_to_contain_text("人工")


def vip_of(url: str, nick: str) -> str:
    buyers = httpx.get(f"{url}/api/auth/demo-buyers", timeout=10).json()
    return f"VIP{next(b['vip_level'] for b in buyers if b['nick'] == nick)}"


def test_keyboard_moves_through_the_queue(pages, server) -> None:
    console = pages.agent(*server.agents[0])
    for index in (4, 5):
        buyer = pages.buyer(index)
        send(buyer, "你好")
        # wait for the bot's answer so the queue order no longer moves under the keys
        expect(buyer.get_by_test_id("msg-bot").last).to_be_visible()
    items = console.get_by_test_id("queue-item")
    expect(items.nth(1)).to_be_visible()
    items.first.click()
    selected = console.locator("[data-testid='queue-item'][aria-selected='true']")
    first_id = items.first.get_attribute("data-conversation-id") or ""
    console.keyboard.press("j")
    expect(selected).not_to_have_attribute("data-conversation-id", first_id)
    console.keyboard.press("ArrowUp")
    expect(selected).to_have_attribute("data-conversation-id", first_id)
    expect(console.get_by_test_id("shortcuts")).to_contain_text("Enter")


def test_a_buyer_cannot_open_the_console(pages, server) -> None:
    buyer = pages.buyer(6)
    token = buyer.evaluate("JSON.parse(localStorage.getItem('xiaoer.buyer')).token")

    console = pages.open("/console", context=buyer.context)
    expect(console.get_by_test_id("agent-login")).to_be_visible()
    expect(console.locator("#workspace")).to_be_hidden()

    # Neither the buyer's cookie nor the buyer's token opens the agents' API.
    assert console.request.get("/api/agent/conversations").status == 401
    as_bearer = httpx.get(
        f"{server.url}/api/agent/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert as_bearer.status_code == 401

    # A wrong password is refused with the server's reason.
    console.get_by_test_id("login-username").fill(server.agents[0][0])
    console.get_by_test_id("login-password").fill("not-the-password")
    console.get_by_test_id("login-submit").click()
    expect(console.get_by_test_id("login-error")).to_be_visible()
    expect(console.locator("#workspace")).to_be_hidden()
