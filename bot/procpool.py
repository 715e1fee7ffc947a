"""Work of a big start spread over every core, in worker processes.

Parsing tens of thousands of product sheets and cutting hundreds of thousands of passages
into search terms run in Python, on one core at a time. :func:`map_chunks` hands chunks of
such work to worker processes and yields each chunk's results in order as they come back, so
the caller goes on with one chunk while the workers do the next.

The workers are fresh interpreters (``python -c``): they share nothing with the program that
starts them (no threads, no main script run again). Each reads its chunks from stdin, builds
its worker once from ``setup`` (``make(setup)``, named ``"module:function"``) and writes each
chunk's results to stdout. When a worker fails, the chunks not yet received come back as
None and the caller does them itself: a failure costs time, never a result.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

_WORKER = "import sys; from bot.procpool import serve; serve(sys.stdin.buffer, sys.stdout.buffer)"


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_chunks(
    make: str, setup: Any, chunks: Sequence[Sequence[Any]], *, workers: int | None = None
) -> Iterator[list[Any] | None]:
    """For each of ``chunks`` in order, the list ``make(setup)(chunk)`` returned in a worker
    process, or None when that chunk is the caller's to do (a worker failed)."""
    n = max(1, min(workers or cores(), len(chunks)))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # All started before any is sent its work: their interpreters start side by side.
        procs.extend(_start() for _ in range(n))
    except (OSError, ValueError) as exc:  # no interpreter to start: the caller does it all
        log.warning("no worker processes (%s); doing the work in this process", exc)
        for proc in procs:
            end(proc)
        for _ in chunks:
            yield None
        return
    broken = False
    try:
        for w, proc in enumerate(procs):
            _send(proc, (make, setup, [list(c) for c in chunks[w::n]]))
        for k, chunk in enumerate(chunks):
            results = None if broken else _receive(procs[k % n], len(chunk))
            broken = results is None
            yield results
    finally:
        for proc in procs:
            end(proc)


def interpreter(code: str, *args: str, stdin: Any, stdout: Any) -> subprocess.Popen[bytes]:
    """A fresh interpreter running ``code`` (``python -c``) with ``args``, importing ``bot``
    from where this module is; OSError or ValueError when none can be started."""
    if not sys.executable:
        raise ValueError("the interpreter's path is unknown")
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=stdin,
        stdout=stdout,
        cwd=str(Path(__file__).resolve().parents[1]),  # where ``bot`` is importable from
    )


def end(proc: subprocess.Popen[bytes]) -> None:
    """``proc`` stopped if it still runs, waited for, and its pipes closed."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _start() -> subprocess.Popen[bytes]:
    return interpreter(_WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _send(proc: subprocess.Popen[bytes], work: tuple[str, Any, list[list[Any]]]) -> None:
    assert proc.stdin is not None
    try:
        pickle.dump(work, proc.stdin, pickle.HIGHEST_PROTOCOL)
        proc.stdin.close()
    except OSError:  # the worker died at once; its chunks will be the caller's
        pass


def _receive(proc: subprocess.Popen[bytes], size: int) -> list[Any] | None:
    """The worker's next chunk of results, or None when the worker failed."""
    assert proc.stdout is not None
    try:
        results = pickle.load(proc.stdout)  # noqa: S301 - our own worker's output
    except Exception:  # noqa: BLE001 - a stream that is no result (cut short, stray bytes) is a failure
        log.warning("a worker's output could not be read; its chunks are done here", exc_info=True)
        return None
    if not isinstance(results, list) or len(results) != size:
        return None
    return results


def _resolve(name: str) -> Callable[[Any], Callable[[list[Any]], list[Any]]]:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """A worker: build the work from its setup, then do each chunk read from ``stdin``."""
    make, setup, chunks = pickle.load(stdin)  # noqa: S301 - written by map_chunks
    work = _resolve(make)(setup)
    for chunk in chunks:
        pickle.dump(work(chunk), stdout, pickle.HIGHEST_PROTOCOL)
        stdout.flush()
