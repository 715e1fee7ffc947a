"""A big shop's product sheets parsed on every core.

A shop of tens of thousands of product sheets spends much of a cold start in PyYAML's
constructor, which runs in Python on one core. :func:`parse_files` has worker processes
(:mod:`bot.procpool`) read and parse the sheets in chunks and yields each file's hash and
data in file order as the chunks come back, so the loader validates one chunk while the
workers parse the next.

A file a worker cannot read, decode or parse is not parsed there: the loader reads it itself
and reports the problem as it does for any file, and so it does with every file of a chunk a
worker failed to return. Small shops, and machines with one core, are parsed in the process
itself (starting workers costs more than it saves there).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot import procpool
from bot.shop import yamlio

POOL_FROM_FILES = 2000  # fewer files than this are parsed in the process itself
CHUNK_FILES = 250


@dataclass(frozen=True)
class ParsedFile:
    """A YAML file read and parsed: the SHA-256 of its bytes and its data."""

    sha256: str
    data: Any


def parse_files(paths: Sequence[Path]) -> Iterator[tuple[Path, ParsedFile | None]]:
    """Each of ``paths`` in order with its parsed content; None for a file the caller must
    read itself (nothing parsed here, the file failed to read, decode or parse, or a worker
    failed)."""
    if len(paths) < POOL_FROM_FILES or procpool.cores() < 2:
        for path in paths:
            yield path, None
        return
    chunks = [list(paths[i : i + CHUNK_FILES]) for i in range(0, len(paths), CHUNK_FILES)]
    jobs = [[os.path.abspath(p) for p in chunk] for chunk in chunks]
    for chunk, results in zip(chunks, procpool.map_chunks(f"{__name__}:parser", None, jobs)):
        yield from zip(chunk, results or [None] * len(chunk))


def parser(_setup: None) -> Callable[[list[str]], list[ParsedFile | None]]:
    """A worker's work: read and parse a chunk of files."""
    return lambda paths: [_parse_one(Path(p)) for p in paths]


def _parse_one(path: Path) -> ParsedFile | None:
    try:
        raw = path.read_bytes()
        data = yamlio.load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return ParsedFile(hashlib.sha256(raw).hexdigest(), data)
