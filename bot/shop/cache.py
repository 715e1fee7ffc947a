"""The validated shop, cached in the data directory by the content of every file of the shop
and the version of the code (see :mod:`bot.caching`). Only a shop that validated is cached;
a broken one is validated (and its problems reported) at every start.

Hashing every file of a big shop takes seconds, so the digests are kept too, each with the
file's size, inode, modification and change times: a file whose status is unchanged is not
read again. A change of content changes the change time (``st_ctime``), which no program
can set back; a file changed shortly before its digest was taken is hashed again, so a
second change within one tick of the file system's clock is never missed."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.caching import DiskCache, code_of, key_of
from bot.shop.models import Shop

NAME = "shop"
# What validating depends on: the loader and every module of the project it imports (the
# models, the ledger rules it checks orders with, money, errors); pydantic and PyYAML read.
CODE = ("bot.shop.loader",)
LIBRARIES = ("pydantic", "pydantic-core", "pyyaml")


FILES = "file-digests"
RACY_S = 2.0  # a digest taken less than this after the file's last change is not trusted

# relative path → (size, inode, mtime_ns, ctime_ns, sha256)
Digests = dict[str, tuple[int, int, int, int, str]]


def _files(root: Path) -> list[tuple[str, str]]:
    """(relative path, absolute path) of every file under ``root``, sorted; editor and VCS
    files (any part starting with a dot) are not part of the shop."""
    out: list[tuple[str, str]] = []
    for folder, dirs, names in os.walk(root, followlinks=True):  # a linked folder is the shop's too
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for name in names:
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                out.append((prefix + name, path))
    out.sort()
    return out


def shop_key(root: Path, known: Digests | None = None, *, seen: Digests | None = None) -> str:
    """The key of ``root``'s shop: its path, every file under it (names and bytes) and the code.

    ``known`` holds digests taken before: a file whose status equals its entry's is not read.
    ``seen``, when given, receives the entry of every file not changed within ``RACY_S``
    (only those may be trusted next time)."""
    root = root.resolve()
    parts = [code_of(CODE, LIBRARIES), str(root)]
    now = time.time_ns()
    for rel, path in _files(root):
        st = os.stat(path)
        status = (st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        entry = known.get(rel) if known else None
        if entry is not None and entry[:4] == status:
            digest = entry[4]
        else:
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
        if seen is not None and now - st.st_ctime_ns > RACY_S * 1e9:
            seen[rel] = (*status, digest)
        parts.append(f"{rel}:{digest}")
    return key_of(parts)


def cached_shop(
    root: Path,
    cache_dir: Path,
    validate: Callable[[Path], Shop],
    on_validated: Callable[[Shop], None] | None = None,
) -> Shop:
    """The shop at ``root``: from ``cache_dir`` when it holds this very content, else
    validated by ``validate`` (which raises for a broken shop), cached, and handed to
    ``on_validated``. While one process validates it, another loading the same shop waits
    and reads it back."""
    if not root.is_dir():
        return validate(root)
    cache = DiskCache(cache_dir)
    where = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    files_name, files_key = f"{FILES}-{where}", key_of([FILES, str(root.resolve())])
    known = cache.get(files_name, files_key)
    seen: Digests = {}
    key = shop_key(root, known if isinstance(known, dict) else None, seen=seen)
    if seen != known:
        cache.put(files_name, files_key, seen)
    name = f"{NAME}-{where}"
    shop = cache.get(name, key)
    if isinstance(shop, Shop):
        return shop
    with cache.making(name):  # processes starting together validate the shop once
        shop = cache.get(name, key)
        if isinstance(shop, Shop):
            return shop
        shop = validate(root)
        cache.put(name, key, shop)
    if on_validated is not None:
        on_validated(shop)
    return shop
