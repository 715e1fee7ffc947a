"""Which sources a reply rests on: those whose content the reply actually uses."""

from __future__ import annotations

from bot.drafting.facts import POLICY_CITATION, Facts
from bot.turns import Source

_POLICY_INTENTS = {"shipping_policy"}
_POLICY_KINDS = {"shipping", "returns"}


def cited(facts: Facts, text: str) -> list[Source]:
    out: dict[str, Source] = {}

    def add(source: Source) -> None:
        out.setdefault(source.citation, source)

    flat = text.replace(" ", "")
    answers = [a for part in facts.parts for a in [*part.answers, *part.policy_answers]] or facts.answers
    for answer in answers:
        whole = answer.answer.strip().replace(" ", "")[:12]
        value = answer.answer.split("：", 1)[-1].strip().replace(" ", "")[:8]
        if any(s and s in flat for s in (whole, value)):
            add(answer.source)
    for product in facts.products:
        if product.title.replace(" ", "") in flat or (product is facts.products[0] and _names_skus(facts, flat)):
            add(Source(id=f"product:{product.id}", citation=product.citation, title=product.title))
    for reco in [*facts.recommendations, *(r for part in facts.parts for r in part.recommendations)]:
        if reco.title.replace(" ", "") in flat:
            add(Source(id=f"product:{reco.product_id}", citation=reco.citation, title=reco.title))
    for promo in [*facts.promotions, *(p for part in facts.parts for p in [*part.named_promotions, *part.around])]:
        if promo.title.replace(" ", "") in flat:
            add(Source(id=f"promotion:{promo.id}", citation=promo.citation, title=promo.title))
    named = facts.named_promotion
    if named is not None and named.title.replace(" ", "") in flat:
        add(Source(id=f"promotion:{named.id}", citation=named.citation, title=named.title))
    if facts.intent in _POLICY_INTENTS or any(p.kind in _POLICY_KINDS for p in facts.parts):
        add(Source(id="shop:policy", citation=POLICY_CITATION, title="店铺政策"))
        for p in facts.passages:
            add(Source(id=p.id, citation=p.citation, title=p.title, score=p.score))
    return list(out.values())


def _names_skus(facts: Facts, flat: str) -> bool:
    """The reply talks about the focus product's SKUs or sizes without naming its title."""
    return bool(facts.asked_skus or facts.alternatives or facts.size_advice or facts.quote)
