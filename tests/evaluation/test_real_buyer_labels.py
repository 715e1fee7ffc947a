"""The real-buyer label sets: each loads (canonical intents, known sources), names each buyer
line once, and no two sets share a session, so a held-out figure is one on unseen sessions."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from benchmarks.bench_real_buyers import load_labels

LABELS = Path(__file__).resolve().parents[2] / "eval" / "real-buyers"
SETS = ("labels.tsv", "heldout.tsv", "heldout-b.tsv")


@pytest.mark.parametrize("name", SETS)
def test_a_label_set_loads_and_names_each_line_once(name: str) -> None:
    labels = load_labels(LABELS / name)
    assert len(labels) >= 400
    lines = [(label.source, label.session, label.turn) for label in labels]
    assert len(set(lines)) == len(lines)
    assert all(label.intent and label.intent != label.also for label in labels)


def test_no_two_label_sets_share_a_session() -> None:
    sessions = {
        name: {(label.source, label.session) for label in load_labels(LABELS / name)} for name in SETS
    }
    for a, b in combinations(SETS, 2):
        assert not sessions[a] & sessions[b], f"{a} and {b} share sessions"


def test_a_label_of_no_canonical_intent_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("source\tsession\tturn\tintent\talso\tnote\njddc\tabc\t0\twhatever\t\t\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="not a canonical intent"):
        load_labels(bad)
