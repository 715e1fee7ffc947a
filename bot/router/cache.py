"""The trained intent classifier, kept in the data directory between starts.

Training takes seconds; a start with the same training data, the same shop (its words shape
the tokenizer and the delexicaliser) and the same code reads the fitted model back instead
(see :mod:`bot.caching`). What it predicts is the same either way."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from bot.caching import DiskCache, code_of, key_of
from bot.router.classifier import IntentClassifier, train_default
from bot.router.lexicon import DATA_DIR

NAME = "intent-classifier"
CODE = ("bot.router.cache",)  # the classifier and what it imports: its data files, delexicaliser, normaliser
LIBRARIES = ("scikit-learn", "numpy", "scipy", "jieba")


def trained_classifier(
    tokenize: Callable[[str], list[str]],
    *,
    delex: Callable[[str], str],
    shop_hash: str,
    cache_dir: Path | None,
    data_dir: Path = DATA_DIR,
    vocabulary: str = "",
) -> IntentClassifier:
    """The classifier :func:`train_default` gives, from ``cache_dir`` when it holds one
    trained on this shop (``shop_hash``), data, code and ``vocabulary`` (what ``tokenize``
    knows beyond jieba's dictionary: :func:`~bot.caching.words_digest` of its tokenizer's words);
    trained (and then kept) otherwise.
    A process trains or reads a shop's model once: later routers of the same shop, with or
    without a ``cache_dir``, share it (it is read-only once fitted)."""
    key = key_of([code_of(CODE, LIBRARIES), shop_hash, str(data_dir.resolve()), vocabulary])
    cache = DiskCache(cache_dir) if cache_dir is not None else None
    with _LOCK:
        classifier = _KEPT.get(key)
        if classifier is not None:
            _KEPT.move_to_end(key)
            if cache is not None and not cache.path(NAME, key).exists():
                cache.put(NAME, key, classifier.to_bytes())
            return classifier
        data = cache.get(NAME, key) if cache is not None else None
        classifier = None
        if isinstance(data, bytes):
            classifier = _read(data, tokenize, delex)
        if classifier is None and cache is not None:
            with cache.making(NAME):  # trained once when processes start together
                data = cache.get(NAME, key)
                classifier = _read(data, tokenize, delex) if isinstance(data, bytes) else None
                if classifier is None:
                    classifier = train_default(tokenize, data_dir, delex=delex)
                    cache.put(NAME, key, classifier.to_bytes())
        if classifier is None:
            classifier = train_default(tokenize, data_dir, delex=delex)
        _KEPT[key] = classifier
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
        return classifier


# The models this process trained or read, newest last: the live shop's, and one before it
# (a reloaded shop's new model replaces the old one without training it twice in between).
_KEPT: OrderedDict[str, IntentClassifier] = OrderedDict()
_KEPT_MAX = 2
_LOCK = threading.Lock()


def _read(
    data: bytes, tokenize: Callable[[str], list[str]], delex: Callable[[str], str]
) -> IntentClassifier | None:
    try:
        return IntentClassifier.from_bytes(data, tokenize, delex=delex)
    except Exception:  # noqa: BLE001 - an unreadable entry is trained again
        return None
