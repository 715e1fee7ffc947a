"""A shop as retrievable passages, each with a stable id and a citation.

Ids and citations (``退换货.md#七天无理由``) stay the same while the source text does, so
labelled sets, stored conversation sources and the incremental index can refer to them.

| type | id | citation |
|---|---|---|
| product_overview / _attributes / _usage / _care / size_chart / product_skus | ``T101#overview`` … | ``T101.yaml#overview`` |
| product_faq | ``T101#faq-1`` | ``T101.yaml#faq-1`` |
| rule | ``退换货.md#七天无理由`` | same |
| promotion | ``promo:D-NEW`` | ``promotions.yaml#D-NEW`` |
| faq | ``faq#1`` | ``faq.yaml#1`` |
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel

from bot import yamlfiles
from bot.money import fmt
from bot.shop import yamlio
from bot.shop.models import Product, Promotion, Scope, Shop

PASSAGE_TYPES = (
    "product_overview",
    "product_attributes",
    "product_usage",
    "product_care",
    "size_chart",
    "product_faq",
    "product_skus",
    "rule",
    "promotion",
    "faq",
)
PRODUCT_TYPES = frozenset(t for t in PASSAGE_TYPES if t.startswith("product_") or t == "size_chart")
ALWAYS = (0, 253402300799)  # validity of everything but promotions: epoch 0 … year 9999

_ASPECTS_FILE = Path(__file__).parent / "data" / "aspects.yaml"


class Passage(BaseModel):
    """One retrievable fact block. ``source`` is the shop-relative file it comes from."""

    id: str
    type: str
    text: str
    title: str
    citation: str
    product_id: str | None = None
    category: str | None = None
    source: str
    valid_from: int = ALWAYS[0]  # epoch seconds; promotions count only inside this window
    valid_to: int = ALWAYS[1]

    def valid_at(self, now: datetime) -> bool:
        return self.valid_from <= now.timestamp() <= self.valid_to

    @property
    def digest(self) -> str:
        """Hash of everything that is indexed: equal digests need no re-embedding."""
        raw = "\x1f".join((self.type, self.title, self.text, self.product_id or "", self.category or ""))
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


class Hit(BaseModel):
    passage: Passage
    score: float


@lru_cache(maxsize=1)
def aspect_words() -> dict[str, tuple[str, ...]]:
    data = yamlfiles.read(_ASPECTS_FILE) or {}
    return {str(k): tuple(str(w) for w in v) for k, v in data.items()}


def index_text(passage: Passage) -> str:
    """The text that is tokenised and embedded: title, body and the words buyers use for
    this kind of passage."""
    extra = " ".join(aspect_words().get(passage.type, ()))
    category = passage.category or ""
    return f"{passage.title} {category}\n{passage.text}\n{extra}"


def _yuan(value: Decimal) -> str:
    text = fmt(value)
    return text[:-3] if text.endswith(".00") else text


def _rate(rate: Decimal) -> str:
    """0.85 → 8.5折, 0.5 → 5折."""
    tenths = (rate * 10).normalize()
    return f"{tenths:f}折"


def product_files(shop: Shop) -> dict[str, str]:
    """Product id → shop-relative file. Files are normally named after the id; others are
    read for their ``id``."""
    files = sorted(p for p in shop.file_hashes if p.startswith("products/"))
    out: dict[str, str] = {}
    for rel in files:
        stem = Path(rel).stem
        if stem in shop.products and stem not in out:
            out[stem] = rel
    missing = set(shop.products) - set(out)
    for rel in files:
        if not missing:
            break
        if Path(rel).stem in out:
            continue
        try:
            data = yamlio.load((shop.root / rel).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        pid = str(data.get("id", "")) if isinstance(data, dict) else ""
        if pid in missing:
            out[pid] = rel
            missing.discard(pid)
    for pid in missing:
        out[pid] = f"products/{pid}.yaml"
    return out


def _product_passages(shop: Shop, product: Product, source: str) -> Iterator[Passage]:
    name = Path(source).name
    title = product.title

    def make(kind: str, anchor: str, label: str, text: str) -> Passage:
        return Passage(
            id=f"{product.id}#{anchor}",
            type=kind,
            text=text,
            title=f"{title} · {label}",
            citation=f"{name}#{anchor}",
            product_id=product.id,
            category=product.category,
            source=source,
        )

    prices = sorted({s.price for s in product.skus})
    price = _yuan(prices[0]) + (f"-{_yuan(prices[-1])}" if len(prices) > 1 else "")
    days = shop.info.policy.return_window_days
    ret = f"支持{days}天无理由退货" if product.no_reason_return else f"不支持{days}天无理由退货"
    overview = f"{title}，类目{product.category}，价格{price}元。"
    if product.selling_points:
        overview += "卖点：" + "；".join(product.selling_points) + "。"
    overview += ret + "。"
    yield make("product_overview", "overview", "商品介绍", overview)

    if product.attributes:
        attrs = "；".join(f"{k}：{v}" for k, v in product.attributes.items())
        yield make("product_attributes", "attributes", "商品参数", f"{title}的参数：{attrs}。")
    if product.usage:
        yield make("product_usage", "usage", "使用建议", f"{title}的使用建议：{product.usage}")
    if product.care:
        yield make("product_care", "care", "保养方法", f"{title}的保养方法：{product.care}")
    if product.size_chart is not None:
        cols = product.size_chart.columns
        rows = [
            f"{row[0]}：" + "，".join(f"{c} {v}" for c, v in zip(cols[1:], row[1:]))
            for row in product.size_chart.rows
        ]
        yield make("size_chart", "size_chart", "尺码表", f"{title}的尺码表（{'/'.join(cols)}）：" + "；".join(rows) + "。")
    for i, qa in enumerate(product.faq, start=1):
        yield make("product_faq", f"faq-{i}", f"问：{qa.q}", f"关于{title}，问：{qa.q} 答：{qa.a}")
    skus = []
    for sku in product.skus:
        props = " ".join(f"{k}{v}" for k, v in sku.props.items()) or sku.sku_id
        stock = f"有货（库存{sku.stock}件）" if sku.stock > 0 else "缺货"
        skus.append(f"{props} {_yuan(sku.price)}元 {stock}")
    yield make("product_skus", "skus", "规格价格库存", f"{title}的规格、价格与库存：" + "；".join(skus) + "。")


def _scope_text(shop: Shop, scope: Scope) -> str:
    if scope.all:
        return "全店商品"
    if scope.products is not None:
        names = [shop.products[p].title if p in shop.products else p for p in scope.products]
        return "、".join(names)
    return "、".join(scope.categories or []) + "类商品"


def promotion_text(shop: Shop, promo: Promotion) -> str:
    """A promotion in words, with its scope and its time window."""
    scope = _scope_text(shop, promo.scope)
    if promo.type == "discount":
        body = f"{scope}打{_rate(promo.rate)}"
    elif promo.type == "nth_discount":
        body = f"{scope}同一款第{promo.n}件{'免费' if promo.rate == 0 else _rate(promo.rate)}"
    elif promo.type == "full_reduction":
        tiers = "，".join(f"满{_yuan(t.threshold)}减{_yuan(t.amount)}" for t in promo.tiers)
        body = f"{scope}{tiers}"
    elif promo.type == "coupon":
        body = f"优惠券：{scope}满{_yuan(promo.threshold)}减{_yuan(promo.amount)}"
        if promo.how_to_get:
            body += f"，领取方式：{promo.how_to_get}"
        if not promo.claimable:
            body += "，仅限已获得此券的买家使用"
    else:
        body = f"{scope}满{_yuan(promo.threshold)}元送{promo.gift}"
    when = f"活动时间：{promo.start:%Y-%m-%d %H:%M} 至 {promo.end:%Y-%m-%d %H:%M}"
    text = f"{promo.title}：{body}。{when}。"
    if promo.description:
        text += promo.description
    return text


def build_passages(shop: Shop, now: datetime | None = None) -> list[Passage]:
    """Every passage of ``shop``. With ``now``, only the promotions valid at ``now``;
    without it, all of them (the index keeps all and filters at query time)."""
    out: list[Passage] = []
    files = product_files(shop)
    for pid in sorted(shop.products):
        out.extend(_product_passages(shop, shop.products[pid], files[pid]))
    out.extend(shop_wide_passages(shop, now))
    return out


def shop_wide_passages(shop: Shop, now: datetime | None = None) -> list[Passage]:
    """The passages that belong to no product (rules, promotions, FAQ), as in
    :func:`build_passages`: what reads the shop's policies needs these alone, not the
    thousands of product passages."""
    out: list[Passage] = []
    for doc in shop.rules:
        seen: dict[str, int] = {}
        for section in doc.sections:
            seen[section.heading] = seen.get(section.heading, 0) + 1
            anchor = section.heading if seen[section.heading] == 1 else f"{section.heading}~{seen[section.heading]}"
            cite = f"{doc.file}#{anchor}"
            tags = f"（{'、'.join(doc.tags)}）" if doc.tags else ""
            out.append(
                Passage(
                    id=cite,
                    type="rule",
                    text=section.text,
                    title=f"{doc.title} · {section.heading}{tags}",
                    citation=cite,
                    source=f"rules/{doc.file}",
                )
            )
    promo_source = next((p for p in shop.file_hashes if Path(p).stem == "promotions"), "promotions.yaml")
    for promo in shop.promotions:
        if now is not None and not promo.valid_at(now):
            continue
        out.append(
            Passage(
                id=f"promo:{promo.id}",
                type="promotion",
                text=promotion_text(shop, promo),
                title=promo.title,
                citation=f"{Path(promo_source).name}#{promo.id}",
                source=promo_source,
                valid_from=int(promo.start.timestamp()),
                valid_to=int(promo.end.timestamp()),
            )
        )
    faq_source = next((p for p in shop.file_hashes if Path(p).stem == "faq"), "faq.yaml")
    for i, entry in enumerate(shop.faq, start=1):
        tags = f"（{'、'.join(entry.tags)}）" if entry.tags else ""
        out.append(
            Passage(
                id=f"faq#{i}",
                type="faq",
                text=f"问：{entry.q} 答：{entry.a}",
                title=f"{entry.q}{tags}",
                citation=f"{Path(faq_source).name}#{i}",
                source=faq_source,
            )
        )
    return out
