"""A real OpenAI-compatible HTTP server for tests, scripted per test.

It speaks ``POST /v1/chat/completions`` (streaming and not) and ``POST /v1/embeddings`` so the
real ``openai`` and ``langchain`` client code runs end to end. Script the next replies with
:meth:`FakeOpenAI.script`; a call with nothing scripted gets a 500 (so unexpected calls show).

    with FakeOpenAI() as server:
        server.script(Reply("亲，有货的～"), Reply(status=429), Reply(malformed=True))
        ChatOpenAI(base_url=server.base_url, api_key="test", model="fake")...
        server.requests  # every request body received, in order
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer to the next chat completion request."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0  # before anything is sent (a slow model / a timeout)
    chunk_delay_s: float = 0.0  # between streamed chunks
    chunk_chars: int = 2  # characters per streamed chunk
    malformed: bool = False  # a body that is not valid JSON
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted error"

    @classmethod
    def rate_limited(cls) -> Reply:
        # retry-after-ms keeps the client's back-off short in tests.
        return cls(status=429, error="rate limited", headers={"retry-after-ms": "10"})

    @classmethod
    def server_error(cls) -> Reply:
        return cls(status=500, error="internal error", headers={"retry-after-ms": "10"})


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeOpenAI:
    def __init__(self, *, embedding_dim: int = 16, model: str = "fake-model") -> None:
        if embedding_dim <= 0:
            raise ValueError("embedding_dim must be positive")
        self.embedding_dim = embedding_dim
        self.model = model
        self.requests: list[Received] = []
        self._chat: deque[Reply] = deque()
        self._embed: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------------------------

    def script(self, *replies: Reply | str) -> None:
        with self._lock:
            self._chat.extend(Reply(r) if isinstance(r, str) else r for r in replies)

    def clear(self) -> None:
        """Drop the chat replies scripted and not used (a module-wide server between tests)."""
        with self._lock:
            self._chat.clear()

    def script_embeddings(self, *replies: Reply) -> None:
        """Errors for the next embedding calls; without a script embeddings always succeed."""
        with self._lock:
            self._embed.extend(replies)

    @property
    def chat_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def pending(self) -> int:
        return len(self._chat)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    # --- internals -------------------------------------------------------------------------

    def _next(self, queue: deque[Reply]) -> Reply | None:
        with self._lock:
            return queue.popleft() if queue else None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def embedding(self, text: str) -> list[float]:
        """A deterministic unit-length vector per text."""
        digest = hashlib.sha256(text.encode()).digest()
        raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(self.embedding_dim)]
        norm = sum(v * v for v in raw) ** 0.5 or 1.0
        return [v / norm for v in raw]


def _make_handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, reply: Reply) -> None:
            self._json(reply.status, {"error": {"message": reply.error, "type": "fake_error", "code": reply.status}}, reply.headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {}
            server.requests.append(Received(self.path, body, {k.lower(): v for k, v in self.headers.items()}))
            if self.path.endswith("/chat/completions"):
                self._chat(body)
            elif self.path.endswith("/embeddings"):
                self._embeddings(body)
            else:
                self._json(404, {"error": {"message": f"unknown path {self.path}"}})

        def _chat(self, body: dict[str, Any]) -> None:
            reply = server._next(server._chat) or Reply(status=500, error="nothing scripted for this call")
            server._sleep(reply.delay_s)
            if server._stopping.is_set():
                return
            if reply.status != 200:
                self._error(reply)
                return
            if body.get("stream"):
                self._stream(reply, body)
                return
            if reply.malformed:
                self._json(200, b'{"id": "x", "choices": [{"message": ')
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", server.model),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": len(reply.text), "total_tokens": 10 + len(reply.text)},
                },
                reply.headers,
            )

        def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()

            def event(payload: Any) -> None:
                data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                return {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", server.model),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }

            try:
                event(chunk({"role": "assistant", "content": ""}))
                if reply.malformed:
                    event('{"id": "chatcmpl-fake", "choices": [{"delta": ')
                    return
                step = max(1, reply.chunk_chars)
                for i in range(0, len(reply.text), step):
                    if i:
                        server._sleep(reply.chunk_delay_s)
                    event(chunk({"content": reply.text[i : i + step]}))
                event(chunk({}, "stop"))
                event("[DONE]")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _embeddings(self, body: dict[str, Any]) -> None:
            reply = server._next(server._embed)
            if reply is not None:
                server._sleep(reply.delay_s)
                if reply.status != 200:
                    self._error(reply)
                    return
                if reply.malformed:
                    self._json(200, b'{"data": [')
                    return
            inputs = body.get("input", [])
            if isinstance(inputs, str):
                inputs = [inputs]
            data = [
                {"object": "embedding", "index": i, "embedding": server.embedding(str(t))}
                for i, t in enumerate(inputs)
            ]
            self._json(
                200,
                {"object": "list", "data": data, "model": body.get("model", server.model),
                 "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}},
            )

    return Handler
