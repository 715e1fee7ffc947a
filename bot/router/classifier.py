"""The trained intent classifier: TF-IDF over character n-grams and jieba words, then a
linear SVM whose margins are turned into probabilities by a softmax. Text naming goods is
delexicalised first (``〈商品〉还有货吗``), so the model learns how buyers ask rather than which
goods the examples name. Trained at start-up from ``bot/router/data/train.tsv`` (about 2 s);
the held-out split ``heldout.tsv`` is read only by :func:`load_examples` for evaluation.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.errors import ConfigError
from bot.router.delex import placeholder_aware
from bot.router.intents import CANONICAL_INTENTS
from bot.router.lexicon import DATA_DIR
from bot.text.normalize import normalize

TRAIN_FILE = "train.tsv"
HELDOUT_FILE = "heldout.tsv"


@dataclass(frozen=True)
class Example:
    intent: str
    text: str


def load_examples(path: Path) -> list[Example]:
    """Read an ``intent<TAB>utterance`` file; unknown intents are a ConfigError naming the line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        intent, _, text = line.partition("\t")
        if intent not in CANONICAL_INTENTS or not text.strip():
            raise ConfigError(f"{path.name}:{n}: bad example {line!r}")
        out.append(Example(intent, text))
    return out


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0


class IntentClassifier:
    """Predicts a canonical intent with a probability for normalised text."""

    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        *,
        c: float = 0.5,
        temperature: float = 4.0,
        delex: Callable[[str], str] | None = None,
    ) -> None:
        """``delex`` rewrites normalised text before features are taken (see
        :mod:`bot.router.delex`); it is applied alike to training and to queries."""
        if c <= 0:
            raise ValueError("c must be positive")
        self._tokenize = placeholder_aware(tokenize)
        self._delex = delex or (lambda norm: norm)
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self._c = c
        self._temperature = temperature
        self._pipe: Pipeline | None = None

    def fit(self, examples: Sequence[Example]) -> IntentClassifier:
        if len({e.intent for e in examples}) < 2:
            raise ConfigError("the intent classifier needs examples of at least two intents")
        features = FeatureUnion(
            [
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)),
                (
                    "words",
                    TfidfVectorizer(
                        tokenizer=self._tokenize,
                        token_pattern=None,
                        lowercase=False,
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                    ),
                ),
            ]
        )
        self._pipe = Pipeline(
            [("features", features), ("clf", LinearSVC(C=self._c))]
        )
        self._pipe.fit(
            [self._delex(normalize(e.text)) for e in examples], [e.intent for e in examples]
        )
        return self

    @property
    def fitted(self) -> bool:
        return self._pipe is not None

    # --- a fitted model kept between starts (bot/router/cache.py) -------------------------

    def _word_vectorizers(self) -> list[TfidfVectorizer]:
        if self._pipe is None:
            return []
        features = self._pipe.named_steps["features"]
        return [t for _, t in features.transformer_list if isinstance(t, TfidfVectorizer) and t.analyzer == "word"]

    def to_bytes(self) -> bytes:
        """The fitted model without its tokenizer and delexicaliser (functions of the shop,
        given again to :meth:`from_bytes`)."""
        if self._pipe is None:
            raise RuntimeError("IntentClassifier.to_bytes before fit")
        words = self._word_vectorizers()
        for vectorizer in words:
            vectorizer.tokenizer = None
        try:
            state = {k: v for k, v in vars(self).items() if k not in ("_tokenize", "_delex")}
            return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for vectorizer in words:
                vectorizer.tokenizer = self._tokenize

    @classmethod
    def from_bytes(
        cls, data: bytes, tokenize: Callable[[str], list[str]], *, delex: Callable[[str], str] | None = None
    ) -> IntentClassifier:
        """A classifier saved by :meth:`to_bytes`, with the same ``tokenize`` and ``delex``
        it was trained with."""
        classifier = cls(tokenize, delex=delex)
        vars(classifier).update(pickle.loads(data))  # noqa: S301 - written by to_bytes
        for vectorizer in classifier._word_vectorizers():
            vectorizer.tokenizer = classifier._tokenize
        return classifier

    def predict(self, norm: str) -> Prediction:
        """Classify already-normalised text."""
        if self._pipe is None:
            raise RuntimeError("IntentClassifier.predict before fit")
        scores = self._pipe.decision_function([self._delex(norm)])[0] * self._temperature
        exp = np.exp(scores - scores.max())
        probs = exp / exp.sum()
        classes = self._pipe.classes_
        order = probs.argsort()[::-1]
        best, second = order[0], order[1] if len(order) > 1 else None
        return Prediction(
            intent=str(classes[best]),
            confidence=float(probs[best]),
            runner_up=str(classes[second]) if second is not None else None,
            runner_up_confidence=float(probs[second]) if second is not None else 0.0,
        )


def train_default(
    tokenize: Callable[[str], list[str]],
    data_dir: Path = DATA_DIR,
    *,
    delex: Callable[[str], str] | None = None,
) -> IntentClassifier:
    """Fit on the training split only (never on ``heldout.tsv``)."""
    return IntentClassifier(tokenize, delex=delex).fit(load_examples(data_dir / TRAIN_FILE))
