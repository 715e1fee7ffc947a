"""Storage tests on a fresh SQLite file and, from one server per module, a fresh PostgreSQL
database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.storage.db import make_engine
from tests.scaleout.servers import Postgres, postgres_server


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'xiaoer.db'}"
    else:
        url = request.getfixturevalue("postgres").fresh_database()
    e = make_engine(url)
    yield e
    e.dispose()
