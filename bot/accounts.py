"""Accounts of the shop's human agents and admins, for the agent console.

Passwords are hashed with argon2id (argon2-cffi); the hash never leaves this module. Login
checks take about the same time whether or not the username exists, and a hash made with
weaker parameters is upgraded at the next successful login.
"""

from __future__ import annotations

import builtins
import re
from functools import cached_property
from datetime import datetime, timezone
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import Column, Engine, RowMapping, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, SystemClock
from bot.storage.db import UtcDateTime
from bot.errors import Conflict, NotFound, TellCustomer
from bot.storage.db import Base

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
)


class Account(BaseModel):
    """What the rest of the system sees of an account (never the password hash); times in UTC."""

    username: str
    role: AccountRole
    created: datetime


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
        self._clock = clock or SystemClock()
        self._hasher = hasher or PasswordHasher()
        Base.metadata.create_all(engine, tables=[accounts_table])

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
        """The account when the password is right, else None (same answer for unknown users)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(accounts_table).where(accounts_table.c.username == username.strip())
            ).first()
        if row is None:
            self._check(None, password)
            return None
        stored: str = row._mapping["password_hash"]
        if not self._check(stored, password):
            return None
        if self._hasher.check_needs_rehash(stored):
            self._store_hash(row._mapping["username"], self._hasher.hash(password))
        return _account(row._mapping)

    def get(self, username: str) -> Account | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(accounts_table).where(accounts_table.c.username == username)
            ).first()
        return _account(row._mapping) if row is not None else None

    def list(self) -> builtins.list[Account]:
        """Every account, by username."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(accounts_table).order_by(accounts_table.c.username)).all()
        return [_account(r._mapping) for r in rows]

    def set_password(self, username: str, password: str) -> None:
        """Replace the password; :class:`NotFound` for an unknown username."""
        _check_password(password)
        if not self._store_hash(username, self._hasher.hash(password)):
            raise NotFound(f"没有账号 {username}")

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

    def _store_hash(self, username: str, password_hash: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(accounts_table)
                .where(accounts_table.c.username == username)
                .values(password_hash=password_hash)
            )
        return result.rowcount > 0


def _account(row: RowMapping) -> Account:
    return Account(username=row["username"], role=row["role"], created=row["created"])


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
