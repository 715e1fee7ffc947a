"""The best rows of an array of scores: what every ranking of the retriever ends with."""

from __future__ import annotations

import numpy as np


def top_rows(scores: np.ndarray, rows: np.ndarray | None, n: int) -> list[int]:
    """The ``n`` positions of ``scores`` with the highest positive score, best first, ties by
    position, as row numbers (``rows[position]`` when ``rows`` is given). Which of several
    rows tied at the ``n``-th score are kept is decided by position too, so two ways of
    scoring the same rows give the same list."""
    if scores.size == 0 or n <= 0:
        return []
    part = np.flatnonzero(scores > 0)
    if part.size > n:
        # The n-th best score among the positive ones, then every row reaching it: those
        # tied with it included, whichever of them a selection would have kept.
        values = scores[part]
        edge = np.partition(values, values.size - n)[values.size - n]
        part = part[values >= edge]
    order = part[np.lexsort((part, -scores[part]))][:n]
    return (rows[order] if rows is not None else order).tolist()
