"""The workbench page in headless Chromium: log in, see what waits with its age in the
shop's time, ship an order, see it leave the list and enter the log — with no network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.api.app import create_app
from tests.live_server import serving

from .conftest import make

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("XIAOER_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    services = make(tmp_path, demo=True)
    with serving(create_app(services.settings, services), name="xiaoer-workbench") as running:
        yield running


@pytest.fixture
def page(url: str) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/browser-deps")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    errors: list[str] = []
    origin = urlsplit(url).netloc
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                      timezone_id="America/New_York", bypass_csp=True)

        def only_local(route: Any) -> None:
            if route.request.url.startswith("data:") or urlsplit(route.request.url).netloc == origin:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        p = context.new_page()
        p.set_default_timeout(15_000)
        p.on("pageerror", lambda exc: errors.append(str(exc)))
        yield p
        context.close()
        browser.close()
    assert not errors, errors
    assert not outside, outside


def test_ship_an_order_from_the_workbench(page: Any) -> None:
    page.goto("/workbench")
    page.wait_for_selector("body[data-ready='1']")
    page.get_by_test_id("login-username").fill("demo")
    page.get_by_test_id("login-password").fill("demo12345")
    page.get_by_test_id("login-submit").click()
    rows = page.get_by_test_id("wb-item")
    rows.first.wait_for()
    ship = page.locator("[data-testid='wb-item'][data-kind='ship'][data-tid='9005']")
    # Paid 2026-11-20 15:01 in the shop's time, whatever the browser's own timezone.
    assert "11月20日 15:01" in ship.get_by_test_id("wb-age").inner_text()
    (ROOT / "artifacts" / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "screenshots" / "workbench.png"))

    ship.get_by_test_id("wb-act-order.ship").click()
    page.get_by_test_id("wb-carrier").select_option("顺丰速运")
    page.get_by_test_id("wb-tracking").fill("SF100200")
    page.get_by_test_id("wb-submit").click()
    page.get_by_test_id("toast").filter(has_text="已发货").wait_for()
    ship.wait_for(state="detached")
    assert "订单 9005 已发货（顺丰速运 SF100200）" in page.get_by_test_id("wb-history").inner_text()


def test_a_refused_action_shows_the_reason_and_changes_nothing(page: Any) -> None:
    page.goto("/workbench")
    page.wait_for_selector("body[data-ready='1']")
    page.get_by_test_id("login-username").fill("demo")
    page.get_by_test_id("login-password").fill("demo12345")
    page.get_by_test_id("login-submit").click()
    ship = page.locator("[data-testid='wb-item'][data-kind='ship'][data-tid='9004']")
    ship.get_by_test_id("wb-act-order.ship").click()
    page.get_by_test_id("wb-tracking").fill("SF100200")
    page.evaluate("document.querySelector('[data-testid=wb-carrier]').append(new Option('极兔速递', '极兔速递'))")
    page.get_by_test_id("wb-carrier").select_option("极兔速递")
    page.get_by_test_id("wb-submit").click()
    error = page.get_by_test_id("wb-form-error")
    error.wait_for()
    assert "本店合作的快递是" in error.inner_text()
    page.locator("#wb-cancel").click()
    assert ship.count() == 1
