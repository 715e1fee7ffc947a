"""A scheduled job runs once per due moment with two processes ticking together: the Redis
lease keeps the second out while the first works (without it both do the work)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.scaleout.conftest import Backends

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]
SLOTS = 5


def _run_two(backends: Backends, lease: str) -> tuple[list[int], list[tuple[str, int]]]:
    url = backends.postgres.fresh_database()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE slot_reports (slot TEXT NOT NULL, pid INTEGER NOT NULL)"))
    start_at = time.time() + 6  # both processes are up and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scaleout.tick_worker", url, lease, str(start_at), str(SLOTS)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        done.append(int(out.strip().splitlines()[-1]))
    with engine.connect() as conn:
        rows = [(r[0], r[1]) for r in conn.execute(text("SELECT slot, pid FROM slot_reports"))]
    engine.dispose()
    return done, rows


def test_with_the_redis_lease_each_due_moment_runs_once(backends: Backends) -> None:
    done, rows = _run_two(backends, backends.redis_url)
    assert sum(done) == SLOTS
    assert sorted(slot for slot, _ in rows) == sorted({slot for slot, _ in rows})
    assert len(rows) == SLOTS


def test_without_a_shared_lease_two_processes_would_both_do_the_work(backends: Backends) -> None:
    """The control: the same processes with only a local lock write duplicate reports."""
    done, rows = _run_two(backends, "local")
    assert len(rows) > SLOTS and sum(done) > SLOTS
