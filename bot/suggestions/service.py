"""Suggestions: a drafted reply stored with its facts, citations and guard flags, and what an
agent decided about it. Deciding is atomic — ``UPDATE … WHERE status='pending'`` — so of two
agents deciding the same suggestion the first wins and the second gets :class:`Conflict`.

What an agent sends passes the same guards as a drafted reply: a text that fails them is
refused with :class:`FlaggedReply` (naming the flags) unless the agent sends it again with
``override``, which is recorded on the suggestion with who and when."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, computed_field
from rapidfuzz.distance import Levenshtein
from sqlalchemy import JSON, Engine, bindparam, select, update

from bot.clock import Clock
from bot.errors import Conflict, NotFound, TellCustomer
from bot.guards import Flag, describe, flags_in
from bot.ids import IdProvider
from bot.suggestions.guard import ReplyGuard
from bot.storage.db import decode_json, encode_json, json_value, reader
from bot.storage.unit import read, write
from bot.suggestions.sql import SuggestionRow, create_tables, pending_counts
from bot.turns import Source

if TYPE_CHECKING:
    from bot.drafting.pipeline import Draft

Status = Literal["pending", "accepted", "edited", "rejected", "auto_sent"]
STATUSES: tuple[str, ...] = ("pending", "accepted", "edited", "rejected", "auto_sent")
MAX_TEXT = 4000
AUTO_AGENT = "bot"


_STATUS_ZH = {"accepted": "已采纳", "edited": "已修改发送", "rejected": "已驳回", "auto_sent": "已自动发送"}


class FlaggedReply(TellCustomer):
    """The text an agent is about to send fails a guard; ``flags`` says which. Sending it
    again with ``override`` sends it and records the override."""

    def __init__(self, flags: list[Flag]) -> None:
        self.flags = flags
        super().__init__(f"回复未通过合规检查：{describe(flags)}。确认无误后可选择「仍然发送」。")


class Suggestion(BaseModel):
    id: str
    conversation_id: str
    turn_id: str
    intent: str
    draft: str
    citations: list[Source] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    flag_details: list[str] = Field(default_factory=list)
    drafter: str
    fallback_reason: str | None = None
    status: Status
    final_text: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None
    edit_distance: int | None = None
    created: datetime
    override_by: str | None = None  # the agent who sent a flagged text anyway
    override_at: datetime | None = None
    override_flags: list[str] = Field(default_factory=list)  # "code: detail" of what was overridden
    hold_at: datetime | None = None  # a holding message is due then, if nothing answered the buyer
    due_at: datetime | None = None  # the draft (or a handoff note) goes out then, if no agent acted
    origin: str = "turn"  # turn: drafted for a bot turn; copilot: during a take-over; redraft

    @computed_field  # type: ignore[prop-decorator]
    @property
    def refused_flags(self) -> list[str]:
        """``code: detail`` of the guards the model's drafts failed before this draft (a
        template) replaced them, as the fallback reason records them."""
        return [str(f) for f in flags_in(self.fallback_reason)]

    @property
    def sent_text(self) -> str | None:
        """What the buyer received, if anything."""
        return self.final_text if self.status in ("accepted", "edited", "auto_sent") else None


def _model(m: Mapping[str, Any]) -> Suggestion:
    """The suggestion of a stored row (a mapping of its columns)."""
    return Suggestion(
        id=m["id"],
        conversation_id=m["conversation_id"],
        turn_id=m["turn_id"],
        intent=m["intent"],
        draft=m["draft"],
        citations=[Source.model_validate(c) for c in m["citations"] or []],
        facts=m["facts"] or {},
        flags=list(m["flags"] or []),
        flag_details=list(m["flag_details"] or []),
        drafter=m["drafter"],
        fallback_reason=m["fallback_reason"],
        status=m["status"],
        final_text=m["final_text"],
        decided_by=m["decided_by"],
        decided_at=_time(m["decided_at"]),
        reject_reason=m["reject_reason"],
        edit_distance=m["edit_distance"],
        created=datetime.fromisoformat(m["created"]),
        override_by=m["override_by"],
        override_at=_time(m["override_at"]),
        override_flags=list(m["override_flags"] or []),
        hold_at=_time(m["hold_at"]),
        due_at=_time(m["due_at"]),
        origin=m["origin"] or "turn",
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _utc(at: datetime | None) -> str | None:
    """Timers are stored in UTC so that they compare as text whatever the offset."""
    return at.astimezone(timezone.utc).isoformat() if at is not None else None


# The statements of every drafted turn, built once: building one per call costs more in
# SQLAlchemy than the database takes to run it.
_TABLE = SuggestionRow.__table__
_INSERT = _TABLE.insert()
_GET = select(_TABLE).where(_TABLE.c.id == bindparam("sid"))
_SETTLE_HOLDS = (
    update(_TABLE)
    .where(_TABLE.c.conversation_id == bindparam("cid"), _TABLE.c.hold_at.is_not(None))
    .values(hold_at=None)
)
_SETTLE_ALL = (
    update(_TABLE)
    .where(_TABLE.c.conversation_id == bindparam("cid"),
           (_TABLE.c.hold_at.is_not(None)) | (_TABLE.c.due_at.is_not(None)))
    .values(hold_at=None, due_at=None)
)
_HAS_PENDING = (
    select(_TABLE.c.id)
    .where(_TABLE.c.conversation_id == bindparam("cid"), _TABLE.c.status == "pending")
    .limit(1)
)


def _list_statement(by_status: bool, by_conversation: bool) -> Any:
    stmt = select(_TABLE)
    if by_status:
        stmt = stmt.where(_TABLE.c.status == bindparam("status"))
    if by_conversation:
        stmt = stmt.where(_TABLE.c.conversation_id == bindparam("cid"))
    return stmt.order_by(_TABLE.c.created, _TABLE.c.id).limit(bindparam("limit"))


_LIST = {(s, c): _list_statement(s, c) for s in (False, True) for c in (False, True)}
_JSON_COLUMNS = tuple(c.name for c in _TABLE.columns if isinstance(c.type, JSON))


class SuggestionService:
    def __init__(self, engine: Engine, clock: Clock, ids: IdProvider, *, guard: ReplyGuard | None = None) -> None:
        """``guard`` checks what an agent sends; the server always passes one. Without it
        (reports, storage tests) texts are sent as given."""
        self.engine = engine
        self._read = reader(engine)  # read-only work: no transaction round trips
        self.clock = clock
        self.ids = ids
        self.guard = guard
        create_tables(engine)
        # a stored JSON value reads back as the dialect's deserialiser makes it of the text
        self._loads = getattr(engine.dialect, "_json_deserializer", None) or decode_json

    # --- writing ---------------------------------------------------------------------------

    def new_id(self) -> str:
        """An id for a suggestion to be created (:meth:`create` makes one when not given it)."""
        return self.ids.new_id("sg")

    def create(
        self, conversation_id: str, turn_id: str, intent: str, draft: Draft, *, auto_sent: bool,
        hold_at: datetime | None = None, due_at: datetime | None = None, origin: str = "turn",
        suggestion_id: str | None = None,
    ) -> Suggestion:
        """Store a draft: ``pending`` for an agent, or ``auto_sent`` (the shop sends drafts
        that passed every guard). A draft that failed a guard is never stored as sent.
        ``hold_at`` and ``due_at`` are the reply policy's timers of a waiting draft;
        ``suggestion_id`` one of :meth:`new_id`, when the id was needed before the draft is stored."""
        if auto_sent and not draft.passed:
            raise ValueError("a draft that failed a guard cannot be sent automatically")
        now = self.clock.now().isoformat()
        values: dict[str, Any] = dict.fromkeys(_TABLE.columns.keys()) | {
            "id": suggestion_id or self.new_id(),
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "intent": intent,
            "draft": draft.text,
            "citations": [c.model_dump(mode="json") for c in draft.citations],
            "facts": draft.facts,
            "flags": list(draft.flags),
            "flag_details": list(getattr(draft, "flag_details", []) or []),
            "drafter": draft.drafter,
            "fallback_reason": draft.fallback_reason,
            "status": "auto_sent" if auto_sent else "pending",
            "final_text": draft.text if auto_sent else None,
            "decided_by": AUTO_AGENT if auto_sent else None,
            "decided_at": now if auto_sent else None,
            "reject_reason": None,
            "edit_distance": 0 if auto_sent else None,
            "created": now,
            "override_by": None,
            "override_at": None,
            "override_flags": None,
            "hold_at": None if auto_sent else _utc(hold_at),
            "due_at": None if auto_sent else _utc(due_at),
            "origin": origin,
        }
        stored = dict(values)
        for name in _JSON_COLUMNS:  # encoded once: stored as this text, returned as read back
            if values[name] is not None:
                text = encode_json(values[name])
                stored[name] = json_value(self.engine, text)
                values[name] = self._loads(text)
        with write(self.engine) as conn:
            conn.execute(_INSERT, stored)
        return _model(values)

    def accept(self, sid: str, agent: str, *, override: bool = False) -> Suggestion:
        """Send the draft as it is. A draft failing a guard raises :class:`FlaggedReply`
        unless ``override``."""
        current = self._pending(sid)
        checked = self._guarded(current, current.draft, agent, override)
        return self._decide(
            sid, status="accepted", final_text=current.draft, decided_by=agent, edit_distance=0,
            hold_at=None, due_at=None, **checked,
        )

    def edit(self, sid: str, agent: str, text: str, *, override: bool = False) -> Suggestion:
        """Send ``text`` instead of the draft. A text failing a guard raises
        :class:`FlaggedReply` unless ``override``."""
        text = (text or "").strip()
        if not text:
            raise TellCustomer("修改后的回复不能为空")
        if len(text) > MAX_TEXT:
            raise TellCustomer(f"回复过长（上限{MAX_TEXT}字）")
        current = self._pending(sid)
        checked = self._guarded(current, text, agent, override)
        distance = Levenshtein.distance(current.draft, text)
        status = "accepted" if distance == 0 else "edited"
        return self._decide(
            sid, status=status, final_text=text, decided_by=agent, edit_distance=distance,
            hold_at=None, due_at=None, **checked,
        )

    def _guarded(self, current: Suggestion, text: str, agent: str, override: bool) -> dict[str, Any]:
        """The override columns to record when ``text`` fails a guard and ``override`` is set."""
        flags = self.guard(text, current) if self.guard else []
        if not flags:
            return {}
        if not override:
            raise FlaggedReply(flags)
        return {"override_by": agent, "override_at": self.clock.now().isoformat(), "override_flags": [str(f) for f in flags]}

    def send_as_drafted(self, sid: str) -> Suggestion:
        """The reply policy sends a guard-clean draft no agent decided in time (``auto_sent``
        by the bot). Raises :class:`Conflict` when an agent decided it first."""
        current = self._pending(sid)
        if current.flags:
            raise ValueError("a draft that failed a guard cannot be sent automatically")
        return self._decide(
            sid, status="auto_sent", final_text=current.draft, decided_by=AUTO_AGENT, edit_distance=0,
            hold_at=None, due_at=None,
        )

    # --- the reply policy's timers ---------------------------------------------------------

    def holds_due(self, now: datetime) -> list[Suggestion]:
        """Drafts (waiting or rejected) whose holding message is due at ``now``."""
        return self._timed(SuggestionRow.hold_at, now)

    def drafts_due(self, now: datetime) -> list[Suggestion]:
        """Drafts (waiting or rejected) whose wait for an agent is over at ``now``."""
        return self._timed(SuggestionRow.due_at, now)

    def _timed(self, column: Any, now: datetime) -> list[Suggestion]:
        stmt = (
            select(SuggestionRow.__table__)
            .where(column.is_not(None), column <= _utc(now),
                   SuggestionRow.status.in_(("pending", "rejected")))
            .order_by(SuggestionRow.created, SuggestionRow.id)
        )
        with read(self._read) as conn:
            rows = conn.execute(stmt).all()
        return [_model(r._mapping) for r in rows]

    def claim_hold(self, sid: str) -> bool:
        """Take the holding message of ``sid`` (once: of two processes only one gets True)."""
        return self._claim(sid, SuggestionRow.hold_at)

    def claim_due(self, sid: str) -> bool:
        """Take the end of the wait of ``sid`` (once); the hold goes with it."""
        return self._claim(sid, SuggestionRow.due_at, also_hold=True)

    def _claim(self, sid: str, column: Any, *, also_hold: bool = False) -> bool:
        values: dict[str, Any] = {column.key: None}
        if also_hold:
            values["hold_at"] = None
        stmt = update(SuggestionRow).where(SuggestionRow.id == sid, column.is_not(None)).values(**values)
        with write(self.engine) as conn:
            return bool(conn.execute(stmt).rowcount)

    def settle(self, conversation_id: str, *, holds_only: bool = False) -> int:
        """The buyer got a reply: no holding message is due any more, and (unless
        ``holds_only``: an agent answered in person) no late draft or handoff note either.
        Returns how many drafts had timers."""
        with write(self.engine) as conn:
            return int(conn.execute(_SETTLE_HOLDS if holds_only else _SETTLE_ALL, {"cid": conversation_id}).rowcount)

    def reject(self, sid: str, agent: str, reason: str) -> Suggestion:
        reason = (reason or "").strip()
        if not reason:
            raise TellCustomer("请填写驳回原因")
        self._pending(sid)
        return self._decide(sid, status="rejected", reject_reason=reason[:500], decided_by=agent)

    def _pending(self, sid: str) -> Suggestion:
        current = self.get(sid)
        if current is None:
            raise NotFound(f"没有找到建议回复 {sid}")
        if current.status != "pending":
            done = _STATUS_ZH.get(current.status, current.status)
            raise Conflict(f"该建议已由 {current.decided_by or '系统'} 处理（{done}）")
        return current

    def _decide(self, sid: str, **values: Any) -> Suggestion:
        values["decided_at"] = self.clock.now().isoformat()
        stmt = (
            update(SuggestionRow)
            .where(SuggestionRow.id == sid, SuggestionRow.status == "pending")
            .values(**values)
        )
        with write(self.engine) as conn:
            changed = conn.execute(stmt).rowcount
        if changed == 0:  # someone decided between our read and our write: the first wins
            self._pending(sid)
            raise Conflict("该建议已被其他客服处理")
        return self.get(sid)  # type: ignore[return-value]

    # --- reading ---------------------------------------------------------------------------

    def pending_counts(self, conversation_ids: Sequence[str]) -> dict[str, int]:
        """Drafts waiting for an agent per conversation of ``conversation_ids`` (a queue page)."""
        return pending_counts(self._read, conversation_ids)

    def get(self, suggestion_id: str) -> Suggestion | None:
        with read(self._read) as conn:
            row = conn.execute(_GET, {"sid": suggestion_id}).first()
        return _model(row._mapping) if row else None

    def list(self, *, status: str | None = None, conversation_id: str | None = None, limit: int = 200) -> list[Suggestion]:
        if status is not None and status not in STATUSES:
            raise TellCustomer(f"未知的状态：{status}")
        stmt = _LIST[(status is not None, conversation_id is not None)]
        with read(self._read) as conn:
            rows = conn.execute(stmt, {"status": status, "cid": conversation_id, "limit": limit}).all()
        return [_model(r._mapping) for r in rows]

    def has_pending(self, conversation_id: str) -> bool:
        """Whether a draft of the conversation waits for an agent (one index seek)."""
        with read(self._read) as conn:
            return conn.execute(_HAS_PENDING, {"cid": conversation_id}).first() is not None

    def stats(self) -> dict[str, Any]:
        """Per intent (and ``_all``): counts by status, acceptance rate (accepted unchanged /
        decided by an agent), edit rate, rejection rate, mean edit distance of edits, and the
        rejection reasons with counts."""
        with read(self._read) as conn:
            rows = conn.execute(
                select(SuggestionRow.intent, SuggestionRow.status, SuggestionRow.edit_distance, SuggestionRow.reject_reason)
            ).all()
        groups: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            groups[r.intent].append(r)
            groups["_all"].append(r)
        out: dict[str, Any] = {}
        for intent, items in sorted(groups.items()):
            counts = Counter(r.status for r in items)
            decided = counts["accepted"] + counts["edited"] + counts["rejected"]
            edits = [r.edit_distance for r in items if r.status == "edited" and r.edit_distance is not None]
            out[intent] = {
                "total": len(items),
                **{s: counts[s] for s in STATUSES},
                "acceptance_rate": round(counts["accepted"] / decided, 4) if decided else None,
                "edit_rate": round(counts["edited"] / decided, 4) if decided else None,
                "rejection_rate": round(counts["rejected"] / decided, 4) if decided else None,
                "mean_edit_distance": round(sum(edits) / len(edits), 2) if edits else None,
                "rejection_reasons": dict(Counter(r.reject_reason for r in items if r.status == "rejected").most_common()),
            }
        return out
