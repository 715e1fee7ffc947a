"""Signed bearer tokens for buyers and agents (itsdangerous, time-limited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

BUYER_COOKIE = "xiaoer_buyer"
AGENT_COOKIE = "xiaoer_agent"


@dataclass(frozen=True)
class Principal:
    kind: Literal["buyer", "agent"]
    subject: str  # buyer id or agent username
    role: Literal["buyer", "agent", "admin"]


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._s = URLSafeTimedSerializer(secret, salt="xiaoer-auth")
        self._ttl = ttl_seconds

    def issue(self, principal: Principal) -> str:
        return self._s.dumps({"k": principal.kind, "sub": principal.subject, "r": principal.role})

    def verify(self, token: str) -> Principal | None:
        try:
            data = self._s.loads(token, max_age=self._ttl)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict) or data.get("k") not in ("buyer", "agent"):
            return None
        return Principal(kind=data["k"], subject=str(data["sub"]), role=data["r"])
