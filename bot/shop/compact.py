"""One object per distinct value in a validated shop.

A shop's products repeat the same values many times: property names and values of SKUs
(颜色, 白色, M), attribute names, prices, answers shared by several products. Parsed from YAML
every occurrence is an object of its own; here equal strings, prices and field sets become
one shared object, which the shop's pickle (see :mod:`bot.shop.cache`) then also stores once.
Only immutable values are shared (and the sets of fields given, see below), so nothing a
caller changes in one model shows in another.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from bot.shop.models import Shop


class _Pool:
    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}

    def one(self, value: Any) -> Any:
        # Decimal("1.0") == Decimal("1.00") but prints differently: key by type and text.
        key = (type(value), str(value)) if isinstance(value, Decimal) else (type(value), value)
        return self.values.setdefault(key, value)

    def walk(self, value: Any) -> Any:
        if isinstance(value, (str, Decimal, frozenset)):
            return self.one(value)
        if isinstance(value, BaseModel):
            fields = value.__dict__
            for name, item in fields.items():
                fields[name] = self.walk(item)
            # Models of one kind usually give the same fields, so equal "fields given" sets
            # are shared. pydantic adds a field's name to it when the field is assigned; only
            # ``exclude_unset`` dumps read it, and nothing dumps a shop that way.
            given = getattr(value, "__pydantic_fields_set__", None)
            if isinstance(given, set):
                object.__setattr__(value, "__pydantic_fields_set__", self._fields(given))
            return value
        if isinstance(value, dict):
            items = [(self.walk(k), self.walk(v)) for k, v in value.items()]
            value.clear()
            value.update(items)
            return value
        if isinstance(value, list):
            value[:] = [self.walk(v) for v in value]
            return value
        if isinstance(value, tuple):
            return tuple(self.walk(v) for v in value)
        return value

    def _fields(self, given: set[str]) -> set[str]:
        key = (set, frozenset(given))
        shared = self.values.get(key)
        if shared is None:
            shared = self.values[key] = set(given)
        return shared  # type: ignore[no-any-return]


def compact(shop: Shop) -> Shop:
    """``shop`` with equal strings, prices and field sets shared; returns the same object."""
    pool = _Pool()
    for name in ("products", "rules", "promotions", "faq", "buyers", "orders", "file_hashes"):
        pool.walk(getattr(shop, name))
    return shop
