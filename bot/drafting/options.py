"""Which SKU options (颜色, 规格, 机型 …) a buyer's words name, for one product.

Buyers write options their own way: 「250克」 for 250g罐装, 「promax」 for iPhone 16 Pro Max,
「豆沙色」 for #02豆沙玫瑰, 「1段」 for 1段(0-6个月), 「黑色」 for 磨砂黑. Each option value is
turned into the forms a buyer may use — the whole value, its number-and-unit pieces, its word
pieces and their first characters, the last words of a model name, the colour family — and a
form names a value only when no other value of the same option shares it. Several values of
one option may be named at once (「一个16一个16pro」): baskets need them all.

An age in months (「宝宝8个月」) picks the value whose range contains it (2段(6-12个月)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.retrieval.linker import value_variants
from bot.shop.models import Product, Shop, Sku
from bot.text.normalize import normalize
from bot.text.numbers import to_int

_UNITS = (("毫升", "ml"), ("千克", "kg"), ("公斤", "kg"), ("克", "g"), ("厘米", "cm"), ("公分", "cm"))
_SPLIT = re.compile(r"[\s+/×xX*()（）\[\]、,，·]+")
_UNIT_CHARS = "米段片包抽支瓶盒罐袋寸号码岁斤两层"
_TOKEN = re.compile(rf"\d+(?:\.\d+)?(?:[a-z%]+|[{_UNIT_CHARS}])?|[a-z]{{1,3}}[号码]|[a-z][a-z0-9]*|[\u4e00-\u9fff]+")
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")
_ASCII = re.compile(r"[a-z0-9]")
_NOT_A_MODEL = "元块折减件个条双套盒罐包只支瓶袋箱份片根次倍"  # 「16个」 counts, 「满160」 is money
_AGE_MONTHS = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*个\s*月")
_AGE_YEARS = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*(?:岁|周岁)(半)?")
_RANGE_MONTHS = re.compile(r"(\d+)\s*[-~～至到]\s*(\d+)\s*(个月|月|岁)")
_FROM_MONTHS = re.compile(r"(\d+)\s*(个月|月|岁)\s*以上")


def canon(text: str) -> str:
    """Matching form of option text: normalised, units spelt the short way (250克 → 250g),
    「加」 between two words as「+」 (充电头加线 ~ 充电头+1米线)."""
    norm = normalize(text)
    for word, short in _UNITS:
        norm = re.sub(rf"(\d)\s*{word}", rf"\1{short}", norm)
    return re.sub(r"(?<=[\u4e00-\u9fff])加(?=[\u4e00-\u9fff0-9a-z])", "+", norm)


def _bounded(text: str, start: int, end: int) -> bool:
    """An ASCII or digit form must not sit inside a longer ASCII run (L is not inside XL)."""
    if _ASCII.match(text[start]) and start > 0 and _ASCII.match(text[start - 1]):
        return False
    if _ASCII.match(text[end - 1]) and end < len(text) and (_ASCII.match(text[end]) or text[end] == "."):
        return False
    return True


@dataclass(frozen=True)
class Named:
    """An option value named in a text: where, and by which form."""

    key: str
    value: str
    start: int
    end: int
    form: str


class OptionIndex:
    """The option values of one product and the forms that name them."""

    def __init__(self, product: Product) -> None:
        self.product = product
        values: dict[str, list[str]] = {}
        for sku in product.skus:
            for key, value in sku.props.items():
                values.setdefault(key, [])
                if value not in values[key]:
                    values[key].append(value)
        self.values = values
        self.forms: dict[str, dict[str, frozenset[str]]] = {}
        title = canon(product.title).replace(" ", "")
        for key, vals in values.items():
            raw = {v: _forms(v) for v in vals}
            full = {v: canon(v).replace(" ", "") for v in vals}
            # A form another value also contains, or the title, names no value — unless it
            # is one value whole (30ml beside 30ml×2瓶).
            self.forms[key] = {
                v: frozenset(
                    f for f in fs
                    if f == full[v] or (
                        not _inside(f, title) and not any(_inside(f, full[o]) or f in raw[o] for o in vals if o != v)
                    )
                )
                for v, fs in raw.items()
            }

    def named(self, text: str) -> list[Named]:
        """Every option value ``text`` names, in the order written; overlapping forms keep the
        longest (30ml×2瓶 over 30ml)."""
        t = canon(text).replace(" ", "")
        found: list[Named] = []
        for key, by_value in self.forms.items():
            for value, forms in by_value.items():
                for form in forms:
                    for start in _places(t, form):
                        found.append(Named(key, value, start, start + len(form), form))
        found.sort(key=lambda n: (-(n.end - n.start), n.start))
        kept: list[Named] = []
        for n in found:
            if any(k.key == n.key and k.start < n.end and n.start < k.end for k in kept):
                continue
            if any(k.key == n.key and k.value == n.value for k in kept):
                continue
            kept.append(n)
        kept.sort(key=lambda n: n.start)
        return kept

    def props(self, text: str) -> dict[str, list[str]]:
        """Option key → the values ``text`` names (in the order written)."""
        out: dict[str, list[str]] = {}
        for n in self.named(text):
            out.setdefault(n.key, []).append(n.value)
        return out

    def keys_named(self, text: str) -> list[str]:
        """Option names written in ``text`` (颜色, 色号, 规格)."""
        norm = normalize(text)
        return [k for k in self.values if len(k) >= 2 and normalize(k) in norm]

    def skus(self, props: dict[str, list[str]]) -> list[Sku]:
        """SKUs consistent with every named option (any of the values named for it)."""
        return [s for s in self.product.skus if all(s.props.get(k) in vs for k, vs in props.items() if k in s.props)]

    def by_age(self, text: str) -> list[tuple[str, str]]:
        """(key, value) of the options whose age range holds the age ``text`` gives."""
        months = age_in_months(text)
        if months is None:
            return []
        out = []
        for key, vals in self.values.items():
            for v in vals:
                if _age_fits(v, months):
                    out.append((key, v))
        return out


def _places(text: str, form: str) -> list[int]:
    """Where ``form`` names something in ``text`` (both in :func:`canon` form, spaces removed):
    not inside a longer ASCII run, not a count, a price or a threshold."""
    out = []
    start = text.find(form)
    while start >= 0:
        end = start + len(form)
        if _bounded(text, start, end) and not _money_like(text, start, end, form):
            out.append(start)
        start = text.find(form, start + 1)
    return out


def written(text: str, form: str) -> bool:
    """``form`` is written in ``text`` where it may name an option value (see :meth:`OptionIndex.named`)."""
    return bool(_places(text, form))


def _inside(form: str, text: str) -> bool:
    """``form`` occurs in ``text`` as a buyer would read it (ASCII forms not inside a longer
    ASCII run: 16 is not in iphone16pro)."""
    start = text.find(form)
    while start >= 0:
        if _bounded(text, start, start + len(form)):
            return True
        start = text.find(form, start + 1)
    return False


def _money_like(text: str, start: int, end: int, form: str) -> bool:
    """A bare number form (「16」 for iPhone 16) must not be a count, a price or a threshold."""
    if not form.isdigit():
        return False
    after = text[end] if end < len(text) else ""
    before = text[start - 1] if start > 0 else ""
    return (after and after in _NOT_A_MODEL) or before in ("满", "减", "第", "¥", "￥") or after == "."


def _forms(value: str) -> set[str]:
    """The ways a buyer may write ``value``."""
    c = canon(value)
    forms = {c.replace(" ", "")}
    bare = _BRACKETED.sub(" ", c)  # 1段(0-6个月): the range is read by age, not as a name
    tokens = [t for t in _SPLIT.split(bare) if t]
    words: list[str] = []
    for tok in tokens:
        words.extend(_TOKEN.findall(tok))
    for w in words:
        if _is_cjk(w):
            if len(w) >= 2:
                forms.add(w)
                forms.update(w[:n] for n in range(2, len(w)))  # 豆沙 of 豆沙玫瑰
        elif (w[0].isdigit() and not w.isdigit()) or w[-1] in "号码":
            forms.add(w)  # 30ml, 1段, 60w, 1米
        elif w.isascii() and not w.isdigit() and len(w) >= 3:
            forms.add(w)  # lightning, pro
        elif w.isdigit() and len(tokens) == 1 and len(words) == 1:
            forms.add(w)  # a value that is a bare number: 尺码 73
    # A set 「A+B」 is named by 「A加B」 with B's last word: 充电头加线 → 充电头+1米…线.
    for seg in c.split("+")[1:]:
        tail = re.findall(r"[\u4e00-\u9fff]+", seg)
        if tail:
            forms.add("+" + tail[-1][-1])
    # The last words of a model name: iPhone 16 Pro Max → 16promax, promax, max.
    spaced = [t for t in c.split(" ") if t]
    if len(spaced) >= 2 and all(t.isascii() for t in spaced):
        for i in range(1, len(spaced)):
            tail = "".join(spaced[i:])
            if len(tail) >= 2:
                forms.add(tail)
    # Colour families and unit spellings, as the linker knows them (磨砂黑 → 黑色).
    if not re.search(r"\d", value) and len(value) <= 6:
        for v in value_variants(value):
            v = canon(v).replace(" ", "")
            if len(v) >= 2:
                forms.add(v)
    return forms


def _is_cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def age_in_months(text: str) -> int | None:
    """The age a buyer gives, in months: 8个月 → 8, 一岁半 → 18, 2岁 → 24."""
    norm = normalize(text)
    if m := _AGE_MONTHS.search(norm):
        n = to_int(m.group(1))
        return n if n is not None and n < 72 else None
    if m := _AGE_YEARS.search(norm):
        n = to_int(m.group(1))
        if n is None or n > 6:
            return None
        return n * 12 + (6 if m.group(2) else 0)
    return None


def _age_fits(value: str, months: int) -> bool:
    norm = normalize(value)
    for m in _RANGE_MONTHS.finditer(norm):
        scale = 12 if m.group(3) == "岁" else 1
        lo, hi = int(m.group(1)) * scale, int(m.group(2)) * scale
        # 0-6个月 and 6-12个月 share 6: a range holds its lower end, not its upper one.
        if lo <= months < hi:
            return True
    for m in _FROM_MONTHS.finditer(norm):
        scale = 12 if m.group(2) == "岁" else 1
        if months >= int(m.group(1)) * scale:
            return True
    return False


def label(props: dict[str, str]) -> str:
    """``{颜色: 黑色, 尺码: L}`` → ``黑色L码``: how a reply names a SKU."""
    parts = []
    for key, value in props.items():
        if "码" in key and value.isascii() and not value.endswith("码"):
            value = f"{value}码"
        parts.append(value)
    return "".join(parts)


def index_all(products: Iterable[Product]) -> dict[str, OptionIndex]:
    return {p.id: OptionIndex(p) for p in products}


class OptionIndexes:
    """:class:`OptionIndex` of each product of a shop, built when a product is first asked
    about: a question names one or two products, not the shop's thousands."""

    def __init__(self, shop: Shop) -> None:
        self._shop = shop
        self._built: dict[str, OptionIndex] = {}

    def __getitem__(self, product_id: str) -> OptionIndex:
        index = self._built.get(product_id)
        if index is None:
            index = self._built.setdefault(product_id, OptionIndex(self._shop.products[product_id]))
        return index

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._shop.products


@lru_cache(maxsize=8192)
def value_forms(value: str) -> frozenset[str]:
    """Every way a buyer may write the option value ``value``, before the forms one product's
    other values or title make ambiguous are dropped (see :class:`OptionIndex`)."""
    return frozenset(_forms(value))
