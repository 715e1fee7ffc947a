"""Python's cyclic garbage collector around a start.

A start builds millions of objects that live as long as the process: the shop's models, the
linker's tables, the router's words. While they are being built, every full collection walks
all of them again (15 full collections, 2.6 s of a 50,000-product warm start), and after the
start one full collection during a buyer's turn walks them once more (1.1 s at that size).
Nothing they hold is garbage (a start leaves a few thousand unreachable objects), so:

- :func:`paused` holds the collector off while a start builds (memory is still freed as soon
  as nothing refers to it; only cycles wait for the next collection). A serving process also
  keeps what the start built out of every later collection (:func:`gc.freeze`), so those
  walk only what turns make;
- :func:`release` gives the kept objects back (when the process stops, or a reload replaces
  them), so what is no longer used is collected like any garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(*, keep: bool = False) -> Iterator[None]:
    """No automatic collection inside the block; the collector's state is restored after it.
    With ``keep``, every object alive at the end is left out of later collections."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()  # before collecting resumes: what the block built is never walked
        if was:
            gc.enable()


def release() -> None:
    """Give the objects :func:`paused` kept back to the collector."""
    gc.unfreeze()
