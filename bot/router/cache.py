"""The trained intent classifier, kept in the data directory between starts.

Training takes seconds; a start with the same training data, the same shop (its words shape
the tokenizer and the delexicaliser) and the same code reads the fitted model back instead
(see :mod:`bot.caching`). What it predicts is the same either way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.caching import DiskCache, code_version, key_of
from bot.router.classifier import IntentClassifier, train_default
from bot.router.lexicon import DATA_DIR

NAME = "intent-classifier"
CODE = ("router", "text")  # the classifier, its data files, the tokenizer and normaliser
LIBRARIES = ("scikit-learn", "numpy", "scipy", "jieba")


def trained_classifier(
    tokenize: Callable[[str], list[str]],
    *,
    delex: Callable[[str], str],
    shop_hash: str,
    cache_dir: Path | None,
    data_dir: Path = DATA_DIR,
) -> IntentClassifier:
    """The classifier :func:`train_default` gives, from ``cache_dir`` when it holds one
    trained on this shop (``shop_hash``), data and code; trained (and then kept) otherwise."""
    if cache_dir is None:
        return train_default(tokenize, data_dir, delex=delex)
    key = key_of([code_version(CODE, LIBRARIES), shop_hash, str(data_dir.resolve())])
    cache = DiskCache(cache_dir)
    data = cache.get(NAME, key)
    if isinstance(data, bytes):
        try:
            return IntentClassifier.from_bytes(data, tokenize, delex=delex)
        except Exception:  # noqa: BLE001 - an unreadable entry is trained again
            pass
    classifier = train_default(tokenize, data_dir, delex=delex)
    cache.put(NAME, key, classifier.to_bytes())
    return classifier
