"""Worker processes whose output is not what a worker writes cost time, never a result: the
chunks not received come back as None, for the caller to do."""

from __future__ import annotations

import subprocess

import pytest

from bot import procpool

# A pickled string whose bytes are not UTF-8 (what a stray write to a worker's stdout can
# leave in the stream), then nothing.
_GARBLED = "import sys; sys.stdin.buffer.read(); sys.stdout.buffer.write(b'\\x80\\x05X\\x02\\x00\\x00\\x00\\xff\\xfe.'); sys.stdout.flush()"


@pytest.mark.parametrize("output", [_GARBLED, "import sys; sys.stdin.buffer.read(); sys.stdout.buffer.write(b'not a pickle')"])
def test_a_worker_writing_what_is_no_result_leaves_its_chunks_to_the_caller(
    output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def garbled() -> subprocess.Popen[bytes]:
        return procpool.interpreter(output, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    monkeypatch.setattr(procpool, "_start", garbled)
    got = list(procpool.map_chunks("bot.shop.yamlpool:parser", None, [[], [], []], workers=2))
    assert got == [None, None, None]


def test_workers_return_each_chunk_in_order() -> None:
    # The plain path, so the test above is known to reach real workers.
    got = list(procpool.map_chunks("tests.scale.test_procpool:doubler", 3, [[1, 2], [3], [4, 5, 6]], workers=2))
    assert got == [[3, 6], [9], [12, 15, 18]]


def doubler(factor: int):  # type: ignore[no-untyped-def]
    return lambda chunk: [x * factor for x in chunk]
