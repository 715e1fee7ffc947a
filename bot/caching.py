"""Start-up caches in the data directory, addressed by content.

A cached value (the validated shop, the trained intent classifier) is stored under a key
made of everything it was computed from: the bytes of its input files and the code that
computed it (:func:`code_of`: the source of the modules involved and of the project's
modules they import, their packages' data files and the libraries' versions). A change of
any of them gives a new key,
so a stale entry is never read; the older entries of the same name are removed when a new one
is written. Writes go to a temporary file that is renamed into place, so a reader never sees
half an entry and two processes starting at once do no harm. An entry that cannot be read back
(another Python, a damaged file) counts as missing.

The entries are pickles: the data directory is the service's own, like its database.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
_SKIP = ("__pycache__",)
MAKING_WAIT_S = 300.0  # how long a process waits for another making the same cache entry


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` of ``bot`` (a package: its ``__init__.py``)."""
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


# ``import bot.x`` and ``from bot.x import y`` / ``from .x import (y, z)``, anywhere in a file
# (inside functions too); a docstring that shows one only makes a key a little wider.
_IMPORT = re.compile(r"^[ \t]*import[ \t]+(bot(?:\.\w+)*)", re.M)
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.+\w*(?:\.\w+)*|bot(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_SCANNED: dict[tuple[Path, int, int], frozenset[str]] = {}


def _imports(path: Path, name: str) -> frozenset[str]:
    """Every ``bot`` module the file imports, with the packages that import runs first;
    ``from bot.x import y`` counts ``bot.x.y`` when that is a module. Kept per file status."""
    st = path.stat()
    seen = _SCANNED.get((path, st.st_mtime_ns, st.st_size))
    if seen is not None:
        return seen
    text = path.read_text(encoding="utf-8")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set(_IMPORT.findall(text))
    for module, names in _FROM.findall(text):
        if module.startswith("."):
            level = len(module) - len(module.lstrip("."))
            anchor = package.split(".")[: len(package.split(".")) - level + 1]
            module = ".".join(anchor + ([module.lstrip(".")] if module.lstrip(".") else []))
        found.add(module)
        for word in re.findall(r"\w+", names.split("#")[0] if "(" not in names else names):
            if _module_file(f"{module}.{word}"):
                found.add(f"{module}.{word}")
    for module in list(found):  # importing bot.x.y runs bot/x/__init__.py first
        parts = module.split(".")
        found.update(".".join(parts[:i]) for i in range(2, len(parts)))
    result = frozenset(m for m in found if m != "bot" and _module_file(m))
    _SCANNED[(path, st.st_mtime_ns, st.st_size)] = result
    return result


def _closure(roots: tuple[str, ...]) -> list[Path]:
    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            raise ValueError(f"{name} is not a module of bot")
        seen[name] = path
        todo.extend(_imports(path, name) - seen.keys())
    return sorted(set(seen.values()))


@lru_cache(maxsize=32)
def code_of(modules: tuple[str, ...], libraries: tuple[str, ...] = ()) -> str:
    """A hash of the code that computes a value: the source of ``modules`` (``"bot.shop.loader"``)
    and of every module of ``bot`` they import, at any depth (imports inside functions too),
    the data files of their packages (``data/``) and the versions of ``libraries``.

    The package version is left out (``bot/__init__.py`` holds nothing else), and so is every
    module the value does not depend on: a release or a change that leaves this code alone
    keeps what was computed with it."""
    digest = hashlib.sha256(b"xiaoer code\n")
    files = _closure(modules)
    folders = sorted({p.parent for p in files})
    for folder in folders:
        data = folder / "data"
        if data.is_dir():
            files.extend(sorted(p for p in data.rglob("*") if p.is_file() and not any(s in p.parts for s in _SKIP)))
    for path in files:
        digest.update(f"{path.relative_to(PACKAGE_DIR).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for library in libraries:
        try:
            digest.update(f"{library} {metadata.version(library)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} -\n".encode())
    return digest.hexdigest()


def key_of(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class DiskCache:
    """Entries ``<name>-<key>.pickle`` in one directory; one entry kept per name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str, key: str) -> Path:
        return self.folder / f"{name}-{key[:32]}.pickle"

    def get(self, name: str, key: str) -> Any | None:
        path = self.path(name, key)
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)  # noqa: S301 - the service's own data directory
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged or foreign entry is a miss, never a failed start
            log.warning("cache entry %s unreadable (%s); computing it again", path.name, exc)
            return None

    def kept(self, name: str, key: str, make: Callable[[], T], valid: Callable[[Any], bool]) -> T:
        """The value kept under ``name`` for ``key`` when ``valid`` takes it for one;
        otherwise ``make()``, kept for the next start. While one process makes an entry,
        another that needs it waits and reads it (see :meth:`making`)."""
        value = self.get(name, key)
        if valid(value):
            return value  # type: ignore[no-any-return]
        with self.making(name):
            value = self.get(name, key)  # kept by another process while this one waited
            if valid(value):
                return value  # type: ignore[no-any-return]
            value = make()
            self.put(name, key, value)
            return value

    @contextlib.contextmanager
    def making(self, name: str) -> Iterator[None]:
        """Held while an entry of ``name`` is made: processes sharing the data directory (a
        cold start and its warmer, :mod:`bot.warmup`; workers starting at once) make each
        entry once and the others read it. A lock held longer than :data:`MAKING_WAIT_S` (a
        process stuck) is not waited for any more; a folder that takes no lock file (read
        only) takes no lock."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            deadline = time.monotonic() + MAKING_WAIT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        log.warning("cache entry %s: still being made elsewhere; making it here", name)
                        break
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)  # releases the lock

    def put(self, name: str, key: str, value: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.path(name, key)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            for old in self.folder.glob(f"{name}-*.pickle"):
                if old != target:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only data directory only costs the next start time
            log.warning("cannot write cache entry %s: %s", name, exc)


class _FromFiles(Protocol):
    """What :func:`kept_for_shop` reads of a shop."""

    root: Path
    file_hashes: dict[str, str]

    @property
    def content_hash(self) -> str: ...


def words_digest(words: Iterable[str]) -> str:
    """A digest of a set of words (a tokenizer's own), for a key computed from them."""
    return key_of(sorted(words))


def kept_for_shop(
    shop: _FromFiles,
    cache_dir: Path | None,
    name: str,
    code: tuple[str, ...],
    make: Callable[[], T],
    valid: Callable[[Any], bool],
    *,
    libraries: tuple[str, ...] = (),
    parts: Iterable[str] = (),
) -> T:
    """``make()`` for ``shop``, kept in ``cache_dir`` between starts of the same shop files,
    the same ``code`` (:func:`code_of` of those modules and ``libraries``) and ``parts``;
    one entry per shop directory. Without a ``cache_dir``, or for a shop read from no files,
    it is computed every time."""
    if cache_dir is None or not shop.file_hashes:
        return make()
    entry = f"{name}-{hashlib.sha256(str(shop.root).encode()).hexdigest()[:12]}"
    key = key_of([code_of(code, libraries), shop.content_hash, *parts])
    return DiskCache(cache_dir).kept(entry, key, make, valid)
