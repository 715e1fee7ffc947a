"""The database schema's version: Alembic migrations, applied under a lock, checked at start.

``migrations/`` holds the revisions; :func:`prepare` runs at start-up and either brings the
database to the newest revision or refuses to start:

* a revision this code does not know (a newer release migrated the database) is refused,
  whatever the settings say — the code would misread the tables;
* an older revision is upgraded, unless automatic upgrades are off (then ``xiaoer db
  upgrade`` must run first);
* a database made before migrations existed (every table of the first revision, no
  ``alembic_version``) is adopted: stamped at the first revision, then upgraded.

Upgrades hold a lock, so several processes starting at once on one fresh database migrate
it once: a PostgreSQL advisory lock, or a lock file beside a SQLite database.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, inspect, text

from bot.errors import ConfigError
from bot.storage.db import Base, UtcDateTime, load_models

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASE_REVISION = "0001"
# The tables the first revision makes: a database holding all of them and no version table
# was made by ``create_all`` before migrations, and is adopted.
BASE_TABLES = frozenset({
    "account_agents", "account_revoked_tokens",
    "conv_conversations", "conv_messages", "conv_turns",
    "order_buyers", "order_idempotency", "order_ledger", "order_meta", "order_orders",
    "order_tickets",
    "sugg_suggestions",
})
VERSION_TABLE = "alembic_version"
ADVISORY_LOCK_KEY = 0x7869616F6572  # "xiaoer" in ASCII: one key for every xiaoer database


class SchemaUnknown(ConfigError):
    """The database is at a revision this code does not know, or is not a xiaoer database."""


class SchemaBehind(ConfigError):
    """The database needs ``xiaoer db upgrade`` and automatic upgrades are off."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands: its revision (None when it has none) and the newest one."""

    current: str | None
    head: str
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for the packaged migrations (no ``alembic.ini`` needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Revisions spell the stored types plainly, so they never import application code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(context: Any, inspected: Any, metadata_column: Any, inspected_type: Any,
                 metadata_type: Any) -> bool | None:
    """``UtcDateTime`` is a ``timestamptz`` (naive UTC on SQLite, which has no zone type)."""
    if isinstance(metadata_type, UtcDateTime):
        if isinstance(inspected_type, DateTime):
            return context.dialect.name != "sqlite" and not inspected_type.timezone
        return True
    return None


def differences(engine: Engine) -> list[str]:
    """What a new revision would have to do to bring the migrated ``engine`` to the models,
    one line per operation; empty when migrations and models agree."""
    from alembic.autogenerate import compare_metadata

    load_models()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        ops = compare_metadata(ctx, Base.metadata)
    return [_describe(op) for op in ops]


def _describe(op: Any) -> str:
    if isinstance(op, list):  # column modifications come grouped
        return "; ".join(_describe(o) for o in op)
    kind, *rest = op
    names = []
    for item in rest:
        name = getattr(item, "name", None) or (item if isinstance(item, str) else None)
        if getattr(item, "table", None) is not None and getattr(item.table, "name", None):
            name = f"{item.table.name}.{name}"
        if name:
            names.append(str(name))
    return f"{kind} {' '.join(names)}".strip()


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    heads = scripts().get_heads()
    if len(heads) != 1:
        raise ConfigError(f"迁移有多个最新版本 / migrations have several heads: {', '.join(heads)}")
    return heads[0]


def status(engine: Engine) -> SchemaStatus:
    with engine.connect() as conn:
        return _status(conn)


def _status(conn: Connection) -> SchemaStatus:
    current = MigrationContext.configure(conn).get_current_revision()
    known = current is None or _knows(current)
    return SchemaStatus(current=current, head=head(), known=known)


def _knows(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an id it cannot resolve
        return False


def upgrade(engine: Engine, revision: str = "head") -> SchemaStatus:
    """Migrate to ``revision`` under the lock; refuses a database of an unknown revision."""
    with _locked(engine) as conn:
        state = _status(conn)
        if not state.known:
            raise _unknown(state)
        config = alembic_config()
        config.attributes["connection"] = conn
        if state.current is None:
            _adopt(conn, config)
        conn.commit()
        command.upgrade(config, revision)
        conn.commit()
        return _status(conn)


def prepare(engine: Engine, *, auto_upgrade: bool = True) -> SchemaStatus:
    """Make the database ready for this code at start-up, or refuse with a clear reason."""
    state = status(engine)
    if not state.known:
        raise _unknown(state)
    if state.up_to_date:
        return state
    if not auto_upgrade:
        raise SchemaBehind(
            f"数据库结构版本 {state.current or '无'} 落后于 {state.head}，请先运行 xiaoer db upgrade / "
            f"the database schema is at {state.current or 'no revision'}, this code needs "
            f"{state.head}: run `xiaoer db upgrade` first (automatic upgrades are off)"
        )
    done = upgrade(engine)
    log.info("数据库结构已升级 / schema upgraded: %s → %s", state.current, done.current)
    return done


def _unknown(state: SchemaStatus) -> SchemaUnknown:
    return SchemaUnknown(
        f"数据库结构版本 {state.current} 不认识（可能由更新的版本迁移过），拒绝启动 / the database "
        f"schema is at revision {state.current}, which this code does not know (a newer release "
        f"migrated it?); refusing to start. Newest known revision: {state.head}"
    )


def _adopt(conn: Connection, config: Config) -> None:
    """Stamp a database made by ``create_all`` before migrations; refuse a half-made one."""
    present = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    ours = present & BASE_TABLES
    if not ours:
        return
    if ours != BASE_TABLES:
        missing = ", ".join(sorted(BASE_TABLES - ours))
        raise SchemaUnknown(
            f"数据库缺少表 {missing}，且没有结构版本，无法判断如何升级 / the database has some of "
            f"xiaoer's tables but not {missing}, and no schema revision: cannot tell how to upgrade it"
        )
    conn.commit()
    command.stamp(config, BASE_REVISION)
    log.warning("迁移前创建的数据库已标记为 %s / a database made before migrations was stamped %s",
                BASE_REVISION, BASE_REVISION)


@contextlib.contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One connection holding the migration lock for as long as the block runs."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        from filelock import FileLock

        with FileLock(f"{database}.migrate.lock"), engine.connect() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn
