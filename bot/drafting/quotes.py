"""Baskets a buyer asks the price of, priced by the pricing engine.

「玻尿酸精华30ml+修护面霜50g一起买多少钱」 is two lines, 「一个16一个16pro，透明壳各买一个」 two
SKUs of one product, 「L码纸尿裤拍两包」 one SKU twice. The question is cut where one product's
words end and another's begin (+, 加, 和, spaces); each piece names a product, its options and
its count. What the buyer did not name is the product's cheapest SKU in stock. A question that
names no product ("差多少能满300减40") prices the basket of the last message that named one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import product as combos

from pydantic import BaseModel

from bot.drafting.matching import flat
from bot.drafting.products import ProductFinder
from bot.drafting.quantities import counts
from bot.errors import TellCustomer
from bot.pricing import BasketLine, Quote, price_basket
from bot.shop.models import Buyer, Product, Shop, Sku
from bot.text.normalize import normalize

MAX_LINES = 6
_ASCII_SPACE = re.compile(r"(?<=[a-z0-9])\s+(?=[a-z0-9])")
_CUT = re.compile(r"[+,、;]+|(?<=.)(?:再加上|再加|外加|加上|加|和|跟|配|还有|以及)(?=.)")


class BasketItem(BaseModel):
    """One line of the basket asked about; ``basis`` says whether the buyer named the SKU
    (``asked``) or it is the product's cheapest in stock (``cheapest``)."""

    product_id: str
    sku_id: str
    qty: int
    basis: str


@dataclass(frozen=True)
class _Piece:
    text: str
    product_id: str | None


class Baskets:
    """Reads baskets out of questions and prices them, for one shop."""

    def __init__(self, shop: Shop, finder: ProductFinder) -> None:
        self.shop = shop
        self.finder = finder

    def read(
        self, text: str, products: Sequence[Product], *, each: bool = False, sku_ids: Sequence[str] = (),
        qty: int | None = None,
    ) -> list[BasketItem]:
        """The basket ``text`` asks about, among ``products`` (the products the question
        names, best first). ``sku_ids`` and ``qty`` are what the router read, used where the
        text itself names no SKU or count."""
        if not products:
            return []
        by_id = {p.id: p for p in products}
        pieces = self._pieces(text, products)
        owners = list(dict.fromkeys(pc.product_id for pc in pieces if pc.product_id))
        if len(owners) <= 1:
            # One product: every word of the question is about it.
            p = by_id[owners[0]] if owners else products[0]
            return self._lines(p, text, each=each, sku_ids=sku_ids, qty=qty)[:MAX_LINES]
        items: list[BasketItem] = []
        for pid in owners:
            own = " ".join(pc.text for pc in pieces if pc.product_id == pid)
            items.extend(self._lines(by_id[pid], own, each=each, sku_ids=sku_ids, qty=None))
        return items[:MAX_LINES]

    def _pieces(self, text: str, products: Sequence[Product]) -> list[_Piece]:
        """The question cut into pieces, each given the product it names; pieces naming none
        join the next piece that names one (「一个16一个16pro，透明壳各买一个」)."""
        wanted = {p.id for p in products}
        # Spaces inside an ASCII phrase (c to c) keep it whole; other spaces separate words.
        norm = _ASCII_SPACE.sub("", normalize(text))
        raw = [flat(c) for part in norm.split(" ") for c in _CUT.split(part) if flat(c)]
        out: list[_Piece] = []
        waiting: list[str] = []
        for chunk in raw:
            naming = self.finder.named(chunk)
            pid = next((m.product_id for m in naming.mentions if m.product_id in wanted), None)
            if pid is None:
                waiting.append(chunk)
                continue
            out.append(_Piece("".join([*waiting, chunk]), pid))
            waiting = []
        if waiting and out:
            last = out[-1]
            out[-1] = _Piece(last.text + "".join(waiting), last.product_id)
        return out

    def _lines(
        self, p: Product, text: str, *, each: bool, sku_ids: Sequence[str], qty: int | None
    ) -> list[BasketItem]:
        index = self.finder.options[p.id]
        named = index.props(text)
        specs = [v for s in p.skus for v in s.props.values()]
        found = counts(text, specs)
        n = found[0].n if found else (qty or 1)
        if named:
            skus = self._named_skus(p, named)
            basis = "asked"
        else:
            routed = [s for s in (p.sku(x) for x in sku_ids) if s is not None]
            if routed and len(routed) == 1:
                skus, basis = routed, "asked"
            elif len(p.skus) == 1:
                skus, basis = list(p.skus), "asked"
            else:
                skus, basis = [_cheapest(p.skus)], "cheapest"
        if len(skus) > 1 and not each and len(found) >= len(skus):
            return [BasketItem(product_id=p.id, sku_id=s.sku_id, qty=c.n, basis=basis) for s, c in zip(skus, found)]
        per = n if (each or len(skus) == 1) else 1
        return [BasketItem(product_id=p.id, sku_id=s.sku_id, qty=per, basis=basis) for s in skus]

    @staticmethod
    def _named_skus(p: Product, named: dict[str, list[str]]) -> list[Sku]:
        """One SKU per combination of the values named for an option named more than once
        (16 and 16 Pro), the cheapest in stock of each."""
        multi = [k for k, vs in named.items() if len(vs) > 1]
        single = {k: vs[0] for k, vs in named.items() if len(vs) == 1}
        out: list[Sku] = []
        for combo in combos(*(named[k] for k in multi)) if multi else [()]:
            want = {**single, **dict(zip(multi, combo))}
            fits = [s for s in p.skus if all(s.props.get(k) == v for k, v in want.items() if k in s.props)]
            if fits:
                sku = _cheapest(fits)
                if sku not in out:
                    out.append(sku)
        return out or [_cheapest(p.skus)]

    def price(self, items: Sequence[BasketItem], now: datetime, buyer: Buyer) -> Quote | None:
        if not items:
            return None
        try:
            return price_basket(self.shop, [BasketLine(i.sku_id, i.qty) for i in items], now, buyer=buyer)
        except TellCustomer:
            return None


def _cheapest(skus: Sequence[Sku]) -> Sku:
    in_stock = [s for s in skus if s.stock > 0] or list(skus)
    return min(in_stock, key=lambda s: s.price)
