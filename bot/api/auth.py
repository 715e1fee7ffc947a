"""Signed bearer tokens for buyers and agents (itsdangerous, time-limited), and the signing key.

Every token carries a random id, so one token can be revoked at logout, and an agent's
token carries the account's token version, so disabling the account (or changing its
password) invalidates every token issued before.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.config import Settings
from bot.errors import ConfigError

BUYER_COOKIE = "xiaoer_buyer"
AGENT_COOKIE = "xiaoer_agent"
MIN_SECRET_CHARS = 32
# Keys that were ever published with the source: whoever has the source can sign with them.
PUBLISHED_SECRETS = frozenset({"xiaoer-dev-secret-change-me"})
_KINDS = ("buyer", "agent")
_ROLES = ("buyer", "agent", "admin")


class InsecureSecretKey(ConfigError):
    """No usable ``XIAOER_SECRET_KEY`` outside demo mode; the service refuses to start."""


@dataclass(frozen=True)
class Principal:
    kind: Literal["buyer", "agent"]
    subject: str  # buyer id or agent username
    role: Literal["buyer", "agent", "admin"]
    version: int = 0  # the agent account's token version when the token was issued


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and age were checked (revocation is checked by the caller)."""

    principal: Principal
    token_id: str
    expires: datetime


def _random_token_id() -> str:
    return secrets.token_urlsafe(16)


class TokenSigner:
    def __init__(
        self,
        secret: str,
        ttl_seconds: int,
        *,
        new_token_id: Callable[[], str] = _random_token_id,
    ) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._s = URLSafeTimedSerializer(secret, salt="xiaoer-auth")
        self._ttl = ttl_seconds
        self._new_token_id = new_token_id

    def issue(self, principal: Principal) -> str:
        return self._s.dumps(
            {
                "k": principal.kind,
                "sub": principal.subject,
                "r": principal.role,
                "v": principal.version,
                "jti": self._new_token_id(),
            }
        )

    def verify(self, token: str) -> VerifiedToken | None:
        try:
            data, signed_at = self._s.loads(token, max_age=self._ttl, return_timestamp=True)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict):
            return None
        kind, role, version, token_id = data.get("k"), data.get("r"), data.get("v"), data.get("jti")
        if kind not in _KINDS or role not in _ROLES or not isinstance(data.get("sub"), str):
            return None
        if not isinstance(version, int) or not isinstance(token_id, str) or not token_id:
            return None  # tokens from before revocation existed carry neither
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=timezone.utc)
        return VerifiedToken(
            principal=Principal(kind=kind, subject=data["sub"], role=role, version=version),
            token_id=token_id,
            expires=signed_at + timedelta(seconds=self._ttl),
        )


@dataclass(frozen=True)
class SigningKey:
    secret: str
    warning: str | None = None  # set when a throwaway key stands in for XIAOER_SECRET_KEY


MISSING_KEY = (
    "未设置 XIAOER_SECRET_KEY，拒绝启动：请设置您自己的令牌签名密钥（至少 {n} 个字符），例如\n"
    "  export XIAOER_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\n"
    "只想试用演示店铺，请设置 XIAOER_DEMO=true（或运行 bash scripts/serve）。\n"
    "XIAOER_SECRET_KEY is not set, refusing to start: set your own token-signing key "
    "(at least {n} characters), e.g. with the command above. "
    "To try the demo shop, set XIAOER_DEMO=true (or run bash scripts/serve)."
)
SHORT_KEY = (
    "XIAOER_SECRET_KEY 太短（{got} 个字符），至少需要 {n} 个字符。\n"
    "XIAOER_SECRET_KEY is too short ({got} characters); it needs at least {n}."
)
PUBLISHED_KEY = (
    "XIAOER_SECRET_KEY 是随源代码公开过的密钥，任何人都能用它伪造令牌，请换一个。\n"
    "XIAOER_SECRET_KEY is a key published with the source code; anyone can forge tokens with it. "
    "Set another one."
)
THROWAWAY_KEY = (
    "{mode_zh}：未设置 XIAOER_SECRET_KEY，本进程使用随机生成的临时密钥（重启后需重新登录），"
    "请勿用于真实店铺。\n"
    "{mode_en}: XIAOER_SECRET_KEY is not set, so this process signs tokens with a random "
    "throwaway key (log in again after a restart). Do not use this for a real shop."
)


def signing_key(settings: Settings, *, eval_mode: bool = False) -> SigningKey:
    """The key that signs tokens; :class:`InsecureSecretKey` when there is no usable one.

    Outside demo mode (and eval mode) ``XIAOER_SECRET_KEY`` is required. A key that is set
    must be long enough and never one published with the source, in any mode.
    """
    given = settings.secret_key.get_secret_value().strip() if settings.secret_key else ""
    if given:
        if given in PUBLISHED_SECRETS:
            raise InsecureSecretKey(PUBLISHED_KEY)
        if len(given) < MIN_SECRET_CHARS:
            raise InsecureSecretKey(SHORT_KEY.format(got=len(given), n=MIN_SECRET_CHARS))
        return SigningKey(given)
    if settings.demo or eval_mode:
        zh, en = ("演示模式", "Demo mode") if settings.demo else ("评测模式", "Eval mode")
        return SigningKey(secrets.token_urlsafe(32), THROWAWAY_KEY.format(mode_zh=zh, mode_en=en))
    raise InsecureSecretKey(MISSING_KEY.format(n=MIN_SECRET_CHARS))
