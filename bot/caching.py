"""Start-up caches in the data directory, addressed by content.

A cached value (the validated shop, the trained intent classifier) is stored under a key
made of everything it was computed from: the bytes of its input files and the version of the
code that computed it (the package version plus a hash of the source and data files of the
packages involved, and of the libraries' versions). A change of any of them gives a new key,
so a stale entry is never read; the older entries of the same name are removed when a new one
is written. Writes go to a temporary file that is renamed into place, so a reader never sees
half an entry and two processes starting at once do no harm. An entry that cannot be read back
(another Python, a damaged file) counts as missing.

The entries are pickles: the data directory is the service's own, like its database.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from bot import __version__

T = TypeVar("T")

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
_SKIP = ("__pycache__",)


@lru_cache(maxsize=16)
def code_version(packages: tuple[str, ...], libraries: tuple[str, ...] = ()) -> str:
    """A hash of the package version, every file of ``packages`` (subpackages of ``bot``,
    e.g. ``"router"``; ``"."`` is the top-level modules) and the versions of ``libraries``."""
    digest = hashlib.sha256(f"xiaoer {__version__}\n".encode())
    for package in packages:
        folder = PACKAGE_DIR / package
        files = sorted(folder.glob("*.py")) if package == "." else sorted(
            p for p in folder.rglob("*") if p.is_file() and not any(s in p.parts for s in _SKIP)
        )
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
        otherwise ``make()``, kept for the next start."""
        value = self.get(name, key)
        if valid(value):
            return value  # type: ignore[no-any-return]
        value = make()
        self.put(name, key, value)
        return value

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
