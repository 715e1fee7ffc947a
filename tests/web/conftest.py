"""Browser fixtures: the real app on a free local port and headless Debian Chromium.

The app is started with uvicorn in a background thread over the demo shop, in assist mode,
with the offline drafter. Every page runs in its own browser context (its own cookies and
storage, like a separate person), requests leaving the app's origin are blocked and
counted (the pages must work with no network), and uncaught page errors fail the test.

Set ``XIAOER_E2E_BASE_URL`` to drive an already running server instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.live_server import serving

ROOT = Path(__file__).resolve().parents[2]
SHOP_DIR = ROOT / "knowledge"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("XIAOER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
DEMO_AGENT = ("demo", "demo12345")
SECOND_AGENT = ("xiaoyu", "xiaoyu-pass-2026")


@dataclass
class Server:
    url: str
    agents: list[tuple[str, str]] = field(default_factory=list)


def _start_app(data_dir: Path) -> tuple[Server, Callable[[], None]]:
    from bot.api.app import create_app
    from bot.config import Settings
    from bot.services import build_services

    settings = Settings(
        shop_dir=SHOP_DIR,
        data_dir=data_dir,
        demo=True,
        demo_login=True,
        rate_limits=False,
        reply_mode="assist",
        llm_model=None,
        embedding_model=None,
        # The shop's unprompted messages (催付 for unpaid orders, …) go out at the first tick, at
        # start-up, not in the middle of a test whose page they would move under the pointer.
        scheduler_interval_s=3600,
    )
    services = build_services(settings, ephemeral=True)
    services.accounts.create(SECOND_AGENT[0], SECOND_AGENT[1], "agent")
    app = create_app(settings, services)
    running = serving(app, name="xiaoer-e2e")
    url = running.__enter__()

    def stop() -> None:
        running.__exit__(None, None, None)

    return Server(url, [DEMO_AGENT, SECOND_AGENT]), stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh app per test module, so queue order in one module is not shaped by another."""
    external = os.environ.get("XIAOER_E2E_BASE_URL")
    if external:
        yield Server(external.rstrip("/"), [DEMO_AGENT, DEMO_AGENT])
        return
    srv, stop = _start_app(tmp_path_factory.mktemp("web-app"))
    try:
        yield srv
    finally:
        stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module: a live sync Playwright runs an event loop in the main thread, which other
    # tests' asyncio.run and other modules' own Playwright must not meet.
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/browser-deps")
    from playwright.sync_api import expect, sync_playwright

    # A turn goes through the server; on a busy machine it takes longer than the 5 s
    # assertions wait by default. Pages wait 15 s for anything (below); so do assertions.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Pages:
    """Opens pages, each in its own browser context, and checks them when the test ends."""

    browser: Any
    base_url: str
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def open(self, path: str = "/", *, phone: bool = False, context: Any = None) -> Any:
        if context is None:
            context = self.browser.new_context(
                base_url=self.base_url,
                viewport=PHONE if phone else DESKTOP,
                device_scale_factor=2 if phone else 1,
                is_mobile=phone,
                has_touch=phone,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                service_workers="block",
                # wait_for_function evaluates its predicate with eval, which the pages' content
                # security policy forbids; tests/security drives the pages under the policy.
                bypass_csp=True,
            )
            origin = urlsplit(self.base_url).netloc
            context.route("**/*", lambda route: self._only_local(route, origin))
            self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.goto(path)
        page.wait_for_selector("body[data-ready='1']")
        return page

    def buyer(self, index: int = 0, *, buyer_id: str | None = None, phone: bool = True) -> Any:
        """The chat page, logged in as the ``index``-th demo buyer of the picker (or ``buyer_id``)."""
        page = self.open("/", phone=phone)
        picker = page.get_by_test_id("buyer-picker")
        if buyer_id is not None:
            picker.get_by_test_id(f"demo-buyer-{buyer_id}").click()
        else:
            picker.locator("[data-testid^='demo-buyer-']").nth(index).click()
        page.get_by_test_id("chat-input").wait_for()
        page.wait_for_function("document.querySelector('#app').dataset.conversationId")
        return page

    def agent(self, username: str, password: str) -> Any:
        """The console, logged in."""
        page = self.open("/console")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("queue").wait_for()
        page.wait_for_selector("[data-testid='live-status'][data-state='open']")
        return page

    def _only_local(self, route: Any, origin: str) -> None:
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).netloc == origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        for c in self.contexts:
            c.close()


@pytest.fixture
def pages(browser: Any, server: Server) -> Iterator[Pages]:
    p = Pages(browser, server.url)
    yield p
    p.close()
    assert not p.errors, f"JavaScript errors on the pages: {p.errors}"
    assert not p.outside, f"the pages tried to reach the network: {p.outside}"


@pytest.fixture(scope="session")
def screenshots() -> Callable[[Any, str], Path]:
    """Save a full-page screenshot under artifacts/screenshots (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # Let streamed replies finish typing so the picture shows whole sentences.
        page.wait_for_function("!document.querySelector('.typing')")
        page.screenshot(path=str(path), full_page=False)
        return path

    return shot


@pytest.fixture(scope="session")
def shop() -> Any:
    from bot.shop import load_shop

    return load_shop(SHOP_DIR)
