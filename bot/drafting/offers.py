"""Promotions as facts: those valid now, the one a buyer names (by its words or its numbers,
「女王节满减」, 「199减30的券」), whether it covers a product, and the offers around a product
that ended lately or start soon — each with its dates in the shop's timezone.

An offer a buyer names that the shop never had (8折, 满200减30) is kept apart: the reply says
there is no such offer rather than pricing around it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from bot.drafting.matching import flat
from bot.drafting.relevance import MIN_SCORE, Question, Relevance
from bot.money import fmt
from bot.shop.models import Coupon, Discount, FullReduction, Gift, NthDiscount, Product, Promotion, Shop
from bot.text.normalize import normalize
from bot.text.numbers import RATE, rate_of

RECENTLY_ENDED = timedelta(days=45)  # an offer that ended longer ago is not mentioned unasked
STARTS_SOON = timedelta(days=60)  # nor one that starts later than this
_TIER = re.compile(r"满\s*([0-9]+)\s*减\s*([0-9]+)")
_LOOSE_TIER = re.compile(r"(?<![0-9.])满?\s*([0-9]+)\s*减\s*([0-9]+)")
# Words for each kind of promotion, added to its text so 「满减」 or 「券」 can name it.
_KIND_WORDS = {
    "discount": "折扣 打折",
    "nth_discount": "第二件 多件 打折",
    "full_reduction": "满减",
    "coupon": "券 优惠券",
    "gift": "赠品 送",
}
OFFER_WORDS = " 优惠 活动 折扣 打折 促销 券"


class PromoFact(BaseModel):
    id: str
    type: str
    title: str
    detail: str
    ends: str
    starts: str = ""
    status: str = "active"  # active | ended | upcoming (at the request's now)
    how_to_get: str | None = None
    applies_to: list[str] = Field(default_factory=list)  # ids of the products asked about it covers
    scope: str = ""  # 全店 / 精华、面霜类商品 / the product titles
    shop_wide: bool = False
    end_time: str = ""  # 23:59 — the time of day it ends
    ends_today: bool = False
    citation: str


def promotion_citation(promo_id: str) -> str:
    return f"promotions.yaml#{promo_id}"


def _rate_text(rate: Decimal) -> str:
    return fmt(rate * 10).rstrip("0").rstrip(".")


def _yuan(value: Decimal) -> str:
    return fmt(value).removesuffix(".00")


def promo_detail(promo: Any) -> str:
    if isinstance(promo, Discount):
        return f"折扣{_rate_text(promo.rate)}折"
    if isinstance(promo, NthDiscount):
        return f"同款第{promo.n}件{_rate_text(promo.rate)}折"
    if isinstance(promo, FullReduction):
        return "，".join(f"满{_yuan(t.threshold)}减{_yuan(t.amount)}" for t in sorted(promo.tiers, key=lambda t: t.threshold))
    if isinstance(promo, Coupon):
        return f"满{_yuan(promo.threshold)}减{_yuan(promo.amount)}"
    if isinstance(promo, Gift):
        return f"满{_yuan(promo.threshold)}送{promo.gift}"
    return str(promo.title)


def promo_text(promo: Any) -> str:
    """A promotion in the words a buyer may name it by."""
    extra = getattr(promo, "how_to_get", "") or ""
    gift = getattr(promo, "gift", "") or ""
    return f"{promo.title} {promo_detail(promo)} {_KIND_WORDS.get(promo.type, '')} {gift} {extra} {getattr(promo, 'description', '') or ''}"


def scope_text(shop: Shop, promo: Any) -> str:
    scope = promo.scope
    if scope.all:
        return "全店商品"
    if scope.products is not None:
        return "、".join(shop.products[p].title for p in scope.products if p in shop.products)
    return "、".join(scope.categories or []) + "类商品"


def _day(when: datetime) -> str:
    return f"{when.month}月{when.day}日"


def promo_fact(shop: Shop, promo: Any, now: datetime, products: list[Product] = ()) -> PromoFact:  # type: ignore[assignment]
    tz: tzinfo = shop.tz
    start, end, local_now = promo.start.astimezone(tz), promo.end.astimezone(tz), now.astimezone(tz)
    if promo.valid_at(now):
        status = "active"
    else:
        status = "ended" if end < now else "upcoming"
    end_time = "" if (end.hour, end.minute) == (0, 0) else f"{end.hour:02d}:{end.minute:02d}"
    return PromoFact(
        id=promo.id,
        type=promo.type,
        title=promo.title,
        detail=promo_detail(promo),
        starts=_day(start),
        ends=_day(end),
        status=status,
        how_to_get=promo.how_to_get if isinstance(promo, Coupon) else None,
        applies_to=[p.id for p in products if promo.scope.covers(p)],
        scope=scope_text(shop, promo),
        shop_wide=bool(promo.scope.all),
        end_time=end_time,
        ends_today=status == "active" and end.date() == local_now.date(),
        citation=promotion_citation(promo.id),
    )


def unknown_offer(question: str, shop: Shop) -> str | None:
    """A concrete offer the buyer names (8折, 满200减30) that no promotion of the shop has,
    at any time: the reply must say there is no such offer rather than price around it."""
    text = flat(normalize(question))
    rates = {p.rate for p in shop.promotions if isinstance(p, (Discount, NthDiscount))}
    tiers = {(t.threshold, t.amount) for p in shop.promotions if isinstance(p, FullReduction) for t in p.tiers}
    tiers |= {(p.threshold, p.amount) for p in shop.promotions if isinstance(p, Coupon)}
    for m in RATE.finditer(text):
        rate = rate_of(m.group(1))
        if rate is not None and rate not in rates and not any(r.normalize() == rate.normalize() for r in rates):
            return m.group(0)
    for m in _TIER.finditer(text):
        if (Decimal(m.group(1)), Decimal(m.group(2))) not in tiers:
            return m.group(0)
    return None


class Offers:
    """The promotions of one shop, read for one question at a time."""

    def __init__(self, shop: Shop, relevance: Relevance) -> None:
        self.shop = shop
        self.relevance = relevance
        self._texts = {p.id: promo_text(p) for p in shop.promotions}

    def current(self, now: datetime, products: list[Product]) -> list[PromoFact]:
        return [promo_fact(self.shop, p, now, products) for p in self.shop.promotions_at(now)]

    def text_of(self, promo_id: str) -> str:
        return self._texts[promo_id]

    def named(self, q: Question, question: str, now: datetime, products: list[Product]) -> list[PromoFact]:
        """Promotions the buyer names, best first, whatever their dates: by a tier or coupon
        they quote (「199减30」), or by at least two words of their name (「女王节满减」)."""
        norm = flat(normalize(question))
        scored: list[tuple[float, Promotion]] = []
        tiers = {(Decimal(a), Decimal(b)) for a, b in _LOOSE_TIER.findall(norm)}
        for promo in self.shop.promotions:
            own: set[tuple[Decimal, Decimal]] = set()
            if isinstance(promo, FullReduction):
                own = {(t.threshold, t.amount) for t in promo.tiers}
            elif isinstance(promo, Coupon):
                own = {(promo.threshold, promo.amount)}
            if tiers & own:
                scored.append((2.0, promo))
                continue
            if not q.terms:
                continue
            text = self._texts[promo.id]
            matched = self.relevance.matched(q, text)
            if len(matched) < 2:
                continue  # one shared word (折, 送) does not name a promotion
            score = self.relevance.score(q, text)
            if score >= MIN_SCORE * 0.75:
                scored.append((score, promo))
        scored.sort(key=lambda sp: -sp[0])
        return [promo_fact(self.shop, p, now, products) for _, p in scored]

    def around(self, now: datetime, products: list[Product]) -> list[PromoFact]:
        """Offers covering ``products`` that ended lately or start soon (not valid now)."""
        if not products:
            return []
        out = []
        for promo in self.shop.promotions:
            if promo.valid_at(now) or not any(promo.scope.covers(p) for p in products):
                continue
            if promo.end < now and now - promo.end <= RECENTLY_ENDED:
                out.append(promo_fact(self.shop, promo, now, products))
            elif promo.start > now and promo.start - now <= STARTS_SOON:
                out.append(promo_fact(self.shop, promo, now, products))
        out.sort(key=lambda p: p.status != "upcoming")
        return out

    def coming(self, now: datetime) -> list[PromoFact]:
        """Every promotion of the shop that starts soon."""
        return [
            promo_fact(self.shop, p, now) for p in self.shop.promotions
            if p.start > now and p.start - now <= STARTS_SOON
        ]

    def covers(self, promo_id: str, product: Product) -> bool:
        promo = next((p for p in self.shop.promotions if p.id == promo_id), None)
        return bool(promo and promo.scope.covers(product))
