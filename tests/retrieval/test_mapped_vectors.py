"""A generation's vectors are mapped from their file, with the kernel asked to read ahead:
the same rows as written, never read into the process whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.retrieval.snapshot import mapped


def test_the_vectors_are_mapped_and_equal_to_what_was_written(tmp_path: Path) -> None:
    vectors = np.random.default_rng(7).random((1000, 16), dtype=np.float32)
    np.save(tmp_path / "vectors.npy", vectors)
    got = mapped(tmp_path / "vectors.npy")
    assert isinstance(got, np.memmap)
    assert not got.flags.writeable
    np.testing.assert_array_equal(got[[3, 500, 999]], vectors[[3, 500, 999]])


def test_an_empty_index_maps_too(tmp_path: Path) -> None:
    np.save(tmp_path / "vectors.npy", np.zeros((0, 16), dtype=np.float32))
    assert mapped(tmp_path / "vectors.npy").shape == (0, 16)
