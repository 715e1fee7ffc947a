"""Accounts of the shop's human agents and admins, for the agent console.

Passwords are hashed with argon2id (argon2-cffi); the hash never leaves this module. Login
checks take about the same time whether or not the username exists, and a hash made with
weaker parameters is upgraded at the next successful login.

Each account has a token version that its tokens carry: disabling the account or changing
its password bumps it, so every token issued before stops working. Single tokens revoked at
logout are kept in :class:`RevokedTokens` until they would have expired anyway.
"""

from __future__ import annotations

import builtins
import re
from functools import cached_property
from datetime import datetime, timezone
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    RowMapping,
    String,
    Table,
    delete,
    inspect,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.clock import Clock, SystemClock
from bot.errors import Conflict, NotFound, TellCustomer
from bot.storage.db import Base, UtcDateTime, reader

AccountRole = Literal["agent", "admin"]
_ROLES: frozenset[str] = frozenset(get_args(AccountRole))
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # bounds the hashing work one request can ask for
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")

accounts_table = Table(
    "account_agents",
    Base.metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("token_version", Integer, nullable=False, server_default=text("0")),
    Column("disabled_at", UtcDateTime, nullable=True),
)

revoked_tokens_table = Table(
    "account_revoked_tokens",
    Base.metadata,
    Column("token_id", String(64), primary_key=True),
    Column("expires", UtcDateTime, nullable=False, index=True),
)


class Account(BaseModel):
    """What the rest of the system sees of an account (never the password hash); times in UTC."""

    username: str
    role: AccountRole
    created: datetime
    disabled: bool = False
    token_version: int = Field(default=0, exclude=True)  # compared with the one a token carries


class AccountStore:
    """Agent and admin accounts in the ``account_agents`` table."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("AccountStore needs a sqlalchemy Engine")
        self._engine = engine
        self._read = reader(engine)  # read-only work: no transaction round trips
        self._clock = clock or SystemClock()
        self._hasher = hasher or PasswordHasher()
        Base.metadata.create_all(engine, tables=[accounts_table])
        _add_missing_columns(engine)
        self.revoked = RevokedTokens(engine)

    @cached_property
    def _dummy_hash(self) -> str:
        """Checked when the username is unknown, so both paths cost one hash check."""
        return self._hasher.hash("xiaoer-no-such-account")

    def create(self, username: str, password: str, role: AccountRole = "agent") -> Account:
        """Add an account; :class:`Conflict` when the username is taken."""
        username = _check_username(username)
        if role not in _ROLES:
            raise TellCustomer("角色只能是 agent 或 admin")
        _check_password(password)
        row = {
            "username": username,
            "role": role,
            "password_hash": self._hasher.hash(password),
            "created": self._clock.now(),
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(accounts_table).values(**row))
        except IntegrityError as exc:
            raise Conflict(f"用户名 {username} 已被使用") from exc
        return Account(username=username, role=role, created=row["created"].astimezone(timezone.utc))

    def verify(self, username: str, password: str) -> Account | None:
        """The account when the password is right and the account is enabled, else None
        (the same answer, after the same work, for unknown users)."""
        with self._read.connect() as conn:
            row = conn.execute(
                select(accounts_table).where(accounts_table.c.username == username.strip())
            ).first()
        if row is None:
            self._check(None, password)
            return None
        stored: str = row._mapping["password_hash"]
        if not self._check(stored, password) or row._mapping["disabled_at"] is not None:
            return None
        if self._hasher.check_needs_rehash(stored):
            self._store_hash(row._mapping["username"], self._hasher.hash(password), sign_out=False)
        return _account(row._mapping)

    def get(self, username: str) -> Account | None:
        with self._read.connect() as conn:
            row = conn.execute(
                select(accounts_table).where(accounts_table.c.username == username)
            ).first()
        return _account(row._mapping) if row is not None else None

    def list(self) -> builtins.list[Account]:
        """Every account, by username."""
        with self._read.connect() as conn:
            rows = conn.execute(select(accounts_table).order_by(accounts_table.c.username)).all()
        return [_account(r._mapping) for r in rows]

    def set_password(self, username: str, password: str) -> None:
        """Replace the password and sign the account out everywhere; :class:`NotFound` for an
        unknown username."""
        _check_password(password)
        if not self._store_hash(username, self._hasher.hash(password), sign_out=True):
            raise NotFound(f"没有账号 {username}")

    def disable(self, username: str) -> Account:
        """Stop the account from logging in; every token it holds stops working at once."""
        return self._set_disabled(username, self._clock.now())

    def enable(self, username: str) -> Account:
        """Let a disabled account log in again (its old tokens stay invalid)."""
        return self._set_disabled(username, None)

    def _set_disabled(self, username: str, at: datetime | None) -> Account:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(accounts_table)
                .where(accounts_table.c.username == username)
                .values(disabled_at=at, token_version=accounts_table.c.token_version + 1)
            )
        account = self.get(username) if result.rowcount > 0 else None
        if account is None:
            raise NotFound(f"没有账号 {username}")
        return account

    def _check(self, stored: str | None, password: str) -> bool:
        """Always one hash check (``stored`` None = unknown user), so timing tells nothing."""
        usable = (
            stored is not None
            and isinstance(password, str)
            and len(password) <= MAX_PASSWORD_CHARS
        )
        try:
            matched = self._hasher.verify(
                stored if usable else self._dummy_hash,  # type: ignore[arg-type]
                password if usable else "",
            )
        except (VerificationError, InvalidHashError):
            matched = False
        return usable and matched

    def _store_hash(self, username: str, password_hash: str, *, sign_out: bool) -> bool:
        values: dict[str, object] = {"password_hash": password_hash}
        if sign_out:
            values["token_version"] = accounts_table.c.token_version + 1
        with self._engine.begin() as conn:
            result = conn.execute(
                update(accounts_table).where(accounts_table.c.username == username).values(**values)
            )
        return result.rowcount > 0


class RevokedTokens:
    """Ids of tokens revoked before they expire (logout), in ``account_revoked_tokens``.

    Token lifetimes are wall-clock time (the signature carries the real signing time), so
    this store asks the system clock, never a settable one: a clock moved forward must not
    forget a revocation early.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("RevokedTokens needs a sqlalchemy Engine")
        self._engine = engine
        self._read = reader(engine)  # read-only work: no transaction round trips
        self._clock = clock or SystemClock()
        Base.metadata.create_all(engine, tables=[revoked_tokens_table])

    def revoke(self, token_id: str, expires: datetime) -> None:
        """Refuse the token from now on; revoking it twice changes nothing."""
        if not token_id:
            raise ValueError("token_id must not be empty")
        now = self._clock.now()
        if expires > now:  # an expired token is refused by its signature check anyway
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(revoked_tokens_table).values(token_id=token_id, expires=expires))
            except IntegrityError:
                pass  # already revoked
        with self._engine.begin() as conn:
            conn.execute(delete(revoked_tokens_table).where(revoked_tokens_table.c.expires <= now))

    def is_revoked(self, token_id: str) -> bool:
        with self._read.connect() as conn:
            row = conn.execute(
                select(revoked_tokens_table.c.token_id).where(revoked_tokens_table.c.token_id == token_id)
            ).first()
        return row is not None


def _add_missing_columns(engine: Engine) -> None:
    """Bring an ``account_agents`` table made by an earlier version up to date."""
    present = {c["name"] for c in inspect(engine).get_columns(accounts_table.name)}
    for column in accounts_table.columns:
        if column.name in present:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        default = f" DEFAULT {column.server_default.arg.text}" if column.server_default is not None else ""  # type: ignore[attr-defined]
        null = "" if column.nullable else " NOT NULL"
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {accounts_table.name} ADD COLUMN {column.name} {kind}{default}{null}"))
        except (OperationalError, ProgrammingError):
            # another process added it first
            if column.name not in {c["name"] for c in inspect(engine).get_columns(accounts_table.name)}:
                raise


def _account(row: RowMapping) -> Account:
    return Account(
        username=row["username"],
        role=row["role"],
        created=row["created"],
        disabled=row["disabled_at"] is not None,
        token_version=row["token_version"],
    )


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise TellCustomer("用户名需为2到64位的字母、数字、汉字或 . _ - @")
    return username


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise TellCustomer(f"密码至少需要{MIN_PASSWORD_CHARS}位")
    if len(password) > MAX_PASSWORD_CHARS:
        raise TellCustomer(f"密码不能超过{MAX_PASSWORD_CHARS}位")
