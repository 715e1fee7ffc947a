"""The offline drafter: a grounded reply composed from the facts with phrases from
``prompts/templates.yaml``. Every number it writes comes from the facts.

Each question of the message (:class:`PartFacts`) is answered in turn, by the kind of
answer it wants, and the answers are joined into one reply: the address term once at the
start, one two-choice question (二选一) at most at the end. A question nothing answers gets a
line saying so and offering a person; when no question is answered, the whole reply does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.drafting.answers import AnswerFact, asks_same, same
from bot.drafting.facts import Facts, PartFacts, ProductFact, SkuFact
from bot.drafting.matching import flat
from bot.drafting.offers import PromoFact
from bot.drafting.options import label as props_label
from bot.drafting.prompts import PromptSet
from bot.drafting.recommend import RecoFact
from bot.money import fmt
from bot.pricing import Gap, Quote

_REFUSAL = re.compile(r"不支持|不能|不可以|不予")
_PAREN = re.compile(r"（[^）]*）|\([^)]*\)")  # an aside: 「（拍下后联系客服改价）」
_PRODUCT_ANSWERS = ("faq", "attribute", "care", "usage", "selling_points", "options")
_SHOP_ANSWERS = ("faq", "passage", "rule")  # the shop's FAQ, rules and retrieved passages
LOW_STOCK = 10  # at or below this, the reply says only a few are left
MAX_ANSWERS = 2
TIED_COVER = 0.6  # a shop rule this close answers for all the products one word names
# Options a buyer chooses by taste: the reply may close with 「A还是B」 over them.
_CHOICE_KEYS = ("颜色", "色", "款式", "口味", "花色")

# Every template and the variables the drafter passes; checked against the file at start-up.
TEMPLATE_VARS: dict[str, tuple[str, ...]] = {
    "reply": ("term", "body"),
    "unknown": ("term", "persona"),
    "unknown_part": ("persona",),
    "answer": ("subject", "answer"),
    "answer_plain": ("answer",),
    "answer_more": ("answer",),
    "answer_of": ("title", "answer"),
    "subject_attribute": ("field",),
    "subject_attribute_of": ("title", "field"),
    "subject_text": ("field",),
    "subject_options": ("title",),
    "stock_in": ("item", "stock"),
    "stock_low": ("item", "stock"),
    "stock_out": ("item",),
    "stock_alternatives": ("options",),
    "stock_summary": ("title", "summary"),
    "stock_sold_out_too": ("items",),
    "stock_none": ("title",),
    "stock_ask": (),
    "by_age": ("item",),
    "size_one": ("title", "body", "size", "basis"),
    "size_two": ("title", "body", "small", "large"),
    "size_out": ("title", "body", "persona"),
    "size_ask": ("title", "sizes"),
    "size_body_both": ("height", "weight"),
    "size_body_height": ("height",),
    "size_body_weight": ("weight",),
    "size_sold_out": ("item",),
    "size_in_stock": ("item",),
    "size_stock_split": ("size", "have", "out"),
    "price_line": ("item", "qty", "list_total"),
    "basket": ("items", "list_total"),
    "basket_item": ("item", "qty"),
    "price_discount": ("titles", "subtotal"),
    "price_reduction": ("title", "amount"),
    "price_coupon": ("title", "amount"),
    "price_total": ("total", "savings"),
    "price_total_plain": ("total",),
    "price_plain": ("item", "qty", "total"),
    "nth_same_sku": ("title",),
    "gift": ("gifts",),
    "coupon_how": ("title", "how"),
    "gap": ("missing", "title", "reward"),
    "gap_plain": ("missing", "title"),
    "gap_pair": ("title", "price"),
    "gap_reached": ("title",),
    "sentence_end": (),
    "promotions_list": ("promos",),
    "promotions_none": (),
    "promo_item": ("title", "ends"),
    "promo_for_item": ("promos",),
    "promo_ended": ("title", "starts", "ends"),
    "promo_upcoming": ("title", "starts", "ends"),
    "promo_coming_for": ("title", "starts", "ends"),
    "promo_ended_for": ("title", "ends"),
    "promo_ends": ("title", "ends"),
    "promo_ends_at": ("title", "ends", "time"),
    "promo_ends_today": ("title", "ends", "time"),
    "promo_scope_yes": ("title", "items"),
    "promo_scope_no": ("title", "scope", "items"),
    "promo_gift": ("title", "detail"),
    "promo_offer": ("title", "detail", "scope"),
    "promo_unknown": ("offer",),
    "promotions_now": ("promos",),
    "promo_applies": ("titles",),
    "shipping": ("free", "hours", "carriers"),
    "free_threshold": ("threshold", "except"),
    "free_always": ("except",),
    "free_unknown": (),
    "free_except": ("regions",),
    "free_gap": ("price", "missing"),
    "free_region_out": ("regions",),
    "returns_yes": ("days",),
    "returns_no": ("days",),
    "returns_quality": ("days",),
    "recommend": ("title", "items"),
    "recommend_generic": ("items",),
    "reco_item": ("title", "price"),
    "reco_item_why": ("title", "price", "why"),
    "reco_option": ("title", "option", "price"),
    "cheaper_own": ("items",),
    "cheaper_other": ("items",),
    "cheaper_none": ("title",),
    "cheaper_applied": (),
    "ask_which": ("a", "b"),
    "which_item": ("title", "price"),
    "off_platform": ("term",),
    "close_colour": ("a", "b"),
    "close_two": ("a", "b"),
}

# Which method answers which kind of question; each falls back to the general answers.
_HANDLERS: dict[str, str] = {
    "info": "_info",
    "stock": "_stock",
    "size": "_size",
    "price": "_price",
    "cheaper": "_cheaper",
    "promotion": "_promotion",
    "recommend": "_recommend",
    "shipping": "_shipping",
    "returns": "_returns",
}


@dataclass
class _Reply:
    """The reply being composed: its sentences, its closing question, what it has said."""

    facts: Facts
    bodies: list[str] = field(default_factory=list)
    close: str = ""
    quoted: bool = False  # the basket's price is in the reply
    unknown: bool = False  # some question got no answer

    def add(self, text: str | None) -> bool:
        if not text:
            return False
        if any(same(text, b) for b in self.bodies):
            return True
        self.bodies.append(text)
        return True

    def closing(self, text: str) -> None:
        if text and not self.close and not self.facts.declined:
            self.close = text


class TemplateDrafter:
    """Answers the common sales questions from facts alone; says "unknown" otherwise."""

    name = "template"

    def __init__(self, prompts: PromptSet) -> None:
        for key, variables in TEMPLATE_VARS.items():
            prompts.require(f"t.{key}", variables)
        self.prompts = prompts

    def t(self, key: str, **values: Any) -> str:
        return self.prompts.render(f"t.{key}", **values)

    # --- entry ---------------------------------------------------------------------------

    def draft(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> str:
        if facts.off_platform:
            # Whatever else was asked: payment and contact stay on the platform.
            return self.t("off_platform", term=facts.address_term)
        reply = _Reply(facts)
        for part in facts.parts or [PartFacts(kind="info", answers=facts.answers)]:
            handler: Callable[[_Reply, PartFacts], str | None] = getattr(self, _HANDLERS.get(part.kind, "_info"))
            text = handler(reply, part)
            if text is None and handler != self._info:
                text = self._info(reply, part)
            if text is None:
                reply.unknown = True  # "" is an answer said already, for an earlier question
            else:
                reply.add(text)
        if not reply.bodies:
            return self._unknown(facts)
        body = "".join(reply.bodies)
        if reply.unknown:
            body += self.t("unknown_part", persona=facts.persona_name)
        return self.t("reply", term=facts.address_term, body=body) + ("" if reply.unknown else reply.close)

    # --- common pieces -------------------------------------------------------------------

    def _unknown(self, f: Facts) -> str:
        return self.t("unknown", term=f.address_term, persona=f.persona_name)

    def _two(self, a: str, b: str) -> str:
        if not a or not b or a == b:
            return ""
        return self.t("close_two", a=a, b=b)

    def _focus(self, f: Facts, part: PartFacts) -> ProductFact | None:
        return f.product(part.product_ids[0]) if part.product_ids else None

    def _answers_text(self, f: Facts, part: PartFacts, answers: list[AnswerFact]) -> str:
        first, *rest = answers[:MAX_ANSWERS]
        focus_id = part.product_ids[0] if part.product_ids else None
        text = self._answer(f, part, first, focus_id)
        # A second answer only when it is about this product and as close to the question —
        # and the message asks nothing else (the next question gets its own answer).
        for extra in rest if len(f.parts) <= 1 else []:
            if (
                extra.kind in _PRODUCT_ANSWERS and extra.cover >= first.cover and extra.head >= first.head > 0
                and extra.product_id == first.product_id and extra.answer.strip() not in text
            ):
                text += self.t("answer_more", answer=_sentence(_value(extra)))
        return text

    def _answer(self, f: Facts, part: PartFacts, a: AnswerFact, focus_id: str | None) -> str:
        product = f.product(a.product_id) if a.product_id else None
        # Data of a product the buyer did not name (or asked to choose) names that product.
        named = product is not None and (a.product_id != focus_id or "which" in part.modes or bool(part.tied))
        title = product.title if product is not None else ""
        if a.kind in _SHOP_ANSWERS:
            answer = _sentence(a.answer.strip())
            return self.t("answer_of", title=title, answer=answer) if named and title else self.t("answer_plain", answer=answer)
        if a.kind == "options":
            return self.t("subject_options", title=title) + _sentence(a.answer)
        if named:
            subject = self.t("subject_attribute_of", title=title, field=a.question)
        elif a.kind == "attribute":
            subject = self.t("subject_attribute", field=a.question)
        else:
            subject = self.t("subject_text", field=a.question)
        return self.t("answer", subject=subject, answer=_sentence(_value(a)))

    def _which(self, f: Facts, ids: list[str]) -> str | None:
        """「您问的是A还是B呢？」 with each one's price."""
        items = []
        for pid in ids[:2]:
            reco = next((r for r in f.recommendations if r.product_id == pid), None)
            p = f.product(pid)
            if p is None:
                continue
            price = reco.price if reco is not None else p.price
            items.append(self.t("which_item", title=p.title, price=price))
        if len(items) < 2:
            return None
        return self.t("ask_which", a=items[0], b=items[1])

    def _promo_hint(self, f: Facts, product: ProductFact | None) -> str:
        """The item discounts this product takes part in — not after the buyer said no."""
        if f.declined or product is None:
            return ""
        titles = [p.title for p in f.promotions if product.id in p.applies_to and p.type in ("discount", "nth_discount")]
        return self.t("promo_applies", titles="、".join(titles)) if titles else ""

    def _colour_close(self, reply: _Reply, product: ProductFact) -> None:
        for key, values in product.stock_by_prop.items():
            available = [v for v, n in values.items() if n > 0]
            if len(available) >= 2 and any(k in key for k in _CHOICE_KEYS):
                reply.closing(self.t("close_colour", a=available[0], b=available[1]))
                return

    # --- answers from data -------------------------------------------------------------------

    def _info(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        answers = part.answers
        product = self._focus(f, part)
        if part.by_age and product is not None and "which" in part.modes:
            return self._by_age(product, part.by_age)  # 「奶粉该喝几段」
        if part.tied:
            # One word named several products: a rule of the shop that answers for all of
            # them does; otherwise ask which one is meant.
            shared = [a for a in answers if a.product_id is None and a.cover >= TIED_COVER]
            if shared:
                return self._answers_text(f, part, shared)
            if not answers or answers[0].product_id is not None:
                return self._which(f, part.tied)
        if not answers:
            return None
        text = self._answers_text(f, part, answers)
        if product is not None and len(f.parts) == 1 and answers[0].product_id == product.id:
            text += self._promo_hint(f, product)
            self._colour_close(reply, product)
        return text

    # --- stock ---------------------------------------------------------------------------

    def _stock(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        product = self._focus(f, part)
        if product is None:
            return self._which(f, part.tied) if part.tied else None
        if part.by_age and not part.asked_skus:
            return self._by_age(product, part.by_age)
        if part.asked_skus:
            in_stock = [s for s in part.asked_skus if s.stock > 0]
            if in_stock and len(part.asked_skus) == 1:
                s = in_stock[0]
                key = "stock_low" if s.stock <= LOW_STOCK else "stock_in"
                return self.t(key, item=_item_label(product, s.props), stock=s.stock) + self._promo_hint(f, product)
            if in_stock:
                summary = "、".join(props_label(s.props) for s in in_stock)
                out = [s for s in part.asked_skus if s.stock == 0]
                text = self.t("stock_summary", title=product.title, summary=summary)
                if out:
                    text += self.t("stock_sold_out_too", items="、".join(props_label(s.props) for s in out))
                return text + self._promo_hint(f, product)
            asked = part.asked_skus[0].props if len(part.asked_skus) == 1 else _common(part.asked_skus)
            text = self.t("stock_out", item=_item_label(product, asked))
            if part.alternatives:
                labels = [props_label(s.props) for s in part.alternatives]
                text += self.t("stock_alternatives", options="、".join(labels))
                if len(labels) >= 2:
                    reply.closing(self._two(labels[0], labels[1]))
            return text
        if not product.in_stock:
            return self.t("stock_none", title=product.title)
        text = self.t("stock_summary", title=product.title, summary=_stock_summary(product))
        out = _sold_out(product)
        if out:
            text += self.t("stock_sold_out_too", items=out)
        return text + self.t("stock_ask")

    def _by_age(self, product: ProductFact, fits: list[SkuFact]) -> str:
        keys = [k for k in fits[0].props if len({s.props.get(k) for s in product.skus}) > 1]
        key = next((k for k in keys if len({s.props.get(k) for s in fits}) == 1), keys[0] if keys else None)
        item = fits[0].props.get(key, "") if key else props_label(fits[0].props)
        text = self.t("by_age", item=item)
        if not any(s.stock > 0 for s in fits):
            text += self.t("stock_out", item=item)
        else:
            s = max(fits, key=lambda s: s.stock)
            key_ = "stock_low" if s.stock <= LOW_STOCK else "stock_in"
            text += self.t(key_, item=item, stock=s.stock)
        return text

    # --- size ----------------------------------------------------------------------------

    def _size(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        product = self._focus(f, part)
        if product is None or product.size_chart is None:
            return None
        sizes = [row[0] for row in product.size_chart["rows"]]
        advice = part.size_advice
        if advice is None:
            return self.t("size_ask", title=product.title, sizes="、".join(sizes))
        if advice.height_cm and advice.weight_kg:
            body = self.t("size_body_both", height=advice.height_cm, weight=advice.weight_kg)
        elif advice.height_cm:
            body = self.t("size_body_height", height=advice.height_cm)
        else:
            body = self.t("size_body_weight", weight=advice.weight_kg)
        if not advice.fits:
            return self.t("size_out", title=product.title, body=body, persona=f.persona_name)
        if len(advice.fits) == 1:
            row = advice.rows[0]
            basis = "，".join(f"{k}{v}" for k, v in row.items() if k != advice.size_column and _is_body_column(k))
            text = self.t("size_one", title=product.title, body=body, size=advice.fits[0], basis=basis or advice.fits[0])
        else:
            small, large = advice.fits[0], advice.fits[-1]
            text = self.t("size_two", title=product.title, body=body, small=small, large=large)
            reply.closing(self._two(f"合身的{small}码", f"宽松的{large}码"))
        return text + self._size_stock(f, part, product, advice.fits)

    def _size_stock(self, f: Facts, part: PartFacts, product: ProductFact, fits: list[str]) -> str:
        """Stock of the advised size: in the option the buyer named, else where some of it
        is sold out."""
        if len(fits) != 1:
            return ""
        size_key = next((k for s in product.skus for k in s.props if "码" in k), None)
        if size_key is None:
            return ""
        named = {k: v for s in part.asked_skus for k, v in s.props.items() if k != size_key}
        of_size = [s for s in product.skus if s.props.get(size_key) == fits[0]]
        if named and len({tuple(sorted(n.items())) for n in [named]}) == 1 and len(part.asked_skus) < len(product.skus):
            wanted = {**{k: v for k, v in part.asked_skus[0].props.items() if k != size_key}, size_key: fits[0]}
            sku = next((s for s in product.skus if all(s.props.get(k) == v for k, v in wanted.items())), None)
            if sku is not None:
                return self.t("size_in_stock" if sku.stock > 0 else "size_sold_out", item=props_label(sku.props))
        others = [s for s in of_size if len(s.props) > 1]
        out = [s for s in others if s.stock == 0]
        have = [s for s in others if s.stock > 0]
        if not out:
            return ""
        rest = lambda s: props_label({k: v for k, v in s.props.items() if k != size_key})  # noqa: E731
        if not have:
            return self.t("size_sold_out", item=f"{fits[0]}码")
        return self.t("size_stock_split", size=fits[0], have="、".join(rest(s) for s in have), out="、".join(rest(s) for s in out))

    # --- price and offers ----------------------------------------------------------------------

    def _price(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        text = ""
        if f.unknown_offer is not None and reply.bodies == []:
            return self._unknown_offer(f)
        named = part.named_promotions[0] if part.named_promotions else None
        if named is not None and named.status != "active":
            said = self._not_now(named)
            text += "" if said in "".join(reply.bodies) else said
            if f.quote is None or not (_asks_price(part) or named.status == "upcoming" and part.product_ids):
                return text + self._promotions_now(f, part)
        elif named is not None:
            said = self._about_offer(f, part, named)
            if not said and not _asks_price(part) and named.type != "gift":
                said = self.t("promo_offer", title=named.title, detail=named.detail, scope=named.scope)
            if said:
                text += said
                if not _asks_price(part):
                    return text
        text += self._around(f, part)
        if f.quote is not None and reply.quoted:
            return text  # the price is said above; nothing new for this question
        if f.quote is not None:
            reply.quoted = True
            text += self._quote(reply, part, f.quote, named)
        elif f.quote is None:
            if part.tied:
                return text + (self._which(f, part.tied) or "") or None
            # A question about how offers work (叠加, 领券) is answered from the rules; a
            # question about what is on offer gets the list of current promotions.
            best = part.answers[0] if part.answers else None
            if best is not None and best.kind in _SHOP_ANSWERS and best.cover > f.promotions_cover:
                return text + self._answers_text(f, part, part.answers)
            return text + self._promotions_overview(f)
        return text or None

    def _quote(self, reply: _Reply, part: PartFacts, q: Quote, named: PromoFact | None, *, gap: bool = True) -> str:
        f = reply.facts
        lines = q.lines
        if len(lines) == 1:
            line = lines[0]
            basis = f.basket[0].basis if f.basket else f.quote_basis
            # Priced at the cheapest SKU because none was named: no colour/size in the reply.
            item = props_label(line.sku.props) if basis == "asked" and len(line.product.skus) > 1 else ""
            label = f"{line.product.title}{item and ' ' + item}"
            if q.total == q.list_total and not q.gifts:
                text = self.t("price_plain", item=label, qty=line.qty, total=fmt(q.total))
                mine = [p for p in f.promotions if line.product.id in p.applies_to]
                if f.qty is None and mine and named is None and not any(b.product_id != line.product.id for b in f.basket):
                    items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in mine)
                    text += self.t("promo_for_item", promos=items)
                return text + (self._gap(reply, part, q, named, tail=True) if gap else "")
            text = self.t("price_line", item=label, qty=line.qty, list_total=fmt(q.list_total))
        else:
            items = "、".join(
                self.t("basket_item", item=_line_label(ln, f), qty=ln.qty) for ln in lines
            )
            text = self.t("basket", items=items, list_total=fmt(q.list_total))
        if q.subtotal != q.list_total:
            applied = [pid for ln in lines for pid in ln.promotions]
            titles = [p.title for p in f.promotions if p.id in applied]
            text += self.t("price_discount", titles="、".join(titles) or "活动", subtotal=fmt(q.subtotal))
        for _pid, title, amount in q.full_reductions:
            text += self.t("price_reduction", title=title, amount=fmt(amount))
        if q.coupon:
            text += self.t("price_coupon", title=q.coupon[1], amount=fmt(q.coupon[2]))
        if q.total != q.list_total:
            text += self.t("price_total", total=fmt(q.total), savings=fmt(q.savings))
        else:
            text += self.t("price_total_plain", total=fmt(q.total))
        if q.gifts:
            text += self.t("gift", gifts="、".join(g for _, _, g in q.gifts))
        if q.coupon:
            promo = next((p for p in f.promotions if p.id == q.coupon[0]), None)
            if promo and promo.how_to_get:
                text += self.t("coupon_how", title=promo.title, how=promo.how_to_get)
        text += self._nth_note(f, q, part)
        return text + (self._gap(reply, part, q, named, tail=True) if gap else "")

    def _nth_note(self, f: Facts, q: Quote, part: PartFacts) -> str:
        """Two SKUs of a product in a 第二件 offer's scope do not make a pair."""
        nth = [p for p in f.promotions if p.type == "nth_discount"]
        if not nth or len(q.lines) < 2:
            return ""
        for p in nth:
            covered = [ln for ln in q.lines if ln.product.id in p.applies_to]
            if len({ln.product.id for ln in covered}) == 1 and len(covered) >= 2 and not any(p.id in ln.promotions for ln in covered):
                return self.t("nth_same_sku", title=p.title)
        return ""

    def _gap(self, reply: _Reply, part: PartFacts, q: Quote, named: PromoFact | None, *, tail: bool) -> str:
        """How much more reaches the threshold the buyer names, else the nearest (凑单) —
        not after the buyer said no."""
        f = reply.facts
        if f.declined:
            return ""
        if named is not None and named.status == "active":
            reached = [t for i, t, _ in q.full_reductions if i == named.id] + ([q.coupon[1]] if q.coupon and q.coupon[0] == named.id else [])
            reached += [t for i, t, _ in q.gifts if i == named.id]
            if reached:
                return self.t("gap_reached", title=named.title)
        # A threshold nothing in the basket counts toward (another category's coupon) is no
        # 凑单 for it, unless the buyer names it.
        gaps = [g for g in q.gaps if g.missing < g.threshold or (named is not None and g.promotion_id == named.id)]
        if not gaps:
            return ""
        q = _with_gaps(q, gaps)
        gap = _named_gap(f, q, named) or q.gaps[0]
        asked = gap is not q.gaps[0] or _named_gap(f, q, named) is not None
        if not asked and "promotion" not in part.kinds and gap.missing > q.subtotal:
            return ""
        reward = gap.reward
        missing = fmt(gap.missing)
        if _trim(reward.removeprefix("减")) in gap.title:
            text = self.t("gap_plain", missing=missing, title=gap.title)
        else:
            text = self.t("gap", missing=missing, title=gap.title, reward=reward)
        pair = _pair_for(f, gap.missing, q)
        text += (self.t("gap_pair", title=pair.title, price=pair.price) if pair else "") + self.t("sentence_end")
        if pair is not None and tail and len(q.lines) == 1:
            reply.closing(self._two(f"直接拍{q.lines[0].qty}件", f"搭上{pair.title}一起凑单"))
        return text

    def _not_now(self, promo: PromoFact) -> str:
        key = "promo_ended" if promo.status == "ended" else "promo_upcoming"
        return self.t(key, title=promo.title, starts=promo.starts, ends=promo.ends)

    def _promotions_now(self, f: Facts, part: PartFacts | None = None) -> str:
        """The promotions valid now: those covering the products asked about, else all."""
        mine = [p for p in f.promotions if part is not None and set(p.applies_to) & set(part.product_ids + part.tied)]
        promos = mine or f.promotions
        if not promos:
            return ""
        items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in promos)
        return self.t("promotions_now", promos=items)

    def _about_offer(self, f: Facts, part: PartFacts, promo: PromoFact) -> str:
        """What the buyer asks about an offer valid now: when it ends, what it covers, where
        to get it, what it gives."""
        text = ""
        if "ends" in part.modes:
            if promo.ends_today:
                text += self.t("promo_ends_today", title=promo.title, ends=promo.ends, time=promo.end_time or "")
            elif promo.end_time:
                text += self.t("promo_ends_at", title=promo.title, ends=promo.ends, time=promo.end_time)
            else:
                text += self.t("promo_ends", title=promo.title, ends=promo.ends)
        if "where" in part.modes and promo.how_to_get:
            text += self.t("coupon_how", title=promo.title, how=promo.how_to_get)
        if "scope" in part.modes:
            text += self._scope(f, part, promo)
        if not text and promo.type == "gift" and f.quote is None:
            text += self.t("promo_gift", title=promo.title, detail=promo.detail)
        return text

    def _scope(self, f: Facts, part: PartFacts, promo: PromoFact) -> str:
        ids = part.product_ids or [p.id for p in f.products[:1]]
        covered = [f.product(i) for i in ids if i in promo.applies_to]
        not_covered = [f.product(i) for i in ids if i not in promo.applies_to]
        text = ""
        if not_covered and all(p is not None for p in not_covered):
            text += self.t("promo_scope_no", title=promo.title, scope=promo.scope, items="、".join(p.title for p in not_covered if p))
        short = f.quote is not None and any(g.promotion_id == promo.id for g in f.quote.gaps)
        if covered and not not_covered and not short:  # when short of it, the gap says so
            text += self.t("promo_scope_yes", title=promo.title, items="、".join(p.title for p in covered if p))
        return text

    def _around(self, f: Facts, part: PartFacts) -> str:
        """Offers on these products that start soon (when the buyer thinks of waiting or asks
        about offers) or ended lately (when they ask about offers and none is on now)."""
        if not part.around:
            return ""
        asks_offers = "promotion" in part.kinds or "wait" in part.modes
        if not asks_offers:
            return ""
        named = {p.id for p in part.named_promotions}
        text = ""
        for p in part.around:
            if p.id in named:
                continue
            if p.status == "upcoming":
                text += self.t("promo_coming_for", title=p.title, starts=p.starts, ends=p.ends)
            elif not p.shop_wide and not any(set(a.applies_to) & set(p.applies_to) and a.type == p.type for a in f.promotions):
                text += self.t("promo_ended_for", title=p.title, ends=p.ends)
        return text

    def _unknown_offer(self, f: Facts) -> str:
        return self.t("promo_unknown", offer=f.unknown_offer) + self._promotions_now(f)

    def _promotions_overview(self, f: Facts) -> str:
        if not f.promotions:
            return self.t("promotions_none")
        items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in f.promotions)
        text = self.t("promotions_list", promos=items)
        for p in f.promotions:
            if p.how_to_get:
                text += self.t("coupon_how", title=p.title, how=p.how_to_get)
                break
        return text

    def _promotion(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        named = part.named_promotions[0] if part.named_promotions else None
        if named is not None and named.status != "active":
            return self._not_now(named) + self._promotions_now(f, part)
        if named is not None:
            said = self._about_offer(f, part, named)
            if said:
                return said
        if reply.quoted:
            return ""  # the price above already says which offers apply
        return self._price(reply, part)

    def _cheaper(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        product = self._focus(f, part)
        own = [r for r in part.recommendations if product is not None and r.product_id == product.id]
        others = [r for r in part.recommendations if product is None or r.product_id != product.id]
        text = ""
        if own:
            text += self.t("cheaper_own", items="、".join(self._reco_item(r) for r in own))
        if others:
            text += self.t("cheaper_other", items="、".join(self._reco_item(r) for r in others[:2]))
            if len(others) >= 2:
                reply.closing(self._two(others[0].title, others[1].title))
        if text or product is None:
            return text or None
        text = self.t("cheaper_none", title=product.title)
        q = f.quote
        if q is None or not any(ln.product.id == product.id for ln in q.lines):
            return text
        if reply.quoted:
            return text + (self.t("cheaper_applied") if q.total < q.list_total else "")
        if q.total < q.list_total:
            # What it costs with every offer it can get now: a valid coupon, never a dearer product.
            reply.quoted = True
            return text + self._quote(reply, part, q, None, gap=False)  # no 凑单 after "too dear"
        return text

    # --- recommendations -----------------------------------------------------------------------

    def _reco_item(self, r: RecoFact) -> str:
        if r.option:
            return self.t("reco_option", title=r.title, option=r.option, price=r.price)
        if r.why:
            return self.t("reco_item_why", title=r.title, price=r.price, why=r.why)
        return self.t("reco_item", title=r.title, price=r.price)

    def _recommend(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        best = part.answers[0] if part.answers else None
        if best is not None and asks_same(best.head, best.cover) and best.kind in ("faq", "passage"):
            return self._answers_text(f, part, part.answers)  # 「黄皮选哪个色号」 is in a product's FAQ
        if not part.recommendations:
            return None
        picks = [r for r in part.recommendations if r.in_stock] or part.recommendations
        items = "、".join(self._reco_item(r) for r in picks[:2])
        product = self._focus(f, part)
        if product is not None and part.recommend_basis == "related":
            text = self.t("recommend", title=product.title, items=items)
        else:
            text = self.t("recommend_generic", items=items)
        if len(picks) >= 2:
            reply.closing(self._two(picks[0].title, picks[1].title))
        return text

    # --- policy ----------------------------------------------------------------------------------

    def _shipping(self, reply: _Reply, part: PartFacts) -> str:
        f = reply.facts
        said = [a for a in part.policy_answers if not any(flat(a.answer) in flat(b) for b in reply.bodies)]
        if said:
            return "".join(self.t("answer_plain", answer=_sentence(_PAREN.sub("", a.answer))) for a in said)
        if part.policy_answers:
            return ""  # said already, for the question before
        p = f.policy
        regions = p.no_free_shipping_regions
        except_ = self.t("free_except", regions="、".join(regions)) if regions else ""
        threshold = p.free_shipping_threshold
        if threshold is None:
            free = self.t("free_unknown")
        elif Decimal(threshold) == 0:
            free = self.t("free_always", **{"except": except_})
        else:
            free = self.t("free_threshold", threshold=_trim(threshold), **{"except": except_})
        text = self.t("shipping", free=free, hours=p.ship_within_hours, carriers="、".join(p.carriers))
        asked = [r for r in regions if r in part.regions or r in f.question]
        if asked and threshold is not None:
            text += self.t("free_region_out", regions="、".join(asked))
        if f.free_shipping_missing and f.quote is not None and not f.declined and not asked:
            text += self.t("free_gap", price=fmt(f.quote.total), missing=f.free_shipping_missing)
        return text

    def _returns(self, reply: _Reply, part: PartFacts) -> str | None:
        f = reply.facts
        product = self._focus(f, part)
        text = ""
        refused = any(_REFUSAL.search(a.answer) for a in part.policy_answers)
        if product is not None and (not product.no_reason_return or not refused):
            # A rule that refuses (「一旦拆封就不支持」) speaks for itself; a flat "supports" beside it misleads.
            key = "returns_yes" if product.no_reason_return else "returns_no"
            text += self.t(key, days=f.policy.return_window_days)
        for a in part.policy_answers:
            text += self.t("answer_plain", answer=_sentence(a.answer))
        if product is not None and not product.no_reason_return and not part.policy_answers:
            text += self.t("returns_quality", days=f.policy.quality_window_days)
        if not part.policy_answers and part.answers and product is None:
            return self._answers_text(f, part, part.answers)
        return text or None


# --- helpers ---------------------------------------------------------------------------------


def _asks_price(part: PartFacts) -> bool:
    return "price" in part.kinds


def _line_label(line: Any, f: Facts) -> str:
    item = next((b for b in f.basket if b.sku_id == line.sku.sku_id), None)
    props = props_label(line.sku.props) if item is not None and item.basis == "asked" and len(line.product.skus) > 1 else ""
    return f"{line.product.title}{props and ' ' + props}"


def _item_label(product: ProductFact, props: dict[str, str]) -> str:
    """How a reply names the SKU asked about: its properties (黑色 M) when the product comes
    in several; the product title when it has one SKU or none was named — a lone SKU's
    properties (规格) alone do not say which product is meant."""
    label = props_label(props)
    if not label:
        return product.title
    if len(product.skus) <= 1:
        return product.title if flat(label) in flat(product.title) else f"{product.title}（{label}）"
    return label


def _common(skus: list[SkuFact]) -> dict[str, str]:
    """The options every SKU of ``skus`` shares (what the buyer named)."""
    first = skus[0].props
    return {k: v for k, v in first.items() if all(s.props.get(k) == v for s in skus)}


def _named_gap(f: Facts, q: Quote, named: PromoFact | None) -> Gap | None:
    """The threshold the buyer names (还差多少能满199, 差多少能送口水巾), among those missed."""
    if named is not None:
        gap = next((g for g in q.gaps if g.promotion_id == named.id), None)
        if gap is not None:
            return gap
    asked = flat(f.question)
    for gap in q.gaps:
        if f"满{flat(_trim(fmt(gap.threshold)))}" in asked:
            return gap
    return None


def _pair_for(f: Facts, missing: Decimal, q: Quote) -> RecoFact | None:
    in_basket = {ln.product.id for ln in q.lines}
    fits = [r for r in f.recommendations if r.in_stock and Decimal(r.price) >= missing and r.product_id not in in_basket]
    return min(fits, key=lambda r: Decimal(r.price)) if fits else None


def _with_gaps(q: Quote, gaps: list[Gap]) -> Quote:
    from dataclasses import replace

    return replace(q, gaps=gaps)


def _value(a: AnswerFact) -> str:
    answer = a.answer.strip()
    return answer.split("：", 1)[-1] if a.kind == "attribute" else answer


def _trim(amount: str) -> str:
    """``"99.00"`` → ``"99"``; ``"99.50"`` stays."""
    return amount.removesuffix(".00")


def _sentence(text: str) -> str:
    text = text.strip()
    if text.endswith(("；", ";", "，", ",")):
        text = text[:-1]
    return text if text.endswith(("。", "！", "？", "～", "!", "?", ".")) else text + "。"


def _is_body_column(name: str) -> bool:
    return "身高" in name or "体重" in name


def _stock_summary(product: ProductFact) -> str:
    parts = []
    for key, values in product.stock_by_prop.items():
        available = [v for v, n in values.items() if n > 0]
        if available and len(values) > 1:
            parts.append(f"{key}{'/'.join(available)}")
    if not parts:
        for key, values in product.stock_by_prop.items():
            available = [v for v, n in values.items() if n > 0]
            if available:
                parts.append(f"{key}{'/'.join(available)}")
    return "，".join(parts)


def _sold_out(product: ProductFact) -> str:
    """Option values with no stock at all (「2段」), named so the buyer is not left guessing."""
    out = []
    for key, values in product.stock_by_prop.items():
        if len(values) > 1:
            out.extend(v for v, n in values.items() if n == 0)
    return "、".join(out)
