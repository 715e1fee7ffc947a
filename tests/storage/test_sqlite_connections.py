"""SQLite files: connections opened together on a fresh file all get it, in WAL mode."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from bot.storage.db import make_engine


def test_connections_opened_together_on_a_fresh_file_all_succeed(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it to itself and SQLite does not wait for that; eight
    # engines connecting at once, a hundred times, found "database is locked" every few rounds
    # before the switch was retried.
    failures: list[BaseException] = []
    for round_ in range(100):
        url = f"sqlite:///{tmp_path}/r{round_}.db"
        start = threading.Barrier(8)

        def write() -> None:
            engine = make_engine(url)
            try:
                start.wait()
                with engine.begin() as conn:
                    conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                    conn.execute(text("INSERT INTO t VALUES (1)"))
            except BaseException as exc:  # collected and reported below
                failures.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=write) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 8
        engine.dispose()
    assert not failures, failures[:3]
