"""The reports API through the app's HTTP interface: agents only, Chinese refusals, files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.api.auth import Principal
from bot.services import Services

AGENT = ("lead", "lead-pass-2026")


@pytest.fixture(scope="module")
def client(played_services: Services) -> Iterator[TestClient]:
    if played_services.accounts.get(AGENT[0]) is None:
        played_services.accounts.create(AGENT[0], AGENT[1], "admin")
    with TestClient(create_app(played_services.settings, played_services)) as c:
        yield c


@pytest.fixture(scope="module")
def agent(client: TestClient) -> dict[str, str]:
    response = client.post("/api/auth/agent-login", json=dict(zip(("username", "password"), AGENT)))
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_only_agents_see_reports(client: TestClient) -> None:
    buyer = client.app.state.signer.issue(Principal("buyer", "b02", "buyer"))  # type: ignore[attr-defined]
    for path in ("/api/agent/reports", "/api/agent/review", "/api/agent/reports/view"):
        assert client.get(path).status_code == 401
        refused = client.get(path, headers={"Authorization": f"Bearer {buyer}"})
        assert refused.status_code == 401 and refused.json()["detail"] == "请先登录客服账号"
    assert client.post("/api/agent/review/export", json={"conversation_ids": ["c1"]}).status_code == 401


def test_report_json_view_and_downloads(client: TestClient, agent: dict[str, str]) -> None:
    report = client.get("/api/agent/reports", headers=agent).json()
    assert report["total"]["conversion"] == {"numerator": 2, "denominator": 5, "value": 0.4}
    view = client.get("/api/agent/reports/view", params={"since": "2026-11-20", "until": "2026-11-20"}, headers=agent).json()
    assert view["report"]["total"]["conversations"] == 5
    assert {c["label"] for c in view["cards"]} >= {"询单转化率", "人工首次响应", "满意度", "投诉率", "转人工率"}
    assert all(svg.startswith("<svg") for svg in view["charts"].values())

    csv = client.get("/api/agent/reports/download", params={"format": "csv"}, headers=agent)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode()) and "询单转化率" in csv.content.decode("utf-8-sig")
    html = client.get("/api/agent/reports/download", headers=agent)
    assert "attachment" in html.headers["content-disposition"] and html.text.count("<svg") == 5
    assert "script-src 'none'" in html.headers["content-security-policy"]


def test_bad_windows_and_formats_are_refused(client: TestClient, agent: dict[str, str]) -> None:
    bad = client.get("/api/agent/reports", params={"since": "上周一"}, headers=agent)
    assert bad.status_code == 422 and "since" in bad.text
    backwards = client.get("/api/agent/review", params={"since": "2026-11-21", "until": "2026-11-20"}, headers=agent)
    assert backwards.status_code == 200 and backwards.json() == []
    moment = client.get("/api/agent/reports", params={"until": "2026-11-20T16:30:00+08:00"}, headers=agent)
    assert moment.json()["total"]["conversations"] == 5
    assert client.get("/api/agent/reports/download", params={"format": "xls"}, headers=agent).status_code == 422
    assert client.get("/api/agent/review", params={"kind": "everything"}, headers=agent).status_code == 422


def test_review_and_export_of_the_chosen_conversations(client: TestClient, agent: dict[str, str]) -> None:
    items = client.get("/api/agent/review", params={"kind": ["draft_rejected"]}, headers=agent).json()
    assert len(items) == 1 and items[0]["drafts"][0]["reject_reason"] == "推荐的款式不适合中老年"
    chosen = items[0]["conversation_id"]

    exported = client.post("/api/agent/review/export", json={"conversation_ids": [chosen]}, headers=agent)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/yaml")
    assert 'filename="review-' in exported.headers["content-disposition"]
    suite = yaml.safe_load(exported.text)
    assert [c["buyer"] for c in suite["cases"]] == [items[0]["buyer_id"]]

    missing = client.post("/api/agent/review/export", json={"conversation_ids": ["c999"]}, headers=agent)
    assert missing.status_code == 404 and missing.json()["detail"] == "没有找到对话：c999"
    assert client.post("/api/agent/review/export", json={"conversation_ids": []}, headers=agent).status_code == 422
    extra = client.post("/api/agent/review/export", json={"conversation_ids": [chosen], "shop": "/etc"}, headers=agent)
    assert extra.status_code == 422


def test_the_page_is_served(client: TestClient) -> None:
    page = client.get("/reports")
    assert page.status_code == 200 and "运营报告" in page.text and "/static/reports.js" in page.text
