"""A big shop's cold start, on the core its index leaves idle: what a warm start reads,
made beside it.

A start that validated the shop (a new shop, changed files, a new release) goes on to cut and
index every passage, then builds the linker's tables, the router's shop words and classifier
and the drafting tables, one after the other. Those values depend on the shop alone and are
kept in the data directory (:mod:`bot.caching`), so a *warmer* process, started as soon as the
validated shop is kept, reads the shop back and makes them. It runs at the lowest priority:
while the index's workers keep both cores busy it barely runs, and it takes the core the
start leaves idle once they are done (the start's own writes to chroma, its BM25 index, its
snapshot). The start finds what the warmer made and reads it as a warm start does; it waits
for an entry the warmer is making rather than making it too
(:meth:`bot.caching.DiskCache.making`).

Nothing depends on the warmer: the start makes whatever the warmer has not (it failed, was
slow, or the machine has one core), the values are the same whichever process made them, and
the start stops the warmer when it is done. Small shops start no warmer (a second
interpreter costs more than it saves there).
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from bot import procpool

log = logging.getLogger(__name__)

WARM_FROM_PRODUCTS = 2000  # smaller shops start no warmer
_CODE = "import sys; from bot.warmup import run; run(sys.argv[1], sys.argv[2])"


class Warmer:
    """A warmer process; :meth:`stop` ends it (it may be done already)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    def running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        procpool.end(self._proc)


def start(shop_dir: Path, data_dir: Path, products: int) -> Warmer | None:
    """A warmer for the shop at ``shop_dir`` (validated and kept under ``data_dir``), or
    None for a small shop or a machine with one core."""
    if products < WARM_FROM_PRODUCTS or procpool.cores() < 2:
        return None
    try:
        proc = procpool.interpreter(
            _CODE, str(Path(shop_dir).resolve()), str(Path(data_dir).resolve()),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
    except (OSError, ValueError) as exc:
        log.warning("no warmer for the cold start: %s", exc)
        return None
    return Warmer(proc)


def run(shop_dir: str, data_dir: str) -> None:
    """The warmer: read the kept shop and make, in the order the start needs them, the
    values the start makes after its index, with the start's own calls
    (:func:`bot.services.build_services`), so under the same entries and keys."""
    os.nice(19)  # only the time the start leaves idle
    from bot import collector
    from bot.drafting.kept import drafting_tables
    from bot.retrieval.hybrid import kept_shop_tokenizer
    from bot.retrieval.linker import EntityLinker
    from bot.router.router import build_router
    from bot.shop import load_shop

    data = Path(data_dir)
    kept = data / "cache"
    with collector.paused():
        shop = load_shop(shop_dir, cache_dir=kept)
        linker = EntityLinker(shop, tokenizer=kept_shop_tokenizer(shop, kept), cache_dir=kept)
        build_router(shop, cache_dir=data / "router", linker=linker)
        drafting_tables(shop, kept)
