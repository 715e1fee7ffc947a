"""The offline drafter: a grounded reply composed from the facts with phrases from
``prompts/templates.yaml``. Every number it writes comes from the facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.drafting.facts import AnswerFact, Facts, ProductFact
from bot.drafting.matching import flat
from bot.drafting.prompts import PromptSet
from bot.drafting.relevance import MIN_SCORE

_PRODUCT_ANSWERS = ("faq", "attribute", "care", "usage", "selling_points")
_SHOP_ANSWERS = ("faq", "passage")  # the shop's FAQ, rules and retrieved passages
LOW_STOCK = 10  # at or below this, the reply says only a few are left
MAX_ANSWERS = 2
# A rule or FAQ replaces the shipping-policy summary only when it answers clearly more of
# the question (指定快递 is in a rule, not in the summary).
POLICY_MARGIN = 0.25

# Every template and the variables the drafter passes; checked against the file at start-up.
TEMPLATE_VARS: dict[str, tuple[str, ...]] = {
    "unknown": ("term", "persona"),
    "answer": ("term", "subject", "answer"),
    "answer_more": ("answer",),
    "answer_plain": ("term", "answer"),
    "stock_in": ("term", "item", "stock"),
    "stock_low": ("term", "item", "stock"),
    "stock_out": ("term", "item"),
    "stock_alternatives": ("options",),
    "stock_summary": ("term", "title", "summary"),
    "stock_none": ("term", "title"),
    "stock_ask": (),
    "size_one": ("term", "title", "body", "size", "basis"),
    "size_two": ("term", "title", "body", "small", "large"),
    "size_out": ("term", "title", "body", "persona"),
    "size_ask": ("term", "title", "sizes"),
    "size_body_both": ("height", "weight"),
    "size_body_height": ("height",),
    "size_body_weight": ("weight",),
    "size_sold_out": ("item",),
    "size_in_stock": ("item",),
    "price_line": ("term", "item", "qty", "list_total"),
    "price_discount": ("titles", "subtotal"),
    "price_reduction": ("title", "amount"),
    "price_coupon": ("title", "amount"),
    "price_total": ("total", "savings"),
    "price_total_plain": ("total",),
    "gift": ("gifts",),
    "coupon_how": ("title", "how"),
    "gap": ("missing", "title", "reward"),
    "gap_plain": ("missing", "title"),
    "gap_pair": ("title", "price"),
    "sentence_end": (),
    "promotions_list": ("term", "promos"),
    "promotions_none": ("term",),
    "promo_item": ("title", "ends"),
    "promo_applies": ("titles",),
    "shipping": ("term", "free", "hours", "carriers"),
    "free_threshold": ("threshold", "except"),
    "free_always": ("except",),
    "free_unknown": (),
    "free_except": ("regions",),
    "free_gap": ("price", "missing"),
    "free_region_out": ("regions",),
    "recommend": ("term", "title", "items"),
    "recommend_generic": ("term", "items"),
    "reco_item": ("title", "price"),
    "close_two": ("a", "b"),
    "close_colour": ("a", "b"),
    "price_plain": ("term", "item", "qty", "total"),
    "promo_for_item": ("promos",),
    "promo_ended": ("term", "title", "starts", "ends"),
    "promo_upcoming": ("term", "title", "starts", "ends"),
    "promo_unknown": ("term", "offer"),
    "promotions_now": ("promos",),
    "reco_item_why": ("title", "price", "why"),
    "off_platform": ("term",),
}

# Intents answered from product data first; the rest from FAQ / rules passages.
_HANDLERS: dict[str, str] = {
    "stock": "_stock",
    "size_advice": "_size",
    "price_promotion": "_price",
    "recommendation": "_recommend",
    "shipping_policy": "_shipping",
    "product_info": "_product_info",
}


def props_label(props: dict[str, str]) -> str:
    """``{颜色: 黑色, 尺码: L}`` → ``黑色L码``."""
    parts = []
    for key, value in props.items():
        if "码" in key and value.isascii() and not value.endswith("码"):
            value = f"{value}码"
        parts.append(value)
    return "".join(parts)


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
        if facts.named_promotion is not None and (facts.intent == "price_promotion" or facts.focus() is None):
            return self._named_promotion(facts)
        if facts.unknown_offer is not None and facts.intent in ("price_promotion", "other"):
            return self._unknown_offer(facts)
        handler: Callable[[Facts], str | None] = getattr(self, _HANDLERS.get(facts.intent, "_general"))
        text = handler(facts)
        if text is None and handler != self._general:
            text = self._general(facts)
        return text or self._unknown(facts)

    # --- common pieces -------------------------------------------------------------------

    def _term(self, f: Facts) -> str:
        return f.address_term

    def _unknown(self, f: Facts) -> str:
        return self.t("unknown", term=f.address_term, persona=f.persona_name)

    def _close(self, f: Facts, a: str, b: str) -> str:
        if f.declined or not a or not b or a == b:
            return ""
        return self.t("close_two", a=a, b=b)

    def _answers_text(self, f: Facts, answers: list[AnswerFact]) -> str:
        first, *rest = answers[:MAX_ANSWERS]
        answer = first.answer.strip()
        if first.kind in ("faq", "passage"):
            text = self.t("answer_plain", term=f.address_term, answer=_sentence(answer))
        else:
            subject = f"这款的{first.question}" if first.kind == "attribute" else f"关于{first.question}"
            if first.kind == "attribute":
                answer = answer.split("：", 1)[-1]
            text = self.t("answer", term=f.address_term, subject=subject, answer=_sentence(answer))
        # A second answer only when it is about this product and as close to the question.
        for extra in rest:
            if (
                extra.kind in _PRODUCT_ANSWERS and extra.cover >= first.cover and extra.head >= first.head > 0
                and extra.answer.strip() not in text
            ):
                text += self.t("answer_more", answer=_sentence(extra.answer.strip()))
        return text

    def _promo_hint(self, f: Facts, product: ProductFact | None) -> str:
        """The promotions this product takes part in, and how much more reaches the nearest
        threshold (凑单) — not after the buyer said no."""
        if f.declined or product is None:
            return ""
        titles = [p.title for p in f.promotions if product.id in p.applies_to and p.type in ("discount", "nth_discount")]
        text = self.t("promo_applies", titles="、".join(titles)) if titles else ""
        return text + self._gap(f, near_only=True)

    def _gap(self, f: Facts, *, near_only: bool = False) -> str:
        """How much more reaches the nearest threshold (凑单). ``near_only``: only when the
        missing amount is at most what is already in the basket — unasked advice stays small."""
        from decimal import Decimal

        if f.declined or not f.quote or not f.quote.get("gaps"):
            return ""
        gap = _named_gap(f) or f.quote["gaps"][0]
        if near_only and Decimal(gap["missing"]) > Decimal(f.quote["subtotal"]):
            return ""
        reward = gap["reward"]
        if _trim(reward.removeprefix("减")) in gap["title"]:
            text = self.t("gap_plain", missing=gap["missing"], title=gap["title"])
        else:
            text = self.t("gap", missing=gap["missing"], title=gap["title"], reward=reward)
        pair = self._pair_for(f, gap["missing"])
        return text + (self.t("gap_pair", title=pair.title, price=pair.price) if pair else "") + self.t("sentence_end")

    @staticmethod
    def _pair_for(f: Facts, missing: str) -> Any:
        from decimal import Decimal

        need = Decimal(missing)
        fits = [r for r in f.recommendations if r.in_stock and Decimal(r.price) >= need]
        return min(fits, key=lambda r: Decimal(r.price)) if fits else None

    # --- intents ---------------------------------------------------------------------------

    def _general(self, f: Facts) -> str | None:
        # Invoices, payment and other shop questions: answer, no selling.
        return self._answers_text(f, f.answers) if f.answers else None

    def _product_info(self, f: Facts) -> str | None:
        if not f.answers:
            return None
        text = self._answers_text(f, f.answers)
        product = f.focus()
        text += self._promo_hint(f, product)
        if product is not None:
            text += self._colour_close(f, product)
        return text

    def _colour_close(self, f: Facts, product: ProductFact) -> str:
        for key, values in product.stock_by_prop.items():
            available = [v for v, n in values.items() if n > 0]
            if len(available) >= 2 and "码" not in key and not f.declined:
                return self.t("close_colour", a=available[0], b=available[1])
        return ""

    def _stock(self, f: Facts) -> str | None:
        product = f.focus()
        if product is None:
            return None
        term = f.address_term
        if f.asked_skus:
            in_stock = [s for s in f.asked_skus if s.stock > 0]
            if in_stock and len(f.asked_skus) == 1:
                s = in_stock[0]
                key = "stock_low" if s.stock <= LOW_STOCK else "stock_in"
                return self.t(key, term=term, item=_item_label(product, s.props), stock=s.stock) + self._promo_hint(f, product)
            if in_stock:
                summary = "、".join(props_label(s.props) for s in in_stock)
                return self.t("stock_summary", term=term, title=product.title, summary=summary) + self._promo_hint(f, product)
            text = self.t("stock_out", term=term, item=_item_label(product, f.asked_props))
            if f.alternatives:
                labels = [props_label(s.props) for s in f.alternatives]
                text += self.t("stock_alternatives", options="、".join(labels))
                if len(labels) >= 2:
                    text += self._close(f, labels[0], labels[1])
            return text
        if not product.in_stock:
            return self.t("stock_none", term=term, title=product.title)
        summary = _stock_summary(product)
        return self.t("stock_summary", term=term, title=product.title, summary=summary) + self.t("stock_ask")

    def _size(self, f: Facts) -> str | None:
        product = f.focus()
        if product is None or product.size_chart is None:
            return None
        term = f.address_term
        sizes = [row[0] for row in product.size_chart["rows"]]
        advice = f.size_advice
        if advice is None:
            return self.t("size_ask", term=term, title=product.title, sizes="、".join(sizes))
        if advice.height_cm and advice.weight_kg:
            body = self.t("size_body_both", height=advice.height_cm, weight=advice.weight_kg)
        elif advice.height_cm:
            body = self.t("size_body_height", height=advice.height_cm)
        else:
            body = self.t("size_body_weight", weight=advice.weight_kg)
        if not advice.fits:
            return self.t("size_out", term=term, title=product.title, body=body, persona=f.persona_name)
        if len(advice.fits) == 1:
            row = advice.rows[0]
            basis = "，".join(f"{k}{v}" for k, v in row.items() if k != advice.size_column and _is_body_column(k))
            text = self.t("size_one", term=term, title=product.title, body=body, size=advice.fits[0], basis=basis or advice.fits[0])
        else:
            small, large = advice.fits[0], advice.fits[-1]
            text = self.t("size_two", term=term, title=product.title, body=body, small=small, large=large)
            text += self._close(f, f"合身的{small}码", f"宽松的{large}码")
        text += self._size_stock(f, product, advice.fits)
        return text

    def _size_stock(self, f: Facts, product: ProductFact, fits: list[str]) -> str:
        """Stock of the advised size in the colour asked, when the buyer named one."""
        colour = {k: v for k, v in f.asked_props.items() if "码" not in k}
        if not colour or len(fits) != 1:
            return ""
        size_key = next((k for s in product.skus for k in s.props if "码" in k), None)
        if size_key is None:
            return ""
        wanted = {**colour, size_key: fits[0]}
        sku = next((s for s in product.skus if all(s.props.get(k) == v for k, v in wanted.items())), None)
        if sku is None:
            return ""
        key = "size_in_stock" if sku.stock > 0 else "size_sold_out"
        return self.t(key, item=props_label(sku.props))

    def _price(self, f: Facts) -> str | None:
        if f.quote is None:
            # A question about how offers work (叠加, 领券) is answered from the rules; a
            # question about what is on offer gets the list of current promotions.
            best = f.answers[0] if f.answers else None
            if best is not None and best.kind in _SHOP_ANSWERS and best.cover > f.promotions_cover:
                return self._answers_text(f, f.answers)
            return self._promotions_overview(f)
        q = f.quote
        line = q["lines"][0]
        term = f.address_term
        # Priced at the cheapest SKU because none was named: no colour/size in the reply.
        item = props_label(line["props"]) if f.quote_basis == "asked" else ""
        title = line["title"]
        label = f"{title}{item and ' ' + item}"
        if q["total"] == q["list_total"] and not q["gifts"]:
            text = self.t("price_plain", term=term, item=label, qty=line["qty"], total=q["total"])
            mine = [p for p in f.promotions if line["product"] in p.applies_to]
            if f.qty is None and mine:  # "有什么优惠": the offers this product can get
                items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in mine)
                text += self.t("promo_for_item", promos=items)
            return text + self._price_tail(f, line)
        text = self.t("price_line", term=term, item=label, qty=line["qty"], list_total=q["list_total"])
        if q["subtotal"] != q["list_total"]:
            titles = [p.title for p in f.promotions if p.id in line["promotions"]]
            text += self.t("price_discount", titles="、".join(titles) or "活动", subtotal=q["subtotal"])
        for fr in q["full_reductions"]:
            text += self.t("price_reduction", title=fr["title"], amount=fr["amount"])
        if q["coupon"]:
            text += self.t("price_coupon", title=q["coupon"]["title"], amount=q["coupon"]["amount"])
        if q["total"] != q["list_total"]:
            text += self.t("price_total", total=q["total"], savings=q["savings"])
        else:
            text += self.t("price_total_plain", total=q["total"])
        if q["gifts"]:
            text += self.t("gift", gifts="、".join(g["gift"] for g in q["gifts"]))
        if q["coupon"]:
            promo = next((p for p in f.promotions if p.id == q["coupon"]["id"]), None)
            if promo and promo.how_to_get:
                text += self.t("coupon_how", title=promo.title, how=promo.how_to_get)
        return text + self._price_tail(f, line)

    def _price_tail(self, f: Facts, line: dict[str, Any]) -> str:
        gap = self._gap(f)
        if not gap:
            return ""
        pair = self._pair_for(f, (_named_gap(f) or f.quote["gaps"][0])["missing"])  # type: ignore[index]
        if pair is not None:
            gap += self._close(f, f"直接拍{line['qty']}件", f"搭上{pair.title}一起凑单")
        return gap

    def _named_promotion(self, f: Facts) -> str:
        promo = f.named_promotion
        assert promo is not None
        key = "promo_ended" if promo.status == "ended" else "promo_upcoming"
        text = self.t(key, term=f.address_term, title=promo.title, starts=promo.starts, ends=promo.ends)
        if f.promotions:
            items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in f.promotions)
            text += self.t("promotions_now", promos=items)
        return text

    def _unknown_offer(self, f: Facts) -> str:
        text = self.t("promo_unknown", term=f.address_term, offer=f.unknown_offer)
        if f.promotions:
            items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in f.promotions)
            text += self.t("promotions_now", promos=items)
        return text

    def _promotions_overview(self, f: Facts) -> str:
        if not f.promotions:
            return self.t("promotions_none", term=f.address_term)
        items = "；".join(self.t("promo_item", title=p.title, ends=p.ends) for p in f.promotions)
        text = self.t("promotions_list", term=f.address_term, promos=items)
        for p in f.promotions:
            if p.how_to_get:
                text += self.t("coupon_how", title=p.title, how=p.how_to_get)
                break
        return text

    def _recommend(self, f: Facts) -> str | None:
        if not f.recommendations:
            return None
        picks = [r for r in f.recommendations if r.in_stock] or f.recommendations
        items = "、".join(
            self.t("reco_item_why", title=r.title, price=r.price, why=r.why) if r.why else self.t("reco_item", title=r.title, price=r.price)
            for r in picks[:2]
        )
        product = f.focus()
        if product is not None and f.recommend_basis == "related":
            text = self.t("recommend", term=f.address_term, title=product.title, items=items)
        else:
            text = self.t("recommend_generic", term=f.address_term, items=items)
        if len(picks) >= 2:
            text += self._close(f, picks[0].title, picks[1].title)
        return text

    def _shipping(self, f: Facts) -> str:
        best = f.answers[0] if f.answers else None
        if best is not None and best.kind in _SHOP_ANSWERS and best.cover >= max(f.policy_cover + POLICY_MARGIN, MIN_SCORE):
            # A question the policy summary does not cover (指定快递) is answered from the
            # matching rule or FAQ.
            return self._answers_text(f, f.answers)
        p = f.policy
        regions = p.get("no_free_shipping_regions") or []
        except_ = self.t("free_except", regions="、".join(regions)) if regions else ""
        threshold = p.get("free_shipping_threshold")
        if threshold is None:
            free = self.t("free_unknown")
        elif float(threshold) == 0:
            free = self.t("free_always", **{"except": except_})
        else:
            free = self.t("free_threshold", threshold=_trim(threshold), **{"except": except_})
        text = self.t("shipping", term=f.address_term, free=free, hours=p["ship_within_hours"], carriers="、".join(p["carriers"]))
        asked = [r for r in regions if r and r in f.question]
        if asked and threshold is not None:
            text += self.t("free_region_out", regions="、".join(asked))
        product = f.focus()
        if product is not None and threshold is not None and not f.declined:
            from decimal import Decimal

            price = Decimal(f.quote["total"]) if f.quote else Decimal(product.price)
            if 0 < price < Decimal(threshold):
                text += self.t("free_gap", price=f"{price:.2f}", missing=f"{Decimal(threshold) - price:.2f}")
        return text


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


def _named_gap(f: Facts) -> dict[str, Any] | None:
    """The threshold the buyer names (还差多少能满199), among those the basket misses."""
    if not f.quote:
        return None
    asked = flat(f.question)
    for gap in f.quote.get("gaps") or []:
        if f"满{flat(_trim(gap['threshold']))}" in asked:
            return gap
    return None


def _trim(amount: str) -> str:
    """``"99.00"`` → ``"99"``; ``"99.50"`` stays."""
    return amount.removesuffix(".00")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "～", "!", "?", ".")) else text + "。"


def _is_body_column(name: str) -> bool:
    return "身高" in name or "体重" in name


def _stock_summary(product: ProductFact) -> str:
    parts = []
    for key, values in product.stock_by_prop.items():
        available = [v for v, n in values.items() if n > 0]
        if available:
            parts.append(f"{key}{'/'.join(available)}")
    return "，".join(parts)
