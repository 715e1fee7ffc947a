"""The ``ConversationStore`` seam.

A buyer message is stored (and committed) before any reply is produced, so a restart loses
nothing that was acknowledged. The dialogue state of the flows is stored per conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from bot.turns import ConversationStatus, TurnResult

Role = Literal["buyer", "bot", "agent", "system"]


class Conversation(BaseModel):
    id: str
    buyer_id: str
    status: ConversationStatus = "bot"
    agent: str | None = None  # username of the agent who took it over
    state: dict[str, Any] = Field(default_factory=dict)  # dialogue state of the flows
    summary: str | None = None  # handoff summary for agents
    rating: int | None = None
    created: datetime
    updated: datetime
    waiting_since: datetime | None = None


class Message(BaseModel):
    id: str
    conversation_id: str
    seq: int
    role: Role
    text: str
    author: str | None = None  # agent username for agent messages
    created: datetime
    turn_id: str | None = None


class ConversationStore(Protocol):
    def create(self, buyer_id: str, now: datetime, conversation_id: str) -> Conversation: ...

    def get(self, conversation_id: str) -> Conversation | None: ...

    def latest_for(self, buyer_id: str) -> Conversation | None: ...

    def list(self, status: ConversationStatus | None = None) -> list[Conversation]: ...

    def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        now: datetime,
        message_id: str,
        *,
        author: str | None = None,
        turn_id: str | None = None,
    ) -> Message:
        """Append and commit a message."""

    def messages(self, conversation_id: str) -> list[Message]: ...

    def recent(self, conversation_id: str, limit: int) -> list[Message]:
        """The last ``limit`` messages, oldest first."""

    def recent_lines(self, conversation_id: str, limit: int) -> list[tuple[str, str]]:
        """The last ``limit`` messages as (role, text), oldest first."""

    def since_buyer(self, conversation_id: str) -> list[Message] | None:
        """The messages after the buyer's newest one, oldest first (None: the buyer wrote
        nothing); what follows that message only, not the whole history."""

    def last_buyer_message(self, conversation_id: str) -> Message | None:
        """The buyer's newest message, None when the buyer wrote nothing."""

    def save_state(self, conversation_id: str, state: dict[str, Any], now: datetime) -> None: ...

    def set_status(
        self,
        conversation_id: str,
        status: ConversationStatus,
        now: datetime,
        *,
        agent: str | None = None,
        summary: str | None = None,
    ) -> Conversation: ...

    def add_turn(self, result: TurnResult, buyer_message_id: str, now: datetime) -> None:
        """Record a turn's result (intent, action, sources, latency...)."""

    def turns(self, conversation_id: str) -> list[TurnResult]: ...

    def rate(self, conversation_id: str, score: int, now: datetime) -> None: ...
