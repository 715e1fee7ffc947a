"""What the runner drives: the bot in this process, or a running server over HTTP.

Both give the same :class:`Target` interface, so a suite gives the same results either way.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.orders.backend import OrdersExport
from bot.shop import Shop
from bot.turns import TurnResult
from bot.workbench.actions import ActionOutcome, StaffAction


class Chat(Protocol):
    """One conversation of one logged-in buyer."""

    def say(self, text: str) -> TurnResult: ...


class Target(Protocol):
    """A bot serving one shop, reset before each case."""

    @property
    def name(self) -> str: ...

    def reset(self, now: datetime) -> None:
        """Re-seed the order backend from the shop and freeze the clock at ``now``."""

    def open(self, buyer_id: str) -> Chat:
        """Log in as the buyer and start a fresh conversation."""

    def orders(self) -> OrdersExport: ...

    def advance(self, delta: timedelta) -> None:
        """Move the frozen clock on by ``delta`` and run the scheduled work that fell due."""

    def staff(self, action: StaffAction) -> ActionOutcome:
        """Perform a workbench action as the shop's staff; a refused one changes nothing."""

    def outbound(self, buyer_id: str) -> list[str]:
        """Every unprompted message delivered to the buyer since the case began, in order."""

    def close(self) -> None: ...


# The staff account transcripts act as on the workbench.
TRANSCRIPT_STAFF = "transcript"


class TargetError(Exception):
    """The target could not be reached or answered outside the contract."""


# --- in process ----------------------------------------------------------------------------


class _ServicesChat:
    def __init__(self, bot: Any, conversation_id: str, buyer_id: str) -> None:
        self._bot = bot
        self._cid = conversation_id
        self._buyer = buyer_id

    def say(self, text: str) -> TurnResult:
        return self._bot.handle(self._cid, self._buyer, text)


class InProcessTarget:
    """The bot built in this process over an ephemeral database, once per shop.

    ``services`` is what :func:`bot.services.build_services` returns (or anything with
    ``reset_for_case(now)``, ``bot.start_conversation(buyer)``, ``bot.handle(cid, buyer,
    text)`` and ``orders.export()``).
    """

    def __init__(self, services: Any, *, cleanup: tempfile.TemporaryDirectory[str] | None = None) -> None:
        for attr in ("reset_for_case", "bot", "orders"):
            if not hasattr(services, attr):
                raise TypeError(f"services lack {attr!r}")
        self._services = services
        self._cleanup = cleanup

    @classmethod
    def build(cls, shop: Shop, now: datetime, settings: Any = None) -> InProcessTarget:
        """Build the services for ``shop`` in a temporary data directory."""
        from bot.clock import FrozenClock
        from bot.config import Settings
        from bot.ids import SequentialIds
        from bot.services import build_services

        tmp = tempfile.TemporaryDirectory(prefix="xiaoer-eval-")
        base = settings or Settings()
        settings = base.model_copy(update={"database_url": "sqlite://", "data_dir": Path(tmp.name)})
        # the same set-up as `xiaoer serve --eval-mode`, so both ways give the same results
        services = build_services(
            settings, shop=shop, clock=FrozenClock(now), ids=SequentialIds(), ephemeral=True,
            eval_mode=True,
        )
        return cls(services, cleanup=tmp)

    @property
    def name(self) -> str:
        return "in-process"

    def reset(self, now: datetime) -> None:
        self._services.reset_for_case(now)

    def open(self, buyer_id: str) -> Chat:
        cid = self._services.bot.start_conversation(buyer_id)
        return _ServicesChat(self._services.bot, cid, buyer_id)

    def orders(self) -> OrdersExport:
        return self._services.orders.export()

    def advance(self, delta: timedelta) -> None:
        self._services.clock.advance(delta)
        self._services.scheduler.tick()

    def staff(self, action: StaffAction) -> ActionOutcome:
        return self._services.workbench.perform(action, TRANSCRIPT_STAFF)  # type: ignore[no-any-return]

    def outbound(self, buyer_id: str) -> list[str]:
        outreach = getattr(self._services, "outreach", None)
        if outreach is None:  # services without an outbox send nothing unprompted
            return []
        return [m.text for m in outreach.sent_to(buyer_id)]

    def close(self) -> None:
        closer = getattr(self._services, "close", None)
        if callable(closer):
            closer()
        if self._cleanup is not None:
            self._cleanup.cleanup()
            self._cleanup = None


# --- over HTTP -----------------------------------------------------------------------------


class _HttpChat:
    def __init__(self, client: Any, conversation_id: str, token: str) -> None:
        self._client = client
        self._cid = conversation_id
        self._headers = {"Authorization": f"Bearer {token}"}

    def say(self, text: str) -> TurnResult:
        data = _json(_call(self._client.post, "/api/chat",
                           json={"conversation_id": self._cid, "text": text}, headers=self._headers))
        return TurnResult.model_validate(data)


class HttpTarget:
    """A server started with ``xiaoer serve --eval-mode`` (which exposes ``/api/eval/*``)."""

    def __init__(self, url: str, *, client: Any = None, timeout_s: float = 60.0) -> None:
        import httpx

        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._url = url.rstrip("/")
        self._client = client or httpx.Client(base_url=self._url, timeout=timeout_s)
        self._owns_client = client is None

    @property
    def name(self) -> str:
        return self._url

    def shop(self) -> dict[str, Any]:
        """``{"name": ..., "root": ...}`` of the shop the server serves."""
        return _json(_call(self._client.get, "/api/eval/shop"))

    def check_shop(self, shop: Shop) -> None:
        """Refuse to run a suite against a server that serves another shop."""
        served = self.shop()
        if served.get("name") != shop.info.name:
            raise TargetError(
                f"{self._url} serves shop {served.get('name')!r} ({served.get('root')}), "
                f"but the suite needs {shop.info.name!r} ({shop.root})"
            )

    def reset(self, now: datetime) -> None:
        _json(_call(self._client.post, "/api/eval/reset", json={"now": now.isoformat()}))

    def open(self, buyer_id: str) -> Chat:
        token = _json(_call(self._client.post, "/api/auth/demo-login", json={"buyer_id": buyer_id}))["token"]
        headers = {"Authorization": f"Bearer {token}"}
        cid = _json(_call(self._client.post, "/api/conversations", headers=headers))["conversation_id"]
        return _HttpChat(self._client, cid, token)

    def orders(self) -> OrdersExport:
        return OrdersExport.model_validate(_json(_call(self._client.get, "/api/eval/orders")))

    def advance(self, delta: timedelta) -> None:
        _json(_call(self._client.post, "/api/eval/wait", json={"seconds": delta.total_seconds()}))

    def staff(self, action: StaffAction) -> ActionOutcome:
        body = action.model_dump(mode="json", exclude_none=True)
        return ActionOutcome.model_validate(_json(_call(self._client.post, "/api/eval/staff", json=body)))

    def outbound(self, buyer_id: str) -> list[str]:
        response = _call(self._client.get, "/api/eval/outbound", params={"buyer_id": buyer_id})
        if response.status_code == 404:  # a server without an outbox sends nothing unprompted
            return []
        return [str(m["text"]) for m in _json(response)]

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _call(method: Any, path: str, **kwargs: Any) -> Any:
    import httpx

    try:
        return method(path, **kwargs)
    except httpx.HTTPError as exc:
        raise TargetError(f"{path}: {type(exc).__name__}: {exc}") from exc


def _json(response: Any) -> Any:
    if response.status_code >= 400:
        raise TargetError(
            f"{response.request.method} {response.request.url.path} → {response.status_code}: "
            f"{response.text[:300]}"
        )
    return response.json()
