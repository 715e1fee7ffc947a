"""Agent accounts: argon2 hashing, login checks, duplicates, password changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine, select

from bot.accounts import Account, AccountStore, accounts_table
from bot.clock import FrozenClock
from bot.errors import Conflict, NotFound, TellCustomer
from bot.storage.db import make_engine

# The cheapest argon2 parameters keep the tests quick; production uses the library defaults.
CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture(params=["memory", "file"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = "sqlite://" if request.param == "memory" else f"sqlite:///{tmp_path / 'acc.db'}"
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: Engine, clock: FrozenClock) -> AccountStore:
    return AccountStore(engine, clock=clock, hasher=CHEAP)


def stored_hash(engine: Engine, username: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            select(accounts_table.c.password_hash).where(accounts_table.c.username == username)
        ).scalar_one()


def test_a_created_account_logs_in_with_its_password_only(
    store: AccountStore, clock: FrozenClock
) -> None:
    created = store.create("alice", "correct horse", "agent")
    assert created == Account(username="alice", role="agent", created=clock.now())
    assert store.verify("alice", "correct horse") == created
    assert store.verify("alice", "wrong password") is None
    assert store.verify("nobody", "correct horse") is None


def test_the_password_is_stored_as_an_argon2_hash(store: AccountStore, engine: Engine) -> None:
    store.create("alice", "correct horse", "admin")
    hashed = stored_hash(engine, "alice")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert "password" not in str(store.get("alice").model_dump())


def test_a_username_is_taken_once(store: AccountStore) -> None:
    store.create("alice", "correct horse", "agent")
    with pytest.raises(Conflict):
        store.create("alice", "another password", "admin")
    assert store.get("alice").role == "agent"


def test_short_passwords_bad_roles_and_bad_usernames_are_refused(store: AccountStore) -> None:
    with pytest.raises(TellCustomer):
        store.create("alice", "short", "agent")
    with pytest.raises(TellCustomer):
        store.create("alice", "correct horse", "owner")  # type: ignore[arg-type]
    with pytest.raises(TellCustomer):
        store.create("has space", "correct horse", "agent")
    assert store.list() == []


def test_list_and_get(store: AccountStore) -> None:
    store.create("小王", "correct horse", "agent")
    store.create("admin", "correct horse", "admin")
    assert [(a.username, a.role) for a in store.list()] == [("admin", "admin"), ("小王", "agent")]
    assert store.get("小王").role == "agent"
    assert store.get("nobody") is None


def test_set_password_replaces_the_old_one(store: AccountStore) -> None:
    store.create("alice", "correct horse", "agent")
    store.set_password("alice", "battery staple")
    assert store.verify("alice", "correct horse") is None
    assert store.verify("alice", "battery staple") is not None
    with pytest.raises(TellCustomer):
        store.set_password("alice", "short")
    with pytest.raises(NotFound):
        store.set_password("nobody", "battery staple")


def test_a_weak_hash_is_upgraded_at_the_next_login(engine: Engine, clock: FrozenClock) -> None:
    AccountStore(engine, clock=clock, hasher=CHEAP).create("alice", "correct horse", "agent")
    stronger = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1)
    store = AccountStore(engine, clock=clock, hasher=stronger)
    assert stronger.check_needs_rehash(stored_hash(engine, "alice"))
    assert store.verify("alice", "correct horse") is not None
    assert not stronger.check_needs_rehash(stored_hash(engine, "alice"))
    assert store.verify("alice", "correct horse") is not None


def test_accounts_survive_a_restart(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"sqlite:///{tmp_path / 'acc.db'}"
    first = AccountStore(make_engine(url), clock=clock, hasher=CHEAP)
    first.create("alice", "correct horse", "admin")
    again = AccountStore(make_engine(url), clock=clock, hasher=CHEAP)
    assert again.verify("alice", "correct horse").role == "admin"
