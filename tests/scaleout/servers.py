"""Real PostgreSQL, Redis and chroma servers as processes on loopback, and xiaoer processes.

Each server is started from its own binary in a fresh directory and stopped on exit; a
missing binary skips the test with the reason (``.ci/scaleout-deps`` installs them in CI).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _wait(check: object, what: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout_s:.0f}s")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --- PostgreSQL ------------------------------------------------------------------------------


@dataclass
class Postgres:
    port: int
    admin_url: str
    _count: int = 0

    def fresh_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        self._count += 1
        name = f"xiaoer_{os.getpid()}_{self._count}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://xiaoer@127.0.0.1:{self.port}/{name}"


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("postgres")
    return Path(which).parent if which else None


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL 未安装 / no postgres binary (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="xiaoer-pg-"))
    as_user: dict[str, int] = {}
    if os.geteuid() == 0:  # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chmod(base, 0o755)
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = {"user": user.pw_uid, "group": user.pw_gid}
    data = base / "data"
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "xiaoer", "--no-sync",
         "-E", "UTF8", "--locale=C"],
        check=True, capture_output=True, cwd=base, **as_user,  # type: ignore[call-overload]
    )
    port = free_port()
    proc = subprocess.Popen(  # the server itself, so stopping it stops every backend
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(base), "-c", "fsync=off", "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=base, **as_user,  # type: ignore[call-overload]
    )
    admin = f"postgresql://xiaoer@127.0.0.1:{port}/postgres"

    def ready() -> bool:
        import psycopg

        with psycopg.connect(admin, connect_timeout=2):
            return True

    try:
        _wait(ready, "postgres", proc)
        yield Postgres(port=port, admin_url=admin)
    finally:
        _stop(proc, signal.SIGINT, timeout_s=60)  # fast shutdown: ends sessions, then exits
        shutil.rmtree(base, ignore_errors=True)


# --- Redis -----------------------------------------------------------------------------------


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server 未安装 / no redis-server binary (apt-get install redis-server)")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="xiaoer-redis-"))
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def ready() -> bool:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())

    try:
        _wait(ready, "redis-server", proc)
        yield url
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


# --- chroma ----------------------------------------------------------------------------------


@contextmanager
def chroma_server() -> Iterator[str]:
    binary = VENV_BIN / "chroma"
    if not binary.exists():
        pytest.skip("chroma 命令不存在 / no chroma binary (pip install chromadb)")
    port = free_port()
    path = Path(tempfile.mkdtemp(prefix="xiaoer-chroma-"))
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200

    try:
        _wait(ready, "chroma", proc)
        yield url
    finally:
        _stop(proc, signal.SIGINT)
        shutil.rmtree(path, ignore_errors=True)


# --- xiaoer ----------------------------------------------------------------------------------


@dataclass
class Xiaoer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        _stop(self.proc, sig, timeout_s)
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def xiaoer_env(tmp: Path, **settings: str) -> dict[str, str]:
    """The environment of a xiaoer process: the test's key, no model, the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XIAOER_", "OPENAI_"))}
    env.update({
        "XIAOER_SECRET_KEY": "xiaoer-scaleout-tests-signing-key-0123456789",
        "XIAOER_DEMO": "true",
        "XIAOER_RATE_LIMITS": "false",
        "XIAOER_DATA_DIR": str(tmp),
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"XIAOER_{k.upper()}": v for k, v in settings.items()})
    return env


def start_xiaoer(env: dict[str, str], log: Path, *args: str, wait: bool = True,
                 timeout_s: float = 240.0) -> Xiaoer:
    """``xiaoer serve`` as its own process on a free port; returns once ``/readyz`` is 200."""
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "xiaoer"), "serve", "--port", str(port), *args],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
    )
    server = Xiaoer(url=f"http://127.0.0.1:{port}", proc=proc, log=log, env=env)
    if wait:
        wait_ready(server, timeout_s)
    return server


def wait_ready(server: Xiaoer, timeout_s: float = 240.0) -> None:
    def ready() -> bool:
        return httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200

    try:
        _wait(ready, f"xiaoer at {server.url}", server.proc, timeout_s)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}\n{server.output()[-3000:]}") from None
