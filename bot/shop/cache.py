"""The validated shop, cached in the data directory by the content of every file of the shop
and the version of the code (see :mod:`bot.caching`). Only a shop that validated is cached;
a broken one is validated (and its problems reported) at every start."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from bot.caching import DiskCache, code_version, key_of
from bot.shop.models import Shop

NAME = "shop"
# What validating depends on: the shop package, the ledger rules it checks orders with, and
# the top-level modules (money, errors); pydantic and PyYAML do the reading.
CODE = ("shop", "orders", ".")
LIBRARIES = ("pydantic", "pydantic-core", "pyyaml")


def shop_key(root: Path) -> str:
    """The key of ``root``'s shop: its path, every file under it (names and bytes) and the code."""
    root = root.resolve()
    parts = [code_version(CODE, LIBRARIES), str(root)]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue  # editor and VCS files are not part of the shop
        parts.append(f"{rel}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    return key_of(parts)


def cached_shop(root: Path, cache_dir: Path, validate: Callable[[Path], Shop]) -> Shop:
    """The shop at ``root``: from ``cache_dir`` when it holds this very content, else
    validated by ``validate`` (which raises for a broken shop) and then cached."""
    if not root.is_dir():
        return validate(root)
    key = shop_key(root)
    cache = DiskCache(cache_dir)
    name = f"{NAME}-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]}"
    shop = cache.get(name, key)
    if isinstance(shop, Shop):
        return shop
    shop = validate(root)
    cache.put(name, key, shop)
    return shop
