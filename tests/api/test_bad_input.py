"""Every bad request is a 4xx with a Chinese reason: no 500, no English, no echo of the input;
what is refused is not stored; pages carry the security headers; the docs work offline."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import STATIC

CJK = re.compile(r"[\u4e00-\u9fff]")
JSON = {"content-type": "application/json"}


def reason(response: Any) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str), detail
    assert CJK.search(detail), f"not a Chinese reason: {detail!r}"
    return detail


def raw(client: TestClient, path: str, body: bytes, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return client.post(path, content=body, headers={**JSON, **(headers or {})}, **kw)


@pytest.fixture
def buyer(client: TestClient, login: Any) -> dict[str, str]:
    return login(client, "b01")


@pytest.fixture
def conversation(client: TestClient, buyer: dict[str, str]) -> str:
    return str(client.post("/api/conversations", headers=buyer).json()["conversation_id"])


def messages(client: TestClient, buyer: dict[str, str], cid: str) -> list[dict[str, Any]]:
    """The buyer's own messages: the shop's scheduler may add a 催付 for the unpaid order at
    any moment, which is not what these tests are about."""
    response = client.get(f"/api/conversations/{cid}", headers=buyer)
    assert response.status_code == 200, response.text
    return [m for m in response.json()["messages"] if m["role"] == "buyer"]


# --- the findings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "\\ud800"}',
        b'{"text": "ok \\udfff tail"}',
        b'{"text": "a\\u0000b"}',
        b'{"text": 1e999}',
        b'{"text": -1e999}',
        b'{"text": NaN}',
        b'{"text": Infinity}',
        b'{"text": [1e999]}',
    ],
)
def test_a_chat_message_that_cannot_be_stored_is_refused_and_not_stored(
    client: TestClient, buyer: dict[str, str], conversation: str, body: bytes
) -> None:
    before = messages(client, buyer, conversation)
    patched = body.replace(b"{", b'{"conversation_id": "' + conversation.encode() + b'", ', 1)
    response = raw(client, "/api/chat", patched, buyer)
    assert response.status_code == 422, response.text
    assert reason(response).startswith("请求参数有误：text ")
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "text"]]
    assert messages(client, buyer, conversation) == before


def test_a_good_message_after_a_refused_one_still_works(
    client: TestClient, buyer: dict[str, str], conversation: str
) -> None:
    assert raw(client, "/api/chat", b'{"text": "\\ud800"}', buyer).status_code == 422
    ok = client.post("/api/chat", json={"conversation_id": conversation, "text": "在吗"}, headers=buyer)
    assert ok.status_code == 200 and ok.json()["reply"]
    assert [m["text"] for m in messages(client, buyer, conversation)][0] == "在吗"


@pytest.mark.parametrize("body", [b'{"buyer_id": 1e999}', b'{"buyer_id": 5}', b'{"buyer_id": NaN}'])
def test_demo_login_with_a_number_is_refused(client: TestClient, body: bytes) -> None:
    response = raw(client, "/api/auth/demo-login", body)
    assert response.status_code == 422
    assert "buyer_id" in reason(response)


@pytest.mark.parametrize("field", ["username", "password"])
def test_agent_login_with_a_lone_surrogate_is_refused(client: TestClient, field: str) -> None:
    creds = {"username": "demo", "password": "demo12345"}
    body = json.dumps(creds).replace(f'"{creds[field]}"', '"x\\ud800"').encode()
    response = raw(client, "/api/auth/agent-login", body)
    assert response.status_code == 422
    assert field in reason(response)


def test_a_field_name_with_a_lone_surrogate_still_gets_a_reason(client: TestClient) -> None:
    response = raw(client, "/api/auth/demo-login", b'{"buyer_id": "b01", "\\ud800": 1}')
    assert response.status_code == 422
    assert "UTF-8" in reason(response)


# --- malformed bodies, on every kind of route ---------------------------------------------

MALFORMED: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("/api/chat", b"", JSON, 422, "请求体不能为空"),
    ("/api/chat", b"{oops", JSON, 422, "不是有效的 JSON"),
    ("/api/chat", b'{"text": "x"', JSON, 422, "不是有效的 JSON"),
    ("/api/chat", b"[1, 2]", JSON, 422, "应为 JSON 对象"),
    ("/api/chat", b'"text"', JSON, 422, "应为 JSON 对象"),
    ("/api/chat", b"null", JSON, 422, "请求体"),
    ("/api/chat", b"{}", JSON, 422, "text 不能为空"),
    ("/api/chat", b'{"text": "x", "buyer_id": "b02"}', JSON, 422, "buyer_id 不是可接受的字段"),
    ("/api/chat", b'{"text": {"a": 1}}', JSON, 422, "text 应为字符串"),
    ("/api/chat", b'{"text": true}', JSON, 422, "text 应为字符串"),
    ("/api/chat", b'{"text": "x", "conversation_id": 7}', JSON, 422, "conversation_id 应为字符串"),
    ("/api/chat", b'{"text": "\xff\xfe"}', JSON, 400, "UTF-8"),
    ("/api/chat", b'{"text": "x"}', {"content-type": "text/plain"}, 415, "application/json"),
    ("/api/chat", b"text=x", {"content-type": "application/x-www-form-urlencoded"}, 415, "JSON"),
    ("/api/chat", b'{"text": "x"}', {"content-type": "application/xml"}, 415, "JSON"),
    ("/api/auth/demo-login", b'{"buyer_id": ""}', JSON, 422, "buyer_id 不能为空"),
    ("/api/auth/demo-login", b'{"buyer_id": "' + b"b" * 65 + b'"}', JSON, 422, "不能超过 64 个字符"),
    ("/api/auth/agent-login", b'{"username": "demo"}', JSON, 422, "password 不能为空"),
    ("/api/auth/agent-login", b'{"username": ["demo"], "password": "x"}', JSON, 422, "username 应为字符串"),
]


@pytest.mark.parametrize(("path", "body", "headers", "status", "says"), MALFORMED)
def test_a_malformed_body_gets_a_chinese_reason_and_no_echo(
    client: TestClient, buyer: dict[str, str], path: str, body: bytes, headers: dict[str, str], status: int, says: str
) -> None:
    response = client.post(path, content=body, headers={**buyer, **headers})
    assert response.status_code == status, response.text
    assert says in reason(response)
    text = response.text
    assert '"input"' not in text and "Field required" not in text and "Input should" not in text


def test_a_rating_must_be_a_whole_number_from_one_to_five(
    client: TestClient, buyer: dict[str, str], conversation: str
) -> None:
    url = f"/api/conversations/{conversation}/rating"
    for bad, says in [(9, "不能大于 5"), (0, "不能小于 1"), ("5", "应为整数"), (True, "应为整数"), (2.5, "应为整数")]:
        response = client.post(url, json={"score": bad}, headers=buyer)
        assert response.status_code == 422, (bad, response.text)
        assert says in reason(response), bad


def test_a_query_value_outside_its_choices_is_named(client: TestClient, agent_login: Any) -> None:
    agent = agent_login(client)
    response = client.get("/api/agent/conversations?status=open", headers=agent)
    assert response.status_code == 422
    assert reason(response) == "请求参数有误：status 只能是 bot / waiting / agent / closed"
    problem = response.json()["errors"][0]
    assert problem["loc"] == ["query", "status"] and problem["msg"].startswith("只能是")


def test_every_request_body_is_a_body_that_refuses_what_cannot_be_stored(client: TestClient) -> None:
    """Only ``Body`` models document their text as NUL-free: a body model outside it would let
    a lone surrogate reach the database again."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    seen = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            branches = [b for m in content.values() for b in [m["schema"], *m["schema"].get("anyOf", [])]]
            refs = [b["$ref"] for b in branches if "$ref" in b]
            assert refs or not content, f"{method} {path}: {content}"
            for ref in refs:
                name = ref.rsplit("/", 1)[-1]
                schema = schemas[name]
                assert schema.get("additionalProperties") is False, f"{method} {path}: {name}"
                for field, prop in schema["properties"].items():
                    for branch in [prop, *prop.get("anyOf", [])]:
                        if branch.get("type") == "string" and "format" not in branch:
                            assert "pattern" in branch, f"{method} {path}: {name}.{field}"
                seen += 1
    assert seen >= 8


# --- sizes, routes and methods -------------------------------------------------------------


def test_an_oversize_body_is_413_declared_or_chunked(client: TestClient, buyer: dict[str, str]) -> None:
    big = b'{"text": "' + b"a" * 100_000 + b'"}'
    declared = raw(client, "/api/chat", big, buyer)
    assert declared.status_code == 413 and "上限" in reason(declared)

    def chunks() -> Any:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    chunked = raw(client, "/api/chat", chunks(), buyer)  # type: ignore[arg-type]
    assert chunked.status_code == 413 and "上限" in reason(chunked)
    assert chunked.headers["x-content-type-options"] == "nosniff"


def test_unknown_routes_and_wrong_methods_answer_in_chinese(client: TestClient) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and reason(missing) == "没有这个地址"
    wrong = client.delete("/api/chat")
    assert wrong.status_code == 405 and "DELETE" in reason(wrong)
    assert wrong.headers["allow"] == "POST"
    # GET and POST of one path are two routes; both are named.
    both = client.put("/api/admin/agents")
    assert both.status_code == 405 and both.headers["allow"] == "GET, POST"


def test_every_route_documents_its_error_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["ErrorOut"]["properties"]["detail"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            missing = {"400", "401", "403", "404", "409", "413", "422", "429"} - documented
            assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"


# --- headers and pages ---------------------------------------------------------------------

SECURITY = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


@pytest.mark.parametrize("path", ["/", "/console", "/static/chat.js", "/healthz", "/api/me", "/nope", "/openapi.json"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    client.cookies.clear()
    response = client.get(path)
    for name in SECURITY:
        assert name in response.headers, f"{path}: no {name}"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


class _Inline(HTMLParser):
    """Collects what a strict content security policy would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on") or name == "style"]
        for name, value in attrs:
            if value and re.match(r"\s*(javascript:|https?://)", value):
                self.found.append(f"{name}={value}")


@pytest.mark.parametrize("page", sorted(p.name for p in Path(STATIC).glob("*.html")))
def test_the_pages_have_no_inline_code_and_no_outside_url(page: str) -> None:
    parser = _Inline()
    parser.feed((Path(STATIC) / page).read_text(encoding="utf-8"))
    assert not parser.found, f"{page}: {parser.found}"


def test_the_docs_pages_load_their_assets_from_the_app(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text), f"{path} links outside the app"
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert assets, path
        for url in assets:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
    docs = client.get("/docs")
    nonce = re.search(r"'nonce-([^']+)'", docs.headers["content-security-policy"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in docs.text
    assert client.get("/docs").headers["content-security-policy"] != docs.headers["content-security-policy"]


def test_a_nul_character_in_the_path_or_query_is_refused_in_chinese(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/conversations/%00", "/api/orders?x=%00", "/api/agent/conversations?status=%00"):
        r = client.get(url)
        assert r.status_code == 400, url
        assert "字符" in r.json()["detail"]
