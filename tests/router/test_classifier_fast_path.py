"""The classifier's fast path gives what the scikit-learn pipeline gives, line for line."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.router.cache import trained_classifier
from bot.router.classifier import HELDOUT_FILE, TRAIN_FILE, IntentClassifier, load_examples
from bot.router.delex import delexicaliser_for
from bot.router.lexicon import DATA_DIR
from bot.router.router import shop_words
from bot.shop.models import Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

ROOT = Path(__file__).resolve().parents[2]
ODD = [
    "",
    " ",
    "\t\n  \u3000",
    "😀😀👍",
    "亲😊在吗？？",
    "hello, is this in stock?",
    "XL",
    "Ｌ码 有货吗",
    "〈商品〉",
    "〈商品〉〈商品〉〈尺码〉",
    "a b  c   d",
    "退" * 3000,
    "这件衣服能退货吗我昨天买的尺码不对想换个大一码的颜色也想换成黑色 " * 40,
    "123456789012345678",
    "！@#￥%……&*（）",
]


@pytest.fixture(scope="module")
def classifier(demo_shop: Shop) -> IntentClassifier:
    tokenizer = ShopTokenizer(shop_words(demo_shop))
    return IntentClassifier(
        lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(demo_shop)
    ).fit(load_examples(DATA_DIR / TRAIN_FILE))


def _lines() -> list[str]:
    examples = load_examples(DATA_DIR / TRAIN_FILE) + load_examples(DATA_DIR / HELDOUT_FILE)
    return [e.text for e in examples] + ODD


def _assert_same(classifier: IntentClassifier, texts: list[str]) -> None:
    norms = [normalize(text) for text in texts]
    for text, norm, reference in zip(texts, norms, classifier.reference_probabilities(norms), strict=True):
        fast = classifier.probabilities(norm)
        assert fast.keys() == reference.keys()
        for intent, p in reference.items():
            assert abs(fast[intent] - p) <= 1e-9, (text, intent, fast[intent], p)
        pred = classifier.predict(norm)
        ranked = sorted(reference.values(), reverse=True)
        assert abs(pred.confidence - ranked[0]) <= 1e-9, text
        assert abs(reference[pred.intent] - ranked[0]) <= 1e-9, text
        if ranked[0] - ranked[1] > 1e-9:  # no tie: the very same intent
            assert pred.intent == max(reference, key=reference.__getitem__), text
            assert abs(pred.runner_up_confidence - ranked[1]) <= 1e-9, text


def test_fast_path_gives_the_pipelines_probabilities_for_every_example_and_odd_text(
    classifier: IntentClassifier,
) -> None:
    lines = _lines()
    assert len(lines) > 2000
    _assert_same(classifier, lines)


def test_a_model_read_back_from_its_bytes_predicts_the_same(
    classifier: IntentClassifier, demo_shop: Shop
) -> None:
    tokenizer = ShopTokenizer(shop_words(demo_shop))
    again = IntentClassifier.from_bytes(
        classifier.to_bytes(),
        lambda s: tokenizer.cut(s, normalized=True),
        delex=delexicaliser_for(demo_shop),
    )
    texts = [e.text for e in load_examples(DATA_DIR / HELDOUT_FILE)] + ODD
    norms = [normalize(text) for text in texts]
    for text, norm, reference in zip(texts, norms, classifier.reference_probabilities(norms), strict=True):
        got = again.probabilities(norm)
        assert got == pytest.approx(classifier.probabilities(norm), abs=1e-12)
        assert got == pytest.approx(reference, abs=1e-9), text


def test_bytes_of_another_format_are_refused(demo_shop: Shop) -> None:
    # what ``to_bytes`` wrote before: the fitted pipeline and its settings
    old = pickle.dumps({"_c": 2.0, "_temperature": 4.0, "_pipe": None})
    tokenizer = ShopTokenizer(shop_words(demo_shop))
    with pytest.raises(ConfigError, match="another format"):
        IntentClassifier.from_bytes(old, lambda s: tokenizer.cut(s, normalized=True))


def test_a_kept_model_is_applied_without_scikit_learn(classifier: IntentClassifier, tmp_path: Path) -> None:
    kept = tmp_path / "model.bin"
    kept.write_bytes(classifier.to_bytes())
    expected = classifier.predict(normalize("我的快递到哪里了"))
    script = "\n".join([
        "import sys",
        "from pathlib import Path",
        "from bot.router.classifier import IntentClassifier",
        "from bot.router.delex import delexicaliser_for",
        "from bot.router.router import shop_words",
        "from bot.shop import load_shop",
        "from bot.text.normalize import normalize",
        "from bot.text.tokenize import ShopTokenizer",
        f"shop = load_shop(Path({str(ROOT / 'knowledge')!r}))",
        "tokenizer = ShopTokenizer(shop_words(shop))",
        f"c = IntentClassifier.from_bytes(Path({str(kept)!r}).read_bytes(),"
        " lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(shop))",
        "p = c.predict(normalize('我的快递到哪里了'))",
        "print(p.intent, repr(p.confidence), 'sklearn' in sys.modules, 'scipy' in sys.modules)",
    ])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    intent, confidence, sklearn_loaded, scipy_loaded = out.stdout.split()
    assert intent == expected.intent and float(confidence) == pytest.approx(expected.confidence, abs=1e-12)
    assert (sklearn_loaded, scipy_loaded) == ("False", "False")


def test_a_classifier_read_from_the_cache_predicts_as_the_one_written(
    demo_shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.router.cache as cache

    monkeypatch.setattr(cache, "_KEPT", type(cache._KEPT)())  # nothing trained in this process yet
    tokenizer = ShopTokenizer(shop_words(demo_shop))

    def cached() -> IntentClassifier:
        return trained_classifier(
            lambda s: tokenizer.cut(s, normalized=True),
            delex=delexicaliser_for(demo_shop),
            shop_hash=demo_shop.content_hash,
            cache_dir=tmp_path,
        )

    first = cached()
    assert list(tmp_path.glob("intent-classifier-*.pickle"))
    monkeypatch.setattr(cache, "_KEPT", type(cache._KEPT)())  # as a new process: from the disk
    second = cached()
    assert second is not first
    texts = [e.text for e in load_examples(DATA_DIR / HELDOUT_FILE)][:200] + ODD
    for text in texts:  # a model trained again would differ in the last digits
        norm = normalize(text)
        assert second.probabilities(norm) == pytest.approx(first.probabilities(norm), abs=1e-12)
    _assert_same(first, texts)  # the one trained here: against the pipeline itself
