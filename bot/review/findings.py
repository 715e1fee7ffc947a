"""The review list: inquiries that did not convert and drafts agents rejected or rewrote,
each with its transcript and what went wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bot.reports.activity import Activity, ConversationRecord, DraftRecord
from bot.reports.conversion import Inquiry, inquiry_of
from bot.reports.definitions import Definitions
from bot.reports.figures import edit_ratio
from bot.reports.labels import label
from bot.reports.responses import timings_of

ReviewKind = Literal["not_converted", "draft_rejected", "draft_edited"]
KIND_ZH: Mapping[str, str] = {"not_converted": "询单未转化", "draft_rejected": "草稿被驳回", "draft_edited": "草稿被大幅修改"}


class TranscriptLine(BaseModel):
    seq: int
    role: str
    speaker: str  # 买家 / 机器人 / 客服 name
    text: str
    at: datetime
    intent: str | None = None  # the bot's reading of a buyer message
    action: str | None = None


class DraftNote(BaseModel):
    intent: str
    status: str
    draft: str
    sent: str | None = None
    reject_reason: str | None = None
    edit_ratio: float | None = None
    decided_by: str | None = None
    flags: list[str] = Field(default_factory=list)


class ReviewItem(BaseModel):
    conversation_id: str
    buyer_id: str
    buyer_nick: str
    started: datetime
    kinds: list[ReviewKind]
    problems: list[str] = Field(description="出了什么问题（中文）")
    drafts: list[DraftNote]
    transcript: list[TranscriptLine]


def _minutes(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}分{s % 60:02d}秒" if s >= 60 else f"{s}秒"


def transcript_of(conv: ConversationRecord) -> list[TranscriptLine]:
    by_message = {t.buyer_message_id: t for t in conv.turns if t.buyer_message_id}
    seq_to_turn = {conv.message_ids[k]: t for k, t in by_message.items() if k in conv.message_ids}
    lines = []
    for m in conv.messages:
        turn = seq_to_turn.get(m.seq) if m.role == "buyer" else None
        agent = m.agent
        speaker = {"buyer": "买家", "system": "系统"}.get(m.role) or (f"客服 {agent}" if agent else "机器人")
        lines.append(TranscriptLine(
            seq=m.seq, role=m.role, speaker=speaker, text=m.text, at=m.created,
            intent=turn.intent if turn else None, action=turn.action if turn else None,
        ))
    return lines


def _draft_problems(draft: DraftRecord, definitions: Definitions) -> tuple[ReviewKind | None, list[str]]:
    problems: list[str] = []
    kind: ReviewKind | None = None
    what = f"{label('intent', draft.intent)}的草稿"
    if draft.status == "rejected":
        kind = "draft_rejected"
        problems.append(f"{what}被客服 {draft.decided_by or ''} 驳回：{draft.reject_reason or '未写原因'}")
    ratio = edit_ratio(draft)
    if draft.status == "edited" and ratio is not None and ratio >= definitions.heavy_edit_ratio:
        kind = "draft_edited"
        problems.append(f"{what}被客服 {draft.decided_by or ''} 改动了 {ratio:.0%} 才发出")
    if kind is not None and draft.flags:
        problems.append(f"{what}带有合规标记：{'、'.join(label('flag', f) for f in draft.flags)}")
    return kind, problems


def _inquiry_problems(conv: ConversationRecord, inquiry: Inquiry, definitions: Definitions) -> list[str]:
    hours = definitions.conversion_window_hours
    problems = [f"买家询问{label('intent', inquiry.intent)}后 {hours:g} 小时内没有下单"]
    pending = [d for d in conv.drafts if d.status == "pending"]
    if pending:
        problems.append(f"有 {len(pending)} 条草稿没有客服处理，买家没有收到这些回答")
    for d in conv.drafts:
        if d.timed_out and d.decided_at is not None:
            waited = (d.decided_at - d.created).total_seconds()
            problems.append(f"{label('intent', d.intent)}的草稿 {_minutes(waited)} 无人处理，按原稿自动发出")
    timings = timings_of(conv)
    slow = [w for w in timings.answers if w.seconds > definitions.slow_reply_seconds]
    if slow:
        worst = max(slow, key=lambda w: w.seconds)
        who = f"客服 {worst.agent}" if worst.agent else "机器人"
        problems.append(f"买家等了 {_minutes(worst.seconds)} 才得到{who}的回复")
    if any(t.handoff for t in conv.turns) and not conv.agents:
        problems.append("转人工后没有客服接待")
    spoken = [m for m in conv.messages if m.kind in ("buyer", "answer")]
    if spoken and spoken[-1].kind == "buyer":
        problems.append("买家最后一条消息没有得到回复")
    if conv.rating is not None and conv.rating < definitions.satisfied_min_rating:
        problems.append(f"买家评了 {conv.rating} 分")
    return problems


def review_items(
    activity: Activity, definitions: Definitions, nicks: Mapping[str, str], *, kinds: set[str] | None = None
) -> list[ReviewItem]:
    """Conversations of the window worth reviewing, newest first; ``kinds`` narrows the list."""
    items: list[ReviewItem] = []
    for conv in activity.conversations:
        found: list[ReviewKind] = []
        problems: list[str] = []
        inquiry = inquiry_of(conv, activity, definitions)
        if inquiry is not None and not inquiry.converted:
            found.append("not_converted")
            problems.extend(_inquiry_problems(conv, inquiry, definitions))
        notes: list[DraftNote] = []
        for draft in conv.drafts:
            kind, said = _draft_problems(draft, definitions)
            if kind is None:
                continue
            if kind not in found:
                found.append(kind)
            problems.extend(said)
            notes.append(DraftNote(
                intent=draft.intent, status=draft.status, draft=draft.draft, sent=draft.final_text,
                reject_reason=draft.reject_reason, edit_ratio=edit_ratio(draft), decided_by=draft.decided_by,
                flags=list(draft.flags),
            ))
        if not found or (kinds is not None and not kinds.intersection(found)):
            continue
        if found == ["not_converted"] and len(problems) == 1:
            problems.append("对话中没有明显失误：回看推荐和价格是否打动了买家")
        items.append(ReviewItem(
            conversation_id=conv.id, buyer_id=conv.buyer_id, buyer_nick=nicks.get(conv.buyer_id, conv.buyer_id),
            started=conv.created, kinds=found, problems=list(dict.fromkeys(problems)), drafts=notes,
            transcript=transcript_of(conv),
        ))
    items.sort(key=lambda i: i.started, reverse=True)
    return items
