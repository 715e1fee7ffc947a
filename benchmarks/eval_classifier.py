"""Accuracy of the intent classifier, and of the whole router, on the held-out split.

The classifier is trained on bot/router/data/train.tsv only; heldout.tsv is read here alone.
Run: .venv/bin/python benchmarks/eval_classifier.py [--shop knowledge]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from bot.router.classifier import HELDOUT_FILE, load_examples
from bot.router.lexicon import DATA_DIR
from bot.router.router import build_router
from bot.shop import load_shop
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shop", type=Path, default=ROOT / "knowledge")
    args = parser.parse_args()
    shop = load_shop(args.shop)
    started = time.perf_counter()
    router = build_router(shop)
    built = time.perf_counter() - started
    assert router.classifier is not None
    examples = load_examples(DATA_DIR / HELDOUT_FILE)
    clf_right = router_right = 0
    misses: Counter[tuple[str, str]] = Counter()
    per_intent: Counter[str] = Counter()
    per_intent_right: Counter[str] = Counter()
    for ex in examples:
        pred = router.classifier.predict(normalize(ex.text))
        clf_right += pred.intent == ex.intent
        routed = router.route(ex.text, {}).intent
        router_right += routed == ex.intent
        per_intent[ex.intent] += 1
        per_intent_right[ex.intent] += routed == ex.intent
        if routed != ex.intent:
            misses[(ex.intent, routed)] += 1
    n = len(examples)
    print(f"router built (tokenizer + linker + classifier training) in {built:.2f} s")
    print(f"held-out examples: {n}")
    print(f"classifier alone held-out accuracy: {clf_right / n:.3f} ({clf_right}/{n})")
    print(f"router (context + guards + rules + classifier) held-out accuracy: {router_right / n:.3f} ({router_right}/{n})")
    print("per intent (router):")
    for intent in sorted(per_intent):
        print(f"  {intent:16s} {per_intent_right[intent] / per_intent[intent]:.2f} ({per_intent_right[intent]}/{per_intent[intent]})")
    print("most frequent confusions (gold -> routed):")
    for (gold, got), count in misses.most_common(10):
        print(f"  {gold} -> {got}: {count}")


if __name__ == "__main__":
    main()
