"""The training data and the classifier built from it."""

from __future__ import annotations

from bot.router.classifier import (
    HELDOUT_FILE,
    TRAIN_FILE,
    IntentClassifier,
    load_examples,
)
from bot.router.intents import CANONICAL_INTENTS
from bot.router.lexicon import DATA_DIR
from bot.text.normalize import normalize


def test_training_data_covers_every_intent_and_keeps_the_held_out_split_apart() -> None:
    train = load_examples(DATA_DIR / TRAIN_FILE)
    held = load_examples(DATA_DIR / HELDOUT_FILE)
    assert len(train) >= 1500
    assert {e.intent for e in train} == set(CANONICAL_INTENTS)
    assert not {e.text for e in train} & {e.text for e in held}


def test_classifier_learns_from_examples() -> None:
    train = load_examples(DATA_DIR / TRAIN_FILE)
    clf = IntentClassifier(lambda s: list(s)).fit(train)
    pred = clf.predict(normalize("我的快递到哪里了"))
    assert pred.intent == "logistics"
    assert 0.0 < pred.confidence <= 1.0
