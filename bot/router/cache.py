"""The trained intent classifier, kept in the data directory between starts.

Training takes seconds; a start with the same training data, the same shop (its words shape
the tokenizer and the delexicaliser) and the same code reads the fitted model back instead
(see :mod:`bot.caching`). What it predicts is the same either way."""

from __future__ import annotations

import threading
from collections import OrderedDict
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
    trained on this shop (``shop_hash``), data and code; trained (and then kept) otherwise.
    A process trains a model once: later routers of the same shop, with or without a
    ``cache_dir``, read back the bytes it kept in memory."""
    key = key_of([code_version(CODE, LIBRARIES), shop_hash, str(data_dir.resolve())])
    cache = DiskCache(cache_dir) if cache_dir is not None else None
    with _TRAINING:
        found = cache.get(NAME, key) if cache is not None else None
        on_disk = isinstance(found, bytes)
        for data in (_KEPT.get(key), found if on_disk else None):
            if not isinstance(data, bytes):
                continue
            try:
                classifier = IntentClassifier.from_bytes(data, tokenize, delex=delex)
            except Exception:  # noqa: BLE001 - an unreadable entry is trained again
                continue
            break
        else:
            classifier = train_default(tokenize, data_dir, delex=delex)
            data = classifier.to_bytes()
        _keep(key, data)
        if cache is not None and not (on_disk and found == data):
            cache.put(NAME, key, data)
        return classifier


# Models trained or read in this process, newest last: a few shops' worth.
_KEPT: OrderedDict[str, bytes] = OrderedDict()
_KEPT_MAX = 4
_TRAINING = threading.Lock()


def _keep(key: str, data: bytes) -> None:
    _KEPT[key] = data
    _KEPT.move_to_end(key)
    while len(_KEPT) > _KEPT_MAX:
        _KEPT.popitem(last=False)
