"""The facts of one message as the language model is told them: short lines of plain text.

The full :class:`~bot.drafting.facts.Facts` (every SKU, attribute, passage and score as JSON)
is several thousand tokens; a draft needs much less. :class:`Brief` keeps what the answer
rests on — each question of the message with its own answers, the products it is about with
their options, the quote of the pricing engine, the promotions that apply — and writes it
with the phrases of ``prompts/brief.yaml``. The shop's policy, the same for every message,
is written apart (:meth:`Brief.policy`) so it can stand in the prompt's stable prefix.

Every number written here is copied from the facts, which stay what the guards check a
draft against. Internal ids (product, SKU, promotion) are never written: a model repeats
what it is shown, and buyers must not see them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.drafting.answers import AnswerFact
from bot.drafting.facts import Facts, PartFacts, ProductFact, SkuFact
from bot.drafting.offers import PromoFact
from bot.drafting.options import label as props_label
from bot.drafting.policy import PolicyFact
from bot.drafting.prompts import PromptSet
from bot.drafting.recommend import RecoFact
from bot.money import fmt
from bot.pricing import Gap, Quote

# Every phrase and the variables passed; checked against the file at start-up.
BRIEF_VARS: dict[str, tuple[str, ...]] = {
    "b.policy": ("hours", "carriers", "shipping", "returns", "quality_days", "service_hours"),
    "b.shipping_free_over": ("threshold",),
    "b.shipping_free": (),
    "b.shipping_unknown": (),
    "b.shipping_except": ("shipping", "regions"),
    "b.returns_window": ("days",),
    "b.now": ("now",),
    "b.intent": ("intent",),
    "b.product": ("title", "category", "options"),
    "b.product_points": ("points",),
    "b.product_returnable": ("days",),
    "b.product_not_returnable": (),
    "b.sku": ("label", "price", "stock"),
    "b.sku_more": ("count",),
    "b.in_stock": (),
    "b.stock_count": ("stock",),
    "b.out_of_stock": (),
    "b.part": ("index", "kind", "about"),
    "b.part_about": ("titles",),
    "b.part_tied": ("titles",),
    "b.part_answer": ("question", "answer"),
    "b.part_asked": ("skus",),
    "b.part_alternatives": ("skus",),
    "b.part_by_age": ("skus",),
    "b.part_size": ("fits",),
    "b.size_none": (),
    "b.part_promotion": ("title", "status", "starts", "ends", "detail"),
    "b.part_policy": ("answer",),
    "b.part_recommend": ("items",),
    "b.part_unknown": (),
    "b.part_see_quote": (),
    "b.part_see_product": (),
    "b.part_see_policy": (),
    "b.part_same": (),
    "b.reco": ("title", "price", "why"),
    "b.related": ("items",),
    "b.quote": ("lines", "total"),
    "b.quote_line": ("label", "qty", "total"),
    "b.quote_line_discounted": ("label", "qty", "list_total", "promotions", "total"),
    "b.quote_reduction": ("title", "amount"),
    "b.quote_coupon": ("title", "amount"),
    "b.quote_gift": ("gift",),
    "b.quote_gap": ("missing", "title"),
    "b.promotions": ("items",),
    "b.promotion": ("title", "ends", "how"),
    "b.promotion_how": ("how",),
    "b.named_promotion": ("title", "status", "starts", "ends"),
    "b.status_ended": (),
    "b.status_upcoming": (),
    "b.status_active": (),
    "b.unknown_offer": ("offer",),
    "b.off_platform": (),
    "b.free_shipping_missing": ("missing",),
    **{f"b.kind_{k}": () for k in ("info", "price", "cheaper", "promotion", "stock", "size", "shipping", "returns", "recommend")},
}

MAX_SKUS = 8  # options listed per product; more are counted
MAX_PRODUCTS = 3
MAX_ANSWERS = 3  # per question
MAX_ANSWER_CHARS = 160
MAX_POINTS = 3
MAX_RECOMMENDATIONS = 3
MAX_PROMOTIONS = 5
MAX_GAPS = 3
_SEP = "；"
_LIST = "、"
_PRICE_KINDS = ("price", "promotion", "cheaper")
_OPTION_AND_RULE_KINDS = ("stock", "shipping")


def _trim(amount: str) -> str:
    """``"99.00"`` → ``"99"``; ``"99.50"`` stays."""
    return amount.removesuffix(".00")


def _clip(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """At most ``limit`` characters, cut after a sentence where one ends in reach."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(mark) for mark in "。；！？")
    return head[: cut + 1] if cut >= limit // 2 else head + "…"


class Brief:
    """Writes facts as the model's brief with the phrases of a :class:`PromptSet`."""

    def __init__(self, prompts: PromptSet) -> None:
        for key, variables in BRIEF_VARS.items():
            prompts.require(key, variables)
        self.prompts = prompts

    def _t(self, key: str, **values: object) -> str:
        return self.prompts.render(f"b.{key}", **values)

    # --- the shop's policy: the same for every message ------------------------------------

    def policy(self, policy: PolicyFact) -> str:
        threshold = policy.free_shipping_threshold
        if threshold is None:
            shipping = self._t("shipping_unknown")
        elif Decimal(threshold) <= 0:
            shipping = self._t("shipping_free")
        else:
            shipping = self._t("shipping_free_over", threshold=_trim(threshold))
        if threshold is not None and policy.no_free_shipping_regions:
            shipping = self._t("shipping_except", shipping=shipping, regions=_LIST.join(policy.no_free_shipping_regions))
        return self._t(
            "policy", hours=policy.ship_within_hours, carriers=_LIST.join(policy.carriers), shipping=shipping,
            returns=self._t("returns_window", days=policy.return_window_days),
            quality_days=policy.quality_window_days, service_hours=policy.service_hours,
        )

    # --- one message -------------------------------------------------------------------------

    def render(self, facts: Facts) -> str:
        lines = [self._t("now", now=_when(facts.now)), self._t("intent", intent=facts.intent)]
        lines += [self._product(facts, p, first=i == 0) for i, p in enumerate(self._products(facts))]
        said: set[str] = set()  # a line two questions share is written for the first only
        for i, part in enumerate(facts.parts, 1):
            lines += self._part(facts, part, i, said)
        if facts.quote is not None and self._wants_quote(facts):
            lines += self._quote(facts, facts.quote)
        lines += self._offers(facts, said)
        if facts.recommendations and not facts.declined:
            items = _LIST.join(self._reco(r) for r in facts.recommendations[:MAX_RECOMMENDATIONS])
            lines.append(self._t("related", items=items))
        return "\n".join(line for line in lines if line)

    def _products(self, facts: Facts) -> list[ProductFact]:
        """The products the questions are about and those quoted, first named first (those
        one word names equally are only named, in their question)."""
        wanted: list[str] = []
        for part in facts.parts:
            wanted += part.product_ids
        if facts.quote is not None:
            wanted += [line.product.id for line in facts.quote.lines]
        if not wanted and facts.focus() is not None:
            wanted.append(facts.products[0].id)
        out: list[ProductFact] = []
        for pid in dict.fromkeys(wanted):
            product = facts.product(pid)
            if product is not None:
                out.append(product)
        return out[:MAX_PRODUCTS]

    def _product(self, facts: Facts, p: ProductFact, *, first: bool) -> str:
        options = [self._sku(p, s, counts=False) for s in p.skus[:MAX_SKUS]]
        if len(p.skus) > MAX_SKUS:
            options.append(self._t("sku_more", count=len(p.skus)))
        text = self._t("product", title=p.title, category=p.category, options=_LIST.join(options))
        extra = []
        if p.selling_points and first:
            extra.append(self._t("product_points", points=_LIST.join(p.selling_points[:MAX_POINTS])))
        if p.no_reason_return:
            extra.append(self._t("product_returnable", days=facts.policy.return_window_days))
        else:
            extra.append(self._t("product_not_returnable"))
        return _SEP.join([text, *extra])

    def _sku(self, p: ProductFact, s: SkuFact, *, counts: bool) -> str:
        label = props_label(s.props) if len(p.skus) > 1 else ""
        if s.stock <= 0:
            stock = self._t("out_of_stock")
        else:
            stock = self._t("stock_count", stock=s.stock) if counts else self._t("in_stock")
        return self._t("sku", label=label, price=_trim(s.price), stock=stock)

    def _skus(self, facts: Facts, skus: list[SkuFact]) -> str:
        out = []
        for s in skus[:MAX_SKUS]:
            p = facts.product(s.product_id)
            label = self._sku(p, s, counts=True) if p is not None else ""
            out.append(f"{p.title if p is not None and len(p.skus) <= 1 else ''}{label}")
        return _LIST.join(out)

    def _titles(self, facts: Facts, ids: list[str]) -> str:
        return _LIST.join(p.title for i in ids if (p := facts.product(i)) is not None)

    def _part(self, facts: Facts, part: PartFacts, index: int, said: set[str]) -> list[str]:
        about = self._t("part_about", titles=self._titles(facts, part.product_ids[:1])) if part.product_ids else ""
        kind = self._t(f"kind_{part.kind}") if f"b.kind_{part.kind}" in self.prompts else part.kind
        lines: list[str] = []
        if part.tied and not part.product_ids:
            lines.append(self._t("part_tied", titles=self._titles(facts, part.tied)))
        # Stock is answered by the options and shipping by the shop's rules; text answers
        # found beside them only distract.
        answers = [] if part.kind in _OPTION_AND_RULE_KINDS else part.answers
        # A promotion's own passage says again what its line below says.
        promos = {p.title for p in [*part.named_promotions, *part.around]}
        answers = [a for a in answers if a.question not in promos]
        lines += [self._answer(a) for a in answers[:MAX_ANSWERS]]
        if part.asked_skus:
            lines.append(self._t("part_asked", skus=self._skus(facts, part.asked_skus)))
        if part.alternatives:
            lines.append(self._t("part_alternatives", skus=self._skus(facts, part.alternatives)))
        if part.by_age:
            lines.append(self._t("part_by_age", skus=self._skus(facts, part.by_age)))
        if part.size_advice is not None:
            fits = _LIST.join(part.size_advice.fits) or self._t("size_none")
            lines.append(self._t("part_size", fits=fits))
        for promo in [*part.named_promotions, *part.around][:MAX_PROMOTIONS]:
            lines.append(self._t(
                "part_promotion", title=promo.title, status=self._status(promo), starts=promo.starts or "",
                ends=promo.ends, detail=_SEP.join(x for x in (promo.detail, promo.scope) if x),
            ))
            said.add(promo.id)
        lines += [self._t("part_policy", answer=_clip(a.answer)) for a in part.policy_answers[:MAX_ANSWERS]]
        if part.recommendations:
            items = _LIST.join(self._reco(r) for r in part.recommendations[:MAX_RECOMMENDATIONS])
            lines.append(self._t("part_recommend", items=items))
        new = [line for line in lines if line not in said]
        said.update(lines)
        if lines and not new:
            new = [self._t("part_same")]
        elif not lines:
            new = [self._t(self._answered_elsewhere(facts, part) or "part_unknown")]
        return [self._t("part", index=index, kind=kind, about=about), *new]

    def _answered_elsewhere(self, facts: Facts, part: PartFacts) -> str | None:
        """For a question with no lines of its own, the phrase pointing to what answers it
        (the quote, the product's options, the shop's policy); None when nothing does."""
        if part.kind in _PRICE_KINDS:
            return "part_see_quote" if facts.quote is not None else None
        if part.kind == "stock":
            return "part_see_product" if part.product_ids else None
        if part.kind == "shipping":
            return "part_see_policy"
        if part.kind == "returns" and part.product_ids:
            return "part_see_product"
        return None

    def _answer(self, a: AnswerFact) -> str:
        answer = a.answer.strip()
        if a.kind == "attribute":
            answer = answer.split("：", 1)[-1]
        while answer.startswith(f"{a.question}："):  # a passage that starts with its own title
            answer = answer[len(a.question) + 1 :]
        return self._t("part_answer", question=a.question, answer=_clip(answer))

    def _reco(self, r: RecoFact) -> str:
        why = f"（{_clip(r.why, 40)}）" if r.why else ""
        title = f"{r.title} {r.option}" if r.option else r.title
        return self._t("reco", title=title, price=_trim(r.price), why=why)

    def _status(self, promo: PromoFact) -> str:
        return self._t(f"status_{promo.status}") if promo.status in ("ended", "upcoming") else self._t("status_active")

    # --- money ---------------------------------------------------------------------------------

    def _wants_quote(self, facts: Facts) -> bool:
        if len(facts.basket) > 1 or not facts.parts:
            return True
        return any(p.kind in _PRICE_KINDS or "price" in p.kinds or "promotion" in p.kinds for p in facts.parts)

    def _quote(self, facts: Facts, q: Quote) -> list[str]:
        pieces = []
        for line in q.lines:
            label = line.product.title
            if len(line.product.skus) > 1:
                label += " " + props_label(line.sku.props)
            if line.total != line.list_total:
                titles = _LIST.join(p.title for i in line.promotions if (p := _promotion(facts, i)) is not None)
                pieces.append(self._t(
                    "quote_line_discounted", label=label, qty=line.qty, list_total=fmt(line.list_total),
                    promotions=titles, total=fmt(line.total),
                ))
            else:
                pieces.append(self._t("quote_line", label=label, qty=line.qty, total=fmt(line.total)))
        for _, title, amount in q.full_reductions:
            pieces.append(self._t("quote_reduction", title=title, amount=fmt(amount)))
        if q.coupon is not None:
            pieces.append(self._t("quote_coupon", title=q.coupon[1], amount=fmt(q.coupon[2])))
        pieces += [self._t("quote_gift", gift=gift) for _, _, gift in q.gifts]
        lines = [self._t("quote", lines=_SEP.join(pieces), total=fmt(q.total))]
        lines += [self._t("quote_gap", missing=fmt(g.missing), title=g.title) for g in self._gaps(facts, q)]
        return lines

    def _gaps(self, facts: Facts, q: Quote) -> list[Gap]:
        """The thresholds the buyer names first, then the nearest ones."""
        named = {p.id for part in facts.parts for p in part.named_promotions}
        if facts.named_promotion is not None:
            named.add(facts.named_promotion.id)
        ordered = sorted(q.gaps, key=lambda g: (g.promotion_id not in named, g.missing))
        return ordered[:MAX_GAPS]

    def _offers(self, facts: Facts, said: set[str]) -> list[str]:
        lines = []
        asks = any(p.kind == "promotion" or "promotion" in p.kinds for p in facts.parts)
        current = [
            p for p in facts.promotions
            if p.status == "active" and (asks or p.applies_to or p.shop_wide) and p.id not in said
        ][:MAX_PROMOTIONS]
        if current:
            items = _LIST.join(
                self._t("promotion", title=p.title, ends=p.ends, how=self._t("promotion_how", how=p.how_to_get) if p.how_to_get else "")
                for p in current
            )
            lines.append(self._t("promotions", items=items))
        named = facts.named_promotion
        if named is not None:
            lines.append(self._t(
                "named_promotion", title=named.title, status=self._status(named), starts=named.starts or "", ends=named.ends,
            ))
        if facts.unknown_offer:
            lines.append(self._t("unknown_offer", offer=facts.unknown_offer))
        if facts.off_platform:
            lines.append(self._t("off_platform"))
        if facts.free_shipping_missing:
            lines.append(self._t("free_shipping_missing", missing=facts.free_shipping_missing))
        return lines


def _promotion(facts: Facts, promotion_id: str) -> PromoFact | None:
    return next((p for p in facts.promotions if p.id == promotion_id), None)


def _when(iso: str) -> str:
    """``2026-12-12T10:00:00+08:00`` → ``2026-12-12 10:00`` (the time is the shop's)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
