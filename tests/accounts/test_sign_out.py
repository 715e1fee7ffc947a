"""What signs an agent out: disabling (token version bumped, login refused), a new password,
and single revoked tokens kept until they would have expired. On every test database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine, text

from bot.accounts import AccountStore, RevokedTokens
from bot.clock import FrozenClock
from bot.errors import NotFound
from bot.storage.db import make_engine

CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture
def store(sql_engine: Engine, clock: FrozenClock) -> AccountStore:
    return AccountStore(sql_engine, clock=clock, hasher=CHEAP)


def test_a_disabled_account_cannot_log_in_and_its_token_version_moves_on(store: AccountStore) -> None:
    created = store.create("alice", "correct horse", "agent")
    assert created.token_version == 0 and not created.disabled
    disabled = store.disable("alice")
    assert disabled.disabled and disabled.token_version == 1
    assert store.verify("alice", "correct horse") is None
    assert store.get("alice").disabled  # type: ignore[union-attr]
    enabled = store.enable("alice")
    assert not enabled.disabled and enabled.token_version == 2  # tokens from before stay invalid
    assert store.verify("alice", "correct horse") is not None
    with pytest.raises(NotFound):
        store.disable("nobody")
    with pytest.raises(NotFound):
        store.enable("nobody")


def test_a_new_password_moves_the_token_version_but_a_rehash_does_not(store: AccountStore) -> None:
    store.create("alice", "correct horse", "agent")
    store.set_password("alice", "battery staple")
    assert store.get("alice").token_version == 1  # type: ignore[union-attr]
    assert store.verify("alice", "battery staple").token_version == 1  # type: ignore[union-attr]


def test_the_token_version_is_not_shown(store: AccountStore) -> None:
    account = store.create("alice", "correct horse", "agent")
    assert set(account.model_dump()) == {"username", "role", "created", "disabled"}


def test_revoked_tokens_are_kept_until_they_expire(sql_engine: Engine) -> None:
    now = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
    clock = FrozenClock(now)
    revoked = RevokedTokens(sql_engine, clock=clock)
    revoked.revoke("t1", now + timedelta(hours=1))
    revoked.revoke("t1", now + timedelta(hours=1))  # twice changes nothing
    revoked.revoke("t-old", now - timedelta(seconds=1))  # already expired: nothing to keep
    assert revoked.is_revoked("t1") and not revoked.is_revoked("t2") and not revoked.is_revoked("t-old")
    clock.set(now + timedelta(hours=2))
    revoked.revoke("t2", now + timedelta(hours=3))  # each revocation forgets expired ones
    assert not revoked.is_revoked("t1") and revoked.is_revoked("t2")
    with pytest.raises(ValueError):
        revoked.revoke("", now)


def test_a_table_from_an_earlier_version_is_brought_up_to_date(tmp_path: Path, clock: FrozenClock) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE account_agents (username VARCHAR(64) PRIMARY KEY, role VARCHAR(16) NOT NULL, "
            "password_hash VARCHAR(255) NOT NULL, created DATETIME NOT NULL)"
        ))
        conn.execute(text(
            "INSERT INTO account_agents VALUES ('alice', 'admin', :h, '2026-11-20 01:00:00')"
        ), {"h": CHEAP.hash("correct horse")})
    store = AccountStore(engine, clock=clock, hasher=CHEAP)
    account = store.verify("alice", "correct horse")
    assert account is not None and account.role == "admin" and account.token_version == 0
    assert store.disable("alice").token_version == 1
    AccountStore(engine, clock=clock, hasher=CHEAP)  # a second start finds nothing to add
