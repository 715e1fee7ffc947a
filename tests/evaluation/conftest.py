"""A scripted stand-in for the bot (same interface as ``bot.services.Services``), and a real
HTTP server speaking the eval API over it — so the runner is tested alone, both ways."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bot.orders.backend import OrdersExport
from bot.shop import Shop, load_shop
from bot.shop.models import Order
from bot.turns import TurnResult

HERE = Path(__file__).resolve().parent
MINI_SHOP = HERE.parent / "fixtures" / "mini_shop"


@dataclass
class Line:
    """What the scripted bot does when the buyer's text contains ``when``."""

    when: str
    reply: str
    intent: str
    action: str | None = None
    handoff: bool = False
    effect: Callable[[dict[str, Order]], None] | None = None


def close_order(tid: str) -> Callable[[dict[str, Order]], None]:
    def apply(orders: dict[str, Order]) -> None:
        orders[tid] = orders[tid].model_copy(update={"status": "TRADE_CLOSED"})

    return apply


DEFAULT_SCRIPT = [
    Line("你好", "亲，您好，我是小山～", "greeting"),
    Line("龙井多少钱", "亲，明前西湖龙井 250g 现价 168.00 元", "price_promotion"),
    Line("不要了", "亲，订单 7003 还没付款，确认取消吗？", "cancel_order"),
    Line("确认", "好的亲，订单 7003 已取消", "confirm", "order.cancel", effect=close_order("7003")),
    Line("乱取消", "好的亲，已取消", "confirm", "order.cancel", effect=close_order("7001")),
    Line("人工", "亲，已为您转接人工客服", "human_agent", "handoff", handoff=True),
    Line("差评", "亲，非常抱歉，已为您转接人工客服，加微信 abc 私聊", "complaint", "handoff", handoff=True),
    Line("崩溃", "", "other"),
]


class ScriptedBot:
    def __init__(self, services: FakeServices, script: list[Line]) -> None:
        self._services = services
        self._script = script
        self.calls = 0

    def start_conversation(self, buyer_id: str) -> str:
        if buyer_id not in self._services.shop.buyers:
            raise LookupError(buyer_id)
        self._services.conversations += 1
        return f"c{self._services.conversations}"

    def handle(self, conversation_id: str, buyer_id: str, text: str) -> TurnResult:
        self.calls += 1
        if "崩溃" in text:
            raise RuntimeError("the bot fell over")
        line = next((l for l in self._script if l.when in text), None)
        if line is None:
            return TurnResult(conversation_id=conversation_id, turn_id=f"t{self.calls}",
                              reply="亲，这个我不太清楚，帮您转人工？", intent="other", latency_ms=5.0)
        if line.effect is not None:
            line.effect(self._services.current)
        return TurnResult(
            conversation_id=conversation_id, turn_id=f"t{self.calls}", reply=line.reply,
            intent=line.intent, action=line.action, handoff=line.handoff,
            latency_ms=float(10 * (1 + self.calls % 5)),
        )


class FlakyBot(ScriptedBot):
    """Gets the greeting's intent right only every other time (an LLM-like bot)."""

    def handle(self, conversation_id: str, buyer_id: str, text: str) -> TurnResult:
        result = super().handle(conversation_id, buyer_id, text)
        if self.calls % 2 == 0:
            result = result.model_copy(update={"intent": "chitchat"})
        return result


@dataclass
class FakeOrders:
    services: FakeServices

    def export(self) -> OrdersExport:
        shop = self.services.shop
        return OrdersExport(buyers=list(shop.buyers.values()), orders=list(self.services.current.values()))


@dataclass
class FakeServices:
    shop: Shop
    script: list[Line] = field(default_factory=lambda: list(DEFAULT_SCRIPT))
    flaky: bool = False
    now: datetime | None = None
    conversations: int = 0
    resets: int = 0
    current: dict[str, Order] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bot = (FlakyBot if self.flaky else ScriptedBot)(self, self.script)
        self.orders = FakeOrders(self)
        self.reset_for_case(datetime.fromisoformat("2026-11-21T10:00:00+08:00"))
        self.resets = 0

    def reset_for_case(self, now: datetime) -> None:
        self.now = now
        self.resets += 1
        self.current = {o.tid: o.model_copy(deep=True) for o in self.shop.orders}


@pytest.fixture(scope="session")
def tea_shop() -> Shop:
    return load_shop(MINI_SHOP)


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[..., Path]:
    """Write a suite over the mini shop into tmp_path and return its path."""

    def write(body: str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"suite: 测试\nshop: {MINI_SHOP.as_posix()}\nnow: 2026-11-21T10:00:00+08:00\n"
        path.write_text(header + body, encoding="utf-8")
        return path

    return write


class _EvalApi(BaseHTTPRequestHandler):
    services: FakeServices

    def log_message(self, *args: Any) -> None:  # keep test output clean
        return None

    def _send(self, status: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self) -> None:
        s = self.services
        if self.path == "/api/eval/shop":
            self._send(200, {"name": s.shop.info.name, "root": str(s.shop.root)})
        elif self.path == "/api/eval/orders":
            self._send(200, s.orders.export().model_dump(mode="json"))
        else:
            self._send(404, {"detail": "not found"})

    def do_POST(self) -> None:
        s = self.services
        body = self._body()
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.path == "/api/eval/reset":
            s.reset_for_case(datetime.fromisoformat(body["now"]))
            self._send(200, {"ok": True})
        elif self.path == "/api/auth/demo-login":
            if body["buyer_id"] not in s.shop.buyers:
                self._send(404, {"detail": "no such buyer"})
            else:
                self._send(200, {"token": f"tok-{body['buyer_id']}"})
        elif self.path == "/api/conversations":
            self._send(200, {"conversation_id": s.bot.start_conversation(token.removeprefix("tok-"))})
        elif self.path == "/api/chat":
            try:
                result = s.bot.handle(body["conversation_id"], token.removeprefix("tok-"), body["text"])
            except RuntimeError as exc:
                self._send(500, {"detail": str(exc)})
                return
            self._send(200, result.model_dump(mode="json"))
        else:
            self._send(404, {"detail": "not found"})


@pytest.fixture
def eval_server(tea_shop: Shop) -> Iterator[tuple[str, FakeServices]]:
    """A real HTTP server on localhost serving the eval API over the scripted bot."""
    services = FakeServices(tea_shop)
    handler = type("Handler", (_EvalApi,), {"services": services})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", services
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FakeKit:
    """The fakes, handed to tests as a fixture (test modules cannot import conftest)."""

    Services = FakeServices
    Line = Line
    script = tuple(DEFAULT_SCRIPT)

    @staticmethod
    def close_order(tid: str) -> Callable[[dict[str, Order]], None]:
        return close_order(tid)


@pytest.fixture
def fake() -> FakeKit:
    return FakeKit()
