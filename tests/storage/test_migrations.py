"""The migrations make exactly the schema the models declare, on SQLite and PostgreSQL; a
database of an unknown revision is refused; concurrent upgrades of one database succeed."""

from __future__ import annotations

import importlib
import pkgutil
import threading

import pytest
from sqlalchemy import Engine, inspect, text

import bot
from bot.storage import schema
from bot.storage.db import Base, create_all, load_models, make_engine


def _import_every_module() -> None:
    """Every module of the package, so a table declared anywhere is on ``Base``."""
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)


def test_every_table_module_is_listed_for_migrations() -> None:
    load_models()
    listed = set(Base.metadata.tables)
    _import_every_module()
    unlisted = sorted(set(Base.metadata.tables) - listed)
    assert not unlisted, (
        f"tables declared outside bot.storage.db.MODEL_MODULES: {unlisted} — add their module there"
    )


def test_migrations_make_the_schema_of_the_models(engine: Engine) -> None:
    _import_every_module()
    state = schema.upgrade(engine)
    assert state.current == schema.head() and state.up_to_date
    diffs = schema.differences(engine)
    assert not diffs, (
        "models and migrations differ; write a revision with `xiaoer db revision \"what changed\"`:\n  "
        + "\n  ".join(diffs)
    )


def test_first_revision_makes_the_base_tables(engine: Engine) -> None:
    schema.upgrade(engine, schema.BASE_REVISION)
    tables = set(inspect(engine).get_table_names())
    assert tables == schema.BASE_TABLES | {schema.VERSION_TABLE}


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    first = schema.upgrade(engine)
    second = schema.upgrade(engine)
    assert first == second and second.up_to_date


def test_a_database_made_before_migrations_is_adopted_with_its_rows(engine: Engine) -> None:
    create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO order_meta (key, value) VALUES ('kept', 'yes')"))
    state = schema.prepare(engine)
    assert state.up_to_date
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM order_meta WHERE key = 'kept'")).scalar() == "yes"


def test_an_unknown_revision_is_refused_in_both_languages(engine: Engine) -> None:
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(schema.SchemaUnknown) as refused:
        schema.prepare(engine)
    assert "f00d" in str(refused.value)
    assert "不认识" in str(refused.value) and "does not know" in str(refused.value)
    with pytest.raises(schema.SchemaUnknown):
        schema.upgrade(engine)


def test_a_database_behind_is_refused_when_upgrades_are_off(engine: Engine) -> None:
    with pytest.raises(schema.SchemaBehind) as refused:
        schema.prepare(engine, auto_upgrade=False)
    assert "xiaoer db upgrade" in str(refused.value)
    assert schema.status(engine).current is None  # nothing was made


def test_a_half_made_database_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE order_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(255))"))
    with pytest.raises(schema.SchemaUnknown, match="order_orders"):
        schema.prepare(engine)


def test_concurrent_upgrades_of_one_fresh_database_all_succeed(engine: Engine) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def upgrade() -> None:
        own = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            start.wait()
            schema.prepare(own)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert schema.status(engine).up_to_date
