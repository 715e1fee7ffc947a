"""The trained intent classifier: TF-IDF over character n-grams and jieba words, then a
linear SVM whose margins are turned into probabilities by a softmax. Text naming goods is
delexicalised first (``〈商品〉还有货吗``), so the model learns how buyers ask rather than which
goods the examples name. Trained at start-up from ``bot/router/data/train.tsv`` (about 2 s);
the held-out split ``heldout.tsv`` is read only by :func:`load_examples` for evaluation.

A query is not run through the scikit-learn pipeline: its input checks cost far more than
the arithmetic on one short string. :class:`LinearTfidf` applies the fitted vectorisers'
own analysers, vocabularies and idf weights and the SVM's coefficients directly, the way
``TfidfVectorizer`` and ``LinearSVC`` compute them, and gives the same margins.
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
class _Block:
    """One fitted ``TfidfVectorizer`` of the union, as plain lookups."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray  # idf weight per column of this block
    coef: np.ndarray  # the SVM's weights of this block's columns, shape (columns, classes)
    sublinear: bool
    l2: bool


class LinearTfidf:
    """The margins of a fitted pipeline (a ``FeatureUnion`` of ``TfidfVectorizer`` blocks,
    then a linear classifier) for one document, without its per-call validation.

    Each block counts its analyser's in-vocabulary features, takes ``1 + log(tf)`` when the
    vectoriser is sublinear, multiplies by idf and divides by the block's L2 norm (an empty
    block stays zero), exactly as ``TfidfVectorizer.transform``; the margins are the blocks'
    dot products with the coefficients plus the intercept, as ``decision_function``.
    """

    def __init__(self, pipe: Pipeline) -> None:
        features, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
        coef = np.asarray(clf.coef_, dtype=np.float64)
        self.classes: np.ndarray = clf.classes_
        self.intercept: np.ndarray = np.asarray(clf.intercept_, dtype=np.float64)
        blocks: list[_Block] = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm not in ("l2", None):
                raise TypeError(f"LinearTfidf cannot apply {vectorizer!r}")
            width = len(vectorizer.vocabulary_)
            blocks.append(
                _Block(
                    analyze=vectorizer.build_analyzer(),
                    vocabulary=vectorizer.vocabulary_,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64)
                    if vectorizer.use_idf
                    else np.ones(width),
                    coef=np.ascontiguousarray(coef[:, offset : offset + width].T),
                    sublinear=vectorizer.sublinear_tf,
                    l2=vectorizer.norm == "l2",
                )
            )
            offset += width
        if offset != coef.shape[1]:
            raise ValueError("the classifier's coefficients do not match the features")
        self._blocks = tuple(blocks)

    def decision(self, doc: str) -> np.ndarray:
        """The classifier's margins for ``doc``: ``decision_function([doc])[0]``."""
        scores = self.intercept.copy()
        for block in self._blocks:
            vocabulary = block.vocabulary
            counts: dict[int, int] = {}
            for feature in block.analyze(doc):
                column = vocabulary.get(feature)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
            tf = np.fromiter((counts[c] for c in columns.tolist()), dtype=np.float64, count=len(counts))
            if block.sublinear:
                tf = np.log(tf) + 1.0
            values = tf * block.idf[columns]
            if block.l2:
                norm = np.sqrt(values @ values)
                if norm > 0:
                    values /= norm
            scores += values @ block.coef[columns]
        return scores if scores.shape[0] > 1 else scores[0]


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
        c: float = 2.0,
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
        self._linear: LinearTfidf | None = None

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
        self._linear = LinearTfidf(self._pipe)
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
            # the fast path holds the tokenizer too; it is rebuilt from the pipeline on load
            state = {k: v for k, v in vars(self).items() if k not in ("_tokenize", "_delex", "_linear")}
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
        state = pickle.loads(data)  # noqa: S301 - written by to_bytes
        state.pop("_linear", None)
        vars(classifier).update(state)
        for vectorizer in classifier._word_vectorizers():
            vectorizer.tokenizer = classifier._tokenize
        if classifier._pipe is not None:
            classifier._linear = LinearTfidf(classifier._pipe)
        return classifier

    def predict(self, norm: str) -> Prediction:
        """Classify already-normalised text."""
        probs, classes = self._probabilities(norm)
        order = probs.argsort()[::-1]
        best, second = order[0], order[1] if len(order) > 1 else None
        return Prediction(
            intent=str(classes[best]),
            confidence=float(probs[best]),
            runner_up=str(classes[second]) if second is not None else None,
            runner_up_confidence=float(probs[second]) if second is not None else 0.0,
        )

    def probabilities(self, norm: str) -> dict[str, float]:
        """Every intent's probability for already-normalised text."""
        probs, classes = self._probabilities(norm)
        return {str(c): float(p) for c, p in zip(classes, probs, strict=True)}

    def reference_probabilities(self, norms: Sequence[str]) -> list[dict[str, float]]:
        """:meth:`probabilities` of each text computed by the scikit-learn pipeline itself,
        in one batch: what the fast path must agree with."""
        if self._pipe is None:
            raise RuntimeError("IntentClassifier.predict before fit")
        margins = self._pipe.decision_function([self._delex(n) for n in norms])
        classes = self._pipe.classes_
        return [
            {str(c): float(p) for c, p in zip(classes, self._softmax(row), strict=True)}
            for row in np.atleast_1d(margins)
        ]

    def _probabilities(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        if self._linear is None:
            raise RuntimeError("IntentClassifier.predict before fit")
        return self._softmax(self._linear.decision(self._delex(norm))), self._linear.classes

    def _softmax(self, margins: np.ndarray) -> np.ndarray:
        scores = margins * self._temperature
        exp = np.exp(scores - scores.max())
        return exp / exp.sum()


def train_default(
    tokenize: Callable[[str], list[str]],
    data_dir: Path = DATA_DIR,
    *,
    delex: Callable[[str], str] | None = None,
) -> IntentClassifier:
    """Fit on the training split only (never on ``heldout.tsv``)."""
    return IntentClassifier(tokenize, delex=delex).fit(load_examples(data_dir / TRAIN_FILE))
