"""The buyer's chat page in a real browser, phone-sized: login, cards, hand-off, rating."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPLY = "[data-testid='msg-bot'], [data-testid='msg-agent']"


def send(page: Any, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")


def shipped_order(shop: Any) -> Any:
    """An order of the shop that is on its way, with a tracking number and traces."""
    for order in shop.orders:
        if order.shipping and order.shipping.traces and order.status == "WAIT_BUYER_CONFIRM_GOODS":
            return order
    pytest.skip("the shop has no shipped order")


def test_a_buyer_picks_a_demo_login_and_chats_on_a_phone(pages, screenshots) -> None:
    page = pages.open("/", phone=True)
    picker = page.get_by_test_id("buyer-picker")
    expect(picker.locator("[data-testid^='demo-buyer-']").first).to_be_visible()
    expect(picker.get_by_test_id("vip").first).to_have_text(re.compile(r"^VIP[0-5]$"))
    screenshots(page, "chat-phone-picker")

    picker.locator("[data-testid^='demo-buyer-']").first.click()
    expect(page.get_by_test_id("buyer-nick")).not_to_be_empty()
    expect(page.get_by_test_id("welcome")).to_be_visible()

    send(page, "你好")
    expect(page.get_by_test_id("msg-buyer").last).to_contain_text("你好")
    expect(page.locator(REPLY).last).not_to_be_empty()

    # Nothing spills sideways on a 390-pixel screen, and the composer stays in view.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_test_id("chat-input")).to_be_in_viewport()
    expect(page.get_by_test_id("handoff-button")).to_be_in_viewport()
    screenshots(page, "chat-phone-greeting")


def test_a_buyer_sees_the_order_and_parcel_with_tracking(pages, shop, screenshots) -> None:
    order = shipped_order(shop)
    page = pages.buyer(buyer_id=order.buyer)
    send(page, f"订单{order.tid}的快递到哪了")

    tracking = page.get_by_test_id("tracking-no").filter(has_text=order.shipping.tracking_no)
    expect(tracking.first).to_be_visible()
    card = page.locator("[data-testid='card-parcel'], [data-testid='card-order']").filter(has=tracking.first)
    latest = max(order.shipping.traces, key=lambda t: t.time)
    expect(card.first.get_by_test_id("latest-trace")).to_contain_text(latest.desc)
    expect(card.first.get_by_test_id("card-status")).not_to_be_empty()
    page.get_by_test_id("chat-messages").evaluate("box => box.scrollTop = box.scrollHeight")
    screenshots(page, "chat-phone-parcel")


def test_picking_an_order_from_the_list_shows_that_order(pages, shop, screenshots) -> None:
    order = shipped_order(shop)
    page = pages.buyer(buyer_id=order.buyer)
    send(page, "我的订单")
    row = page.get_by_test_id("card-orders-row").filter(has_text=order.tid).first
    expect(row).to_be_visible()
    row.click()

    expect(page.get_by_test_id("msg-buyer").last.get_by_test_id("msg-text")).to_have_text(order.tid)
    card = page.locator(f"[data-testid='card-order'][data-tid='{order.tid}']")
    expect(card.get_by_test_id("card-item")).to_have_count(len(order.items))
    expect(card.get_by_test_id("card-status")).not_to_be_empty()
    screenshots(page, "chat-phone-order")


def test_quick_replies_send_their_text(pages) -> None:
    page = pages.buyer(7)
    quick = page.get_by_test_id("quick-reply").first
    expect(quick).to_be_visible()
    text = quick.inner_text().strip()
    quick.click()
    expect(page.get_by_test_id("msg-buyer").last.get_by_test_id("msg-text")).to_have_text(text)
    expect(page.locator(REPLY + ", [data-testid='agent-typing']").last).to_be_visible()


def test_the_buyer_rates_the_conversation_when_it_ends(pages, screenshots) -> None:
    page = pages.buyer(8)
    send(page, "你好")
    expect(page.locator(REPLY).last).not_to_be_empty()

    page.get_by_test_id("end-button").click()
    panel = page.get_by_test_id("rating-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-testid^='rating-']").filter(has_text="★")).to_have_count(5)
    screenshots(page, "chat-phone-rating")
    page.get_by_test_id("rating-4").click()
    expect(page.get_by_test_id("rating-done")).to_contain_text("4分")

    before = page.locator("#app").get_attribute("data-conversation-id")
    page.get_by_test_id("new-conversation").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.locator("#app")).not_to_have_attribute("data-conversation-id", before or "")


def test_a_reload_keeps_the_conversation(pages) -> None:
    page = pages.buyer(9)
    send(page, "你好")
    expect(page.locator(REPLY).last).not_to_be_empty()
    count = page.locator(REPLY).count()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.get_by_test_id("msg-buyer")).to_have_count(1)
    expect(page.locator(REPLY)).to_have_count(count)


def test_a_reply_takes_its_room_before_it_types_so_the_card_below_stays_put(pages, shop) -> None:
    order = shipped_order(shop)
    page = pages.buyer(buyer_id=order.buyer)
    page.evaluate(
        """() => {
          window.typingHeights = [];
          const box = document.getElementById('messages');
          new MutationObserver(() => {
            const typing = box.querySelector('.msg-text.typing');
            if (typing) window.typingHeights.push(typing.getBoundingClientRect().height);
          }).observe(box, { subtree: true, childList: true, characterData: true });
        }"""
    )
    send(page, "我的订单")
    expect(page.get_by_test_id("card-orders-row").first).to_be_visible()
    expect(page.locator(".msg-text.typing")).to_have_count(0)

    # The reply typed over several frames, and its bubble never grew while it did.
    heights = page.evaluate("window.typingHeights")
    assert len(heights) > 3, heights
    assert len(set(heights)) == 1, heights
