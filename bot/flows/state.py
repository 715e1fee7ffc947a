"""The dialogue state the engine stores between turns (JSON-serialisable)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

PendingKind = Literal[
    # yes/no questions: the buyer's explicit yes carries out the change
    "cancel",
    "refund",
    "address",
    "return",
    "exchange",
    "handoff_offer",
    # open questions: the answer continues the flow
    "choose_order",
    "ask_address",
    "ask_exchange_sku",
    # "您是想A，还是B？": the answer picks one of ``options`` (intents) for ``question``
    "clarify",
]
YES_NO_KINDS: frozenset[str] = frozenset(
    {"cancel", "refund", "address", "return", "exchange", "handoff_offer"}
)


class Pending(BaseModel):
    """A question the bot asked and waits on. ``id`` keys the change it would make."""

    id: str
    kind: PendingKind
    intent: str  # canonical intent of the flow that asked
    fine: str | None = None
    tid: str | None = None
    oids: list[str] = Field(default_factory=list)
    amount: str | None = None
    refund_id: str | None = None
    reason: str | None = None
    reason_kind: str | None = None
    exchange_sku: str | None = None
    close_order: bool = False
    address: dict[str, str] | None = None
    options: list[str] = Field(default_factory=list)  # tids offered by choose_order
    summary: str | None = None  # for the handoff summary
    question: str | None = None  # the buyer's words a clarifying question asked about


class DialogueState(BaseModel):
    focus_tid: str | None = None
    focus_product: str | None = None
    pending: Pending | None = None
    misses: int = 0  # consecutive turns the bot did not understand
    handed_off: bool = False
    last_intent: str | None = None
    last_fine: str | None = None  # the finer intent of that turn (price protection is a thread)
    last_ask: str | None = None  # the buyer's words that opened that topic, for a follow-up's draft
    # The engine's own counters (turns, when the buyer last said no to a suggestion): kept
    # here so they survive the flows' round trip of the state.
    engine: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def load(cls, raw: dict[str, Any] | None) -> DialogueState:
        """Read a stored state; an unreadable one starts afresh rather than failing the turn."""
        try:
            return cls.model_validate(raw or {})
        except ValueError:
            return cls()

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
