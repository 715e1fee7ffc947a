"""The trained intent classifier: TF-IDF over character n-grams and jieba words, then a
linear SVM whose margins are turned into probabilities by a softmax. Text naming goods is
delexicalised first (``〈商品〉还有货吗``), so the model learns how buyers ask rather than which
goods the examples name. Trained at start-up from ``bot/router/data/train.tsv`` (about 2 s);
the held-out split ``heldout.tsv`` is read only by :func:`load_examples` for evaluation.

A query is not run through the scikit-learn pipeline: its input checks cost far more than
the arithmetic on one short string. :class:`LinearTfidf` applies the fitted vectorisers'
analysers (the same n-grams, computed here), vocabularies and idf weights and the SVM's
coefficients directly, the way ``TfidfVectorizer`` and ``LinearSVC`` compute them, and gives
the same margins. A kept model is those arrays alone: a start that reads one back never
imports scikit-learn (about 2 s and 100 MB of a process with SciPy).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import ConfigError
from bot.router.delex import placeholder_aware
from bot.router.intents import CANONICAL_INTENTS
from bot.router.lexicon import DATA_DIR
from bot.text.normalize import normalize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

TRAIN_FILE = "train.tsv"
HELDOUT_FILE = "heldout.tsv"
KEPT_FORMAT = 2  # what :meth:`IntentClassifier.to_bytes` writes: the fast path's arrays


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


_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class _Block:
    """One fitted ``TfidfVectorizer`` of the union, as plain values."""

    analyzer: str  # "char_wb" (character n-grams inside words) or "word" (the tokenizer's)
    ngram_range: tuple[int, int]
    lowercase: bool
    vocabulary: dict[str, int]
    idf: np.ndarray  # idf weight per column of this block
    coef: np.ndarray  # the SVM's weights of this block's columns, shape (columns, classes)
    sublinear: bool
    l2: bool


def _char_wb_ngrams(doc: str, ngram_range: tuple[int, int]) -> list[str]:
    """``TfidfVectorizer(analyzer="char_wb")``'s n-grams: each word padded with a space on
    both sides, every n-gram of it, a word shorter than ``n`` counted once."""
    min_n, max_n = ngram_range
    out: list[str] = []
    for w in _WHITE_SPACES.sub(" ", doc).split():
        w = f" {w} "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < w_len:
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:
                break
    return out


def _word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """``TfidfVectorizer``'s word n-grams of ``tokens``: the tokens, then their runs of two and
    more joined by a space."""
    min_n, max_n = ngram_range
    if max_n == 1:
        return tokens
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
        for i in range(len(tokens) - n + 1):
            out.append(" ".join(tokens[i : i + n]))
    return out


class LinearTfidf:
    """The margins of a fitted pipeline (a ``FeatureUnion`` of ``TfidfVectorizer`` blocks,
    then a linear classifier) for one document, without its per-call validation.

    Each block takes its analyser's in-vocabulary features, counts them, takes ``1 + log(tf)``
    when the vectoriser is sublinear, multiplies by idf and divides by the block's L2 norm (an
    empty block stays zero), exactly as ``TfidfVectorizer.transform``; the margins are the
    blocks' dot products with the coefficients plus the intercept, as ``decision_function``.
    """

    def __init__(
        self, blocks: Sequence[_Block], intercept: np.ndarray, classes: np.ndarray,
        tokenize: Callable[[str], list[str]],
    ) -> None:
        self._blocks = tuple(blocks)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = np.asarray(classes)
        self._tokenize = tokenize

    @classmethod
    def from_pipeline(cls, pipe: Pipeline, tokenize: Callable[[str], list[str]]) -> LinearTfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        features, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
        coef = np.asarray(clf.coef_, dtype=np.float64)
        blocks: list[_Block] = []
        offset = 0
        for _, v in features.transformer_list:
            plain = (
                isinstance(v, TfidfVectorizer) and v.norm in ("l2", None) and v.input == "content"
                and v.preprocessor is None and not v.strip_accents and v.stop_words is None
                and (v.analyzer == "char_wb" or (v.analyzer == "word" and v.tokenizer is not None))
            )
            if not plain:
                raise TypeError(f"LinearTfidf cannot apply {v!r}")
            width = len(v.vocabulary_)
            blocks.append(
                _Block(
                    analyzer=v.analyzer,
                    ngram_range=tuple(v.ngram_range),  # type: ignore[arg-type]
                    lowercase=bool(v.lowercase),
                    vocabulary=dict(v.vocabulary_),
                    idf=np.asarray(v.idf_, dtype=np.float64) if v.use_idf else np.ones(width),
                    coef=np.ascontiguousarray(coef[:, offset : offset + width].T),
                    sublinear=bool(v.sublinear_tf),
                    l2=v.norm == "l2",
                )
            )
            offset += width
        if offset != coef.shape[1]:
            raise ValueError("the classifier's coefficients do not match the features")
        return cls(blocks, clf.intercept_, clf.classes_, tokenize)

    def state(self) -> dict[str, Any]:
        """The arrays and vocabularies, as plain values (no function, no scikit-learn object)."""
        return {
            "blocks": [asdict(b) for b in self._blocks],
            "intercept": self.intercept,
            "classes": [str(c) for c in self.classes],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], tokenize: Callable[[str], list[str]]) -> LinearTfidf:
        blocks = [_Block(**{**b, "ngram_range": tuple(b["ngram_range"])}) for b in state["blocks"]]
        return cls(blocks, state["intercept"], np.asarray(state["classes"]), tokenize)

    def _features(self, block: _Block, doc: str) -> list[str]:
        if block.lowercase:
            doc = doc.lower()
        if block.analyzer == "char_wb":
            return _char_wb_ngrams(doc, block.ngram_range)
        return _word_ngrams(self._tokenize(doc), block.ngram_range)

    def decision(self, doc: str) -> np.ndarray:
        """The classifier's margins for ``doc``: ``decision_function([doc])[0]``."""
        scores = self.intercept.copy()
        for block in self._blocks:
            vocabulary = block.vocabulary
            counts: dict[int, int] = {}
            for feature in self._features(block, doc):
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
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.svm import LinearSVC

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
        self._linear = LinearTfidf.from_pipeline(self._pipe, self._tokenize)
        return self

    @property
    def fitted(self) -> bool:
        return self._linear is not None

    # --- a fitted model kept between starts (bot/router/cache.py) -------------------------

    def to_bytes(self) -> bytes:
        """The fitted model as plain arrays and vocabularies, without its tokenizer and
        delexicaliser (functions of the shop, given again to :meth:`from_bytes`)."""
        if self._linear is None:
            raise RuntimeError("IntentClassifier.to_bytes before fit")
        state = {"format": KEPT_FORMAT, "c": self._c, "temperature": self._temperature, "linear": self._linear.state()}
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(
        cls, data: bytes, tokenize: Callable[[str], list[str]], *, delex: Callable[[str], str] | None = None
    ) -> IntentClassifier:
        """A classifier saved by :meth:`to_bytes`, with the same ``tokenize`` and ``delex``
        it was trained with; bytes of another format are refused (:class:`ConfigError`)."""
        state = pickle.loads(data)  # noqa: S301 - written by to_bytes
        if not isinstance(state, dict) or state.get("format") != KEPT_FORMAT:
            raise ConfigError("a classifier kept in another format: train it again")
        classifier = cls(tokenize, c=state["c"], temperature=state["temperature"], delex=delex)
        classifier._linear = LinearTfidf.from_state(state["linear"], classifier._tokenize)
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
        in one batch: what the fast path must agree with (a model fitted in this process)."""
        if self._pipe is None:
            raise RuntimeError("reference_probabilities needs the model fitted in this process")
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
