"""Policy answers: shipping (包邮, 运费, 时效, 快递) and returns (无理由, 质量问题), from the
shop's policy settings and the sentences of its rules and FAQ that carry the numbers —
「新疆、西藏、青海不参与包邮，每单运费18元」 answers 「西藏包邮吗」 better than any summary.

A question naming a city (拉萨, 乌鲁木齐) asks about its region (``data/cities.tsv``); a sentence
about other regions, or about other products only, does not answer it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel

from bot.drafting.answers import STRONG, AnswerFact
from bot.drafting.matching import DATA, flat
from bot.drafting.products import ProductFinder
from bot.drafting.relevance import MIN_SCORE, Question, Relevance
from bot.money import fmt
from bot.retrieval.passages import Passage
from bot.shop.models import Product, Shop
from bot.text.normalize import normalize
from bot.text.places import regions_in
from bot.turns import Source

POLICY_CITATION = "shop.yaml#policy"
STRONG_MENTION = 0.42  # a sentence names a product this strongly (its title words, not a category)
SUBJECT_CHARS = 8  # a product named this early in a sentence is what the sentence is about
_RETURNS_TOPIC = re.compile(r"退货|退款|换货|退换|无理由|质量问题|售后")
# A rule sentence replaces the shipping summary when it answers clearly more of the question.
SUMMARY_MARGIN = 0.25


class PolicyFact(BaseModel):
    ship_within_hours: int
    return_window_days: int
    quality_window_days: int
    carriers: list[str]
    free_shipping_threshold: str | None
    no_free_shipping_regions: list[str]
    service_hours: str
    citation: str = POLICY_CITATION


def policy_fact(shop: Shop) -> PolicyFact:
    p = shop.info.policy
    return PolicyFact(
        ship_within_hours=p.ship_within_hours,
        return_window_days=p.return_window_days,
        quality_window_days=p.quality_window_days,
        carriers=list(p.carriers),
        free_shipping_threshold=fmt(p.free_shipping_threshold) if p.free_shipping_threshold is not None else None,
        no_free_shipping_regions=list(p.no_free_shipping_regions),
        service_hours=shop.info.service_hours,
    )


def summary_text(policy: PolicyFact) -> str:
    """The shipping policy in the words the template reply uses."""
    regions = "、".join(policy.no_free_shipping_regions)
    return (
        f"满{policy.free_shipping_threshold or ''}元包邮 {regions}除外 运费 "
        f"下单付款后{policy.ship_within_hours}小时内发货 发货时间 快递 {'、'.join(policy.carriers)}"
    )


@dataclass(frozen=True)
class RuleSentence:
    """One sentence (or clause of a list) of a rule section or FAQ answer."""

    text: str
    heading: str  # the section heading or FAQ question
    source: Source
    products: frozenset[str]  # products it names by their own words
    regions: frozenset[str]
    faq: bool = False


class PolicyAnswers:
    """The policy sentences of one shop, read once."""

    def __init__(self, shop: Shop, relevance: Relevance, finder: ProductFinder, passages: Sequence[Passage]) -> None:
        self.shop = shop
        self.relevance = relevance
        self._summary = summary_text(policy_fact(shop))
        self.sentences: list[RuleSentence] = []
        for p in passages:
            if p.type not in ("rule", "faq"):
                continue
            body = p.text.split("答：", 1)[1] if "答：" in p.text else p.text
            heading = p.text.split("问：", 1)[1].split("答：", 1)[0].strip() if "问：" in p.text else p.title
            source = Source(id=p.id, citation=p.citation, title=p.title)
            for s in _pieces(body):
                naming = finder.named(s)
                # The products a sentence is about are those it opens with (「钢化膜属于易耗品…」),
                # not an example further on (「…口红旋出过」).
                head = flat(normalize(s.split("：", 1)[-1]))
                strong = frozenset(
                    m.product_id for m in naming.mentions
                    if m.score >= STRONG_MENTION and len(m.span) <= SUBJECT_CHARS
                    and 0 <= head.find(m.span) < max(SUBJECT_CHARS, len(head) // 3)
                )
                self.sentences.append(
                    RuleSentence(s, heading, source, strong, frozenset(regions_in(s)), faq=p.type == "faq")
                )

    def _score(self, q: Question, s: RuleSentence) -> tuple[float, float]:
        head = self.relevance.score(q, s.heading) if s.faq else 0.0
        return max(head, self.relevance.score(q, f"{s.heading} {s.text}" if s.faq else s.text)), head

    def shipping(self, q: Question, regions: Sequence[str], focus: Product | None, summary_cover: float) -> list[AnswerFact]:
        """Sentences that answer a shipping question better than the policy summary, best first."""
        wanted = set(regions)
        best: list[tuple[tuple[int, float, float], RuleSentence, float, float]] = []
        for s in self.sentences:
            if wanted and s.regions and not (s.regions & wanted):
                continue  # about other regions
            if focus is not None and s.products and focus.id not in s.products:
                continue  # about other products
            if not wanted and s.regions and not s.faq and not _asks_regions(q, s):
                continue  # a regional exception does not answer a general question
            if _RETURNS_TOPIC.search(s.heading) and not any(_RETURNS_TOPIC.search(t.word) for t in q.terms):
                continue  # a rule of the returns section does not answer when a parcel ships
            cover, head = self._score(q, s)
            if cover < MIN_SCORE:
                continue
            local = int(bool(wanted and s.regions & wanted))
            mine = int(bool(focus is not None and focus.id in s.products))
            new = _new_numbers(s.text, self._summary)
            better = cover >= summary_cover + SUMMARY_MARGIN or (head >= STRONG and (new or cover > summary_cover))
            # As close as the summary and with a figure it lacks (不满88元运费8元): worth quoting.
            figures = cover >= summary_cover and new
            if not (local or better or figures):
                continue  # the summary says as much
            best.append(((local + mine, cover, head), s, cover, head))
        best.sort(key=lambda b: (-b[0][0], -b[0][1], -b[0][2]))
        # A second sentence only when it answers as well as the first (fee and time).
        kept = [b for b in best[:2] if b is best[0] or b[0] == best[0][0]]
        return [self._fact("rule", s, cover, head) for _, s, cover, head in kept]

    def returns(self, q: Question, focus: Product | None) -> list[AnswerFact]:
        """Rule sentences about returns that speak to the question and the product."""
        out: list[tuple[float, RuleSentence, float, float]] = []
        for s in self.sentences:
            if focus is not None and s.products and focus.id not in s.products:
                continue
            cover, head = self._score(q, s)
            mine = 0.5 if focus is not None and focus.id in s.products else 0.0
            # A rule naming this very product answers a question about returning it.
            if cover < MIN_SCORE and not (mine and cover >= MIN_SCORE / 2):
                continue
            if focus is not None and not focus.no_reason_return and not mine and not _REFUSAL.search(s.text):
                continue  # the general terms of 无理由 do not apply to a product excluded from it
            out.append((cover + mine, s, cover, head))
        out.sort(key=lambda o: -o[0])
        return [self._fact("rule", s, cover, head) for _, s, cover, head in out[:2]]

    @staticmethod
    def _fact(kind: str, s: RuleSentence, cover: float, head: float) -> AnswerFact:
        return AnswerFact(kind=kind, question=s.heading, answer=s.text, source=s.source, cover=round(cover, 4), head=round(head, 4))


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_REFUSAL = re.compile(r"不支持|不能|不可以|除外|不予")


def _new_numbers(text: str, summary: str) -> bool:
    """``text`` states a figure the policy summary does not (a fee, a surcharge)."""
    known = {Decimal(n).normalize() for n in _NUMBER.findall(summary)}
    return any(Decimal(n).normalize() not in known for n in _NUMBER.findall(text))


def _asks_regions(q: Question, s: RuleSentence) -> bool:
    return any(w in s.text for w in ("偏远", "地区")) and any(t.word in ("偏远", "地区") for t in q.terms)


_FULL_STOP = re.compile(r"(?<=[。！？!?])")


def _pieces(text: str) -> list[str]:
    """Sentences, and the clauses of a sentence that lists cases (「江浙沪一般次日达；…」); a
    clause keeps the lead its list hangs from (「签收后15天内可以申请无理由退货：」)."""
    out: list[str] = []
    for s in _FULL_STOP.split(text.replace("\n", "")):
        s = s.strip()
        if not s:
            continue
        clauses = [c.strip() for c in re.split(r"(?<=[；;])", s) if c.strip()]
        if len(clauses) == 1:
            out.append(s)
            continue
        lead = clauses[0].split("：", 1)[0] + "：" if "：" in clauses[0] else ""
        out.append(clauses[0])
        out.extend(lead + c if lead and not c.startswith(lead) else c for c in clauses[1:])
    return out
