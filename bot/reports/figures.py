"""The report a shop manager reads, as typed objects, built from an :class:`Activity`.

Every figure is computed the same way for the whole window, for each day (the day, in the
shop's time zone, its conversation started) and for each agent (the conversations the agent
sent something in, the answers the agent gave and the drafts the agent decided).
``docs/reports.md`` defines each one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field
from rapidfuzz.distance import Levenshtein

from bot.evaluation.metrics import percentile
from bot.reports.activity import Activity, ConversationRecord, DraftRecord
from bot.reports.conversion import Inquiry, inquiries
from bot.reports.definitions import Definitions
from bot.reports.responses import Wait, timings_of

DECIDED = ("accepted", "edited", "rejected")


class Rate(BaseModel):
    """``numerator`` of ``denominator``; ``value`` is None when there is nothing to count."""

    numerator: int = 0
    denominator: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None


class Seconds(BaseModel):
    """Waits in seconds: how many, their mean, median and 90th percentile."""

    count: int = 0
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> Seconds:
        if not values:
            return cls()
        return cls(
            count=len(values),
            mean=round(sum(values) / len(values), 1),
            p50=round(percentile(list(values), 50) or 0.0, 1),
            p90=round(percentile(list(values), 90) or 0.0, 1),
        )


class ResponseTimes(BaseModel):
    first: Seconds = Field(default_factory=Seconds, description="首次响应时间")
    average: Seconds = Field(default_factory=Seconds, description="平均响应时间（每次回复）")


class Satisfaction(BaseModel):
    rated: int = 0
    mean: float | None = None
    satisfied: Rate = Field(default_factory=Rate, description="满意（评分不低于阈值）/ 已评价")
    distribution: dict[int, int] = Field(default_factory=dict)


class Drafts(BaseModel):
    """草稿采纳: what agents did with the bot's drafts."""

    total: int = 0
    pending: int = 0
    auto_sent: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    mean_edit_ratio: float | None = Field(default=None, description="修改过的草稿平均改动比例（0–1）")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def decided(self) -> int:
        return self.accepted + self.edited + self.rejected

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acceptance(self) -> Rate:
        return Rate(numerator=self.accepted, denominator=self.decided)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def edit_rate(self) -> Rate:
        return Rate(numerator=self.edited, denominator=self.decided)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rejection(self) -> Rate:
        return Rate(numerator=self.rejected, denominator=self.decided)


class Figures(BaseModel):
    conversations: int = 0
    conversion: Rate = Field(default_factory=Rate, description="询单转化率：下单的询单 / 询单")
    bot: ResponseTimes | None = Field(default_factory=ResponseTimes, description="机器人响应时间")
    agents: ResponseTimes = Field(default_factory=ResponseTimes, description="人工响应时间")
    satisfaction: Satisfaction = Field(default_factory=Satisfaction)
    complaint: Rate = Field(default_factory=Rate, description="投诉率：有投诉的会话 / 会话")
    handoff: Rate = Field(default_factory=Rate, description="转人工率：转人工的会话 / 会话")
    drafts: Drafts = Field(default_factory=Drafts)


class DayFigures(Figures):
    day: date


class AgentFigures(Figures):
    agent: str


class ShopReport(BaseModel):
    shop: str
    timezone: str
    since: datetime | None
    until: datetime | None
    generated: datetime
    definitions: Definitions
    total: Figures
    days: list[DayFigures]
    agents: list[AgentFigures]


def edit_ratio(draft: DraftRecord) -> float | None:
    """How much of a draft an agent changed: 0 = sent as is, 1 = nothing in common."""
    if draft.status not in ("accepted", "edited") or draft.final_text is None:
        return None
    return round(Levenshtein.normalized_distance(draft.draft, draft.final_text), 4)


def _figures(
    convs: Sequence[ConversationRecord],
    asked: Sequence[Inquiry],
    answers: Iterable[Wait],
    firsts: Iterable[Wait],
    drafts: Iterable[DraftRecord],
    definitions: Definitions,
    *,
    with_bot: bool = True,
) -> dict[str, Any]:
    answers, firsts, drafts = list(answers), list(firsts), list(drafts)
    ratings = [c.rating for c in convs if c.rating is not None]

    def times(responder: str) -> ResponseTimes:
        return ResponseTimes(
            first=Seconds.of([w.seconds for w in firsts if w.responder == responder]),
            average=Seconds.of([w.seconds for w in answers if w.responder == responder]),
        )

    status = Counter(d.status for d in drafts)
    ratios = [r for d in drafts if d.status == "edited" and (r := edit_ratio(d)) is not None]
    return {
        "conversations": len(convs),
        "conversion": Rate(numerator=sum(i.converted for i in asked), denominator=len(asked)),
        "bot": times("bot") if with_bot else None,
        "agents": times("agent"),
        "satisfaction": Satisfaction(
            rated=len(ratings),
            mean=round(sum(ratings) / len(ratings), 2) if ratings else None,
            satisfied=Rate(
                numerator=sum(r >= definitions.satisfied_min_rating for r in ratings), denominator=len(ratings)
            ),
            distribution=dict(sorted(Counter(ratings).items())),
        ),
        "complaint": Rate(
            numerator=sum(any(t.intent in definitions.complaint_intents for t in c.turns) for c in convs),
            denominator=len(convs),
        ),
        "handoff": Rate(numerator=sum(any(t.handoff for t in c.turns) for c in convs), denominator=len(convs)),
        "drafts": Drafts(
            total=len(drafts),
            pending=status["pending"],
            auto_sent=status["auto_sent"],
            accepted=status["accepted"],
            edited=status["edited"],
            rejected=status["rejected"],
            mean_edit_ratio=round(sum(ratios) / len(ratios), 4) if ratios else None,
        ),
    }


def build_report(activity: Activity, definitions: Definitions, *, shop: str, generated: datetime) -> ShopReport:
    convs = activity.conversations
    asked = inquiries(activity, definitions)
    timings = {c.id: timings_of(c) for c in convs}
    answers = [w for t in timings.values() for w in t.answers]
    firsts = [w for t in timings.values() for w in t.firsts]
    drafts = [d for c in convs for d in c.drafts]

    days: list[DayFigures] = []
    for day in sorted({c.day for c in convs}):
        chosen = [c for c in convs if c.day == day]
        ids = {c.id for c in chosen}
        days.append(DayFigures(day=day, **_figures(
            chosen,
            [i for i in asked if i.conversation_id in ids],
            (w for w in answers if w.conversation_id in ids),
            (w for w in firsts if w.conversation_id in ids),
            (d for c in chosen for d in c.drafts),
            definitions,
        )))

    names = sorted({a for c in convs for a in c.agents} | {d.decided_by for d in drafts if d.decided_by and d.status in DECIDED})
    agents: list[AgentFigures] = []
    for name in names:
        ids = {c.id for c in convs if name in c.agents}
        agents.append(AgentFigures(agent=name, **_figures(
            [c for c in convs if c.id in ids],
            [i for i in asked if i.conversation_id in ids],
            (w for w in answers if w.agent == name),
            (w for w in firsts if w.agent == name),
            (d for d in drafts if d.decided_by == name and d.status in DECIDED),
            definitions,
            with_bot=False,
        )))

    return ShopReport(
        shop=shop,
        timezone=str(activity.tz),
        since=activity.window.since,
        until=activity.window.until,
        generated=generated,
        definitions=definitions,
        total=Figures(**_figures(convs, asked, answers, firsts, drafts, definitions)),
        days=days,
        agents=agents,
    )
