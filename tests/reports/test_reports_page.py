"""The reports page in headless Chromium, on the data of the scripted days: figures, charts,
tables, the review list and the one-click export. Screenshots go to artifacts/screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.api.app import create_app
from bot.evaluation.suite import load_suite
from bot.services import Services
from tests.live_server import serving
from tests.reports.shop_day import demo_services, play_two_days
from tests.web.conftest import SCREENSHOTS, Pages, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser
LEAD = ("lead-web", "lead-web-pass-2026")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Its own copy of the days: the running server's scheduler sends the shop's unprompted
    # messages into these conversations, which the other tests should not see.
    services: Services = play_two_days(demo_services(tmp_path_factory.mktemp("reports-page"))).services
    services.accounts.create(LEAD[0], LEAD[1], "agent")
    with serving(create_app(services.settings, services), name="xiaoer-reports") as base:
        yield base


@pytest.fixture
def pages(browser: Any, url: str) -> Iterator[Pages]:  # noqa: F811
    p = Pages(browser, url)
    yield p
    p.close()
    assert not p.errors, f"JavaScript errors on the pages: {p.errors}"
    assert not p.outside, f"the pages tried to reach the network: {p.outside}"


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any) -> None:
    page.get_by_test_id("login-username").fill(LEAD[0])
    page.get_by_test_id("login-password").fill(LEAD[1])
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("kpis").wait_for()
    page.wait_for_selector("body[data-ready='1'] [data-testid='review-item']")


def kpi(page: Any, label: str) -> Any:
    return page.locator(f"[data-testid='kpi'][data-label='{label}'] [data-testid='kpi-value']")


def test_the_manager_reads_the_figures_and_exports_cases_for_training(pages: Pages, tmp_path: Path) -> None:
    page = pages.open("/reports")
    expect(page.get_by_test_id("reports-login")).to_be_visible()
    log_in(page)

    expect(kpi(page, "询单转化率")).to_have_text("40.0%（2/5）")
    expect(kpi(page, "满意度")).to_have_text("60.0%（3/5）")
    expect(kpi(page, "人工首次响应")).to_have_text("2分08秒（6次）")
    expect(kpi(page, "转人工率")).to_have_text("28.6%（2/7）")
    expect(page.locator("[data-testid='charts'] svg")).to_have_count(5)
    expect(page.locator("[data-testid='day-table-row']")).to_have_count(2)
    expect(page.locator("[data-testid='agent-table-row']")).to_have_count(2)
    expect(page.get_by_test_id("review-item")).to_have_count(3)
    shot(page, "reports-overview")

    # Narrow the window to the second day: one conversation to review is left.
    page.get_by_test_id("since").fill("2026-11-21")
    page.get_by_test_id("apply").click()
    expect(page.get_by_test_id("review-item")).to_have_count(1)
    expect(page.get_by_test_id("report-window")).to_contain_text("2026-11-21 00:00")
    page.get_by_test_id("since").fill("")
    page.get_by_test_id("apply").click()
    expect(page.get_by_test_id("review-item")).to_have_count(3)

    items = page.get_by_test_id("review-item")
    rejected = items.filter(has_text="推荐的款式不适合中老年")
    expect(rejected.get_by_test_id("review-kind")).to_have_text(["询单未转化", "草稿被驳回"])
    rejected.locator("summary").click()
    expect(rejected.get_by_test_id("review-transcript")).to_contain_text("想给妈妈买件衣服")
    rejected.get_by_test_id("review-pick").check()
    items.filter(has_text="改动了").get_by_test_id("review-pick").check()
    expect(page.get_by_test_id("export")).to_have_text("导出所选 2 段为评测用例")
    page.get_by_test_id("review").scroll_into_view_if_needed()
    shot(page, "reports-review")

    with page.expect_download() as info:
        page.get_by_test_id("export").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name.startswith("review-") and saved.suffix == ".yaml"
    suite = load_suite(saved)
    assert len(suite.cases) == 2


def test_the_console_links_to_the_reports_with_the_same_login(pages: Pages) -> None:
    console = pages.open("/console")
    console.get_by_test_id("login-username").fill(LEAD[0])
    console.get_by_test_id("login-password").fill(LEAD[1])
    console.get_by_test_id("login-submit").click()
    console.get_by_test_id("queue").wait_for()
    console.get_by_test_id("reports-link").click()
    console.wait_for_url("**/reports")
    console.wait_for_selector("body[data-ready='1'] [data-testid='review-item']")
    expect(console.get_by_test_id("reports-login")).to_be_hidden()
    expect(kpi(console, "询单转化率")).to_have_text("40.0%（2/5）")


def test_a_shop_without_ratings_says_so(pages: Pages) -> None:
    page = pages.open("/reports")
    log_in(page)
    page.get_by_test_id("since").fill("2026-12-01")
    page.get_by_test_id("apply").click()
    expect(kpi(page, "满意度")).to_have_text("暂无评价")
    expect(kpi(page, "询单转化率")).to_have_text("暂无数据")
    expect(page.get_by_test_id("review-empty")).to_be_visible()
    shot(page, "reports-empty")
