"""The bad-input findings against ``xiaoer serve`` on the demo shop, replayed against a real
server: uvicorn on 127.0.0.1 in a background thread, spoken to over HTTP.

Each refused request is a 4xx with a Chinese reason and leaves nothing half-stored; good
requests still work; the API docs render and the chat page and the console work with no
network, under the content security policy (tests/web drive the pages with it bypassed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.live_server import serving

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("XIAOER_CHROMIUM", "/usr/bin/chromium"))
CJK = re.compile(r"[\u4e00-\u9fff]")
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from bot.api.app import create_app
    from bot.config import Settings
    from bot.services import build_services

    settings = Settings(
        shop_dir=ROOT / "knowledge",
        data_dir=tmp_path_factory.mktemp("security-app"),
        demo=True,
        demo_login=True,
        rate_limits=False,
        llm_model=None,
        embedding_model=None,
    )
    app = create_app(settings, build_services(settings, ephemeral=True))
    with serving(app, name="xiaoer-security") as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def buyer(http: httpx.Client) -> dict[str, str]:
    response = http.post("/api/auth/demo-login", json={"buyer_id": "b02"})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def refused(response: httpx.Response, status: int) -> str:
    """The response is ``status`` with a Chinese reason in the pages' envelope."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and CJK.search(detail), detail
    assert "Traceback" not in response.text
    return detail


def texts(http: httpx.Client, buyer: dict[str, str], cid: str) -> list[str]:
    response = http.get(f"/api/conversations/{cid}", headers=buyer)
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"]]


def test_a_lone_surrogate_or_a_huge_number_in_chat_is_refused_and_nothing_is_stored(
    http: httpx.Client, buyer: dict[str, str]
) -> None:
    cid = http.post("/api/conversations", headers=buyer).json()["conversation_id"]
    for text in (b'"\\ud800"', b"1e999", b'"half \\udc00"', b"NaN"):
        body = b'{"conversation_id": "' + cid.encode() + b'", "text": ' + text + b"}"
        detail = refused(http.post("/api/chat", content=body, headers={**buyer, **JSON}), 422)
        assert "text" in detail
    assert texts(http, buyer, cid) == []
    good = http.post("/api/chat", json={"conversation_id": cid, "text": "我的订单到哪了"}, headers=buyer)
    assert good.status_code == 200 and good.json()["reply"]
    assert texts(http, buyer, cid)[0] == "我的订单到哪了"


def test_demo_login_with_a_huge_number_is_refused(http: httpx.Client) -> None:
    for body in (b'{"buyer_id": 1e999}', b'{"buyer_id": 3}'):
        assert "buyer_id" in refused(http.post("/api/auth/demo-login", content=body, headers=JSON), 422)
    assert http.post("/api/auth/demo-login", json={"buyer_id": "b01"}).status_code == 200


def test_agent_login_with_a_lone_surrogate_is_refused(http: httpx.Client) -> None:
    body = b'{"username": "\\ud800", "password": "demo12345"}'
    assert "username" in refused(http.post("/api/auth/agent-login", content=body, headers=JSON), 422)
    good = http.post("/api/auth/agent-login", json={"username": "demo", "password": "demo12345"})
    assert good.status_code == 200 and good.json()["role"] == "agent"


def test_a_chunked_100_kb_body_is_413(http: httpx.Client, buyer: dict[str, str]) -> None:
    big = b'{"text": "' + b"a" * 100_000 + b'"}'

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    chunked = http.post("/api/chat", content=chunks(), headers={**buyer, **JSON})
    assert "上限" in refused(chunked, 413)
    assert chunked.request.headers.get("transfer-encoding") == "chunked"
    assert chunked.headers["x-content-type-options"] == "nosniff"
    declared = http.post("/api/chat", content=big, headers={**buyer, **JSON})
    assert "上限" in refused(declared, 413)
    assert http.get("/healthz").status_code == 200  # the server is fine afterwards


def test_malformed_requests_and_unknown_routes_answer_in_chinese(http: httpx.Client, buyer: dict[str, str]) -> None:
    refused(http.post("/api/chat", content=b"{oops", headers={**buyer, **JSON}), 422)
    refused(http.post("/api/chat", content=b'{"text": "x"}', headers={**buyer, "content-type": "text/plain"}), 415)
    refused(http.post("/api/chat", content=b'{"text": "\xff"}', headers={**buyer, **JSON}), 400)
    refused(http.get("/api/no-such-thing"), 404)
    wrong = http.delete("/api/chat")
    refused(wrong, 405)
    assert wrong.headers["allow"] == "POST"


def test_the_docs_have_no_outside_url_and_their_assets_load(http: httpx.Client) -> None:
    for path in ("/docs", "/redoc"):
        page = http.get(path)
        assert page.status_code == 200
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text), page.text
        for url in re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text):
            asset = http.get(url)
            assert asset.status_code == 200 and asset.content, url
            assert asset.headers["content-type"].split(";")[0] in (
                "text/javascript", "application/javascript", "text/css", "image/png"
            ), url
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and page.headers["x-frame-options"] == "DENY"


@pytest.mark.browser
def test_the_docs_and_pages_render_offline_under_the_policy(base_url: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/browser-deps")
    from playwright.sync_api import sync_playwright

    origin = urlsplit(base_url).netloc
    outside: list[str] = []
    problems: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == origin or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            for path, ready in (
                ("/docs", ".opblock"),
                ("/redoc", "[data-section-id]"),
                ("/", "body[data-ready='1']"),
                ("/console", "body[data-ready='1']"),
            ):
                context = browser.new_context(base_url=base_url, locale="zh-CN", service_workers="block")
                context.route("**/*", only_local)
                page = context.new_page()
                page.on("pageerror", lambda exc, p=path: problems.append(f"{p}: {exc}"))
                page.on(
                    "console",
                    lambda msg, p=path: problems.append(f"{p}: {msg.text}")
                    if "Content Security Policy" in msg.text and "cdn.redoc.ly" not in msg.text
                    else None,
                )
                page.goto(path)
                page.wait_for_selector(ready, timeout=30_000)
                if path == "/docs":
                    assert page.locator(".opblock").count() > 10
                    assert "/api/chat" in page.locator("#swagger-ui").inner_text()
                elif path == "/":
                    _chat_once(page)
                elif path == "/console":
                    _log_in_to_the_console(page)
                context.close()
        finally:
            browser.close()
    assert not problems, problems
    # ReDoc's own footer asks for its logo from its vendor; the policy keeps it from loading.
    assert [u for u in outside if "cdn.redoc.ly" not in u] == []


def _chat_once(page: Any) -> None:
    """Pick a demo buyer, send a message, see it answered (by the bot or a waiting note)."""
    page.locator("[data-testid^='demo-buyer-']").first.click()
    page.get_by_test_id("chat-input").fill("在吗")
    page.get_by_test_id("chat-send").click()
    page.wait_for_selector("[data-testid='msg-buyer']", timeout=30_000)
    page.wait_for_selector("[data-testid='msg-bot'], [data-testid='agent-typing']", timeout=30_000)


def _log_in_to_the_console(page: Any) -> None:
    """Log in as the demo agent and see the live event stream open."""
    page.get_by_test_id("login-username").fill("demo")
    page.get_by_test_id("login-password").fill("demo12345")
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("queue").wait_for()
    page.wait_for_selector("[data-testid='live-status'][data-state='open']", timeout=30_000)
