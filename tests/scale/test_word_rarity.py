"""A word's rarity in the shop's texts is counted through an index of the texts per character
(equal texts kept once), not by reading every text for each new word: the counts must be the
ones reading every text gives, for the words of every suite's buyer lines, on every fixture
shop and on a generated big shop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from benchmarks.scale_shop import generate_shop
from bot.drafting.kept import shop_texts
from bot.drafting.frequency import TextCounts
from bot.drafting.matching import flat
from bot.drafting.relevance import Relevance, _fuzzy, synonyms
from bot.retrieval.vocab import shop_tokenizer
from bot.shop import Shop, load_shop
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").is_file())]
# Words a shop text has only with a gap (开票 ~ 开发票), a lone character, words no text has.
EXTRA = ("开票", "店铺券", "棉", "l", "xl", "明星", "工厂", "发货", "a", "1", "", "包邮吗", "满减")


def _buyer_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "eval").glob("**/*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in (doc or {}).get("cases", []) if isinstance(doc, dict) else []:
            lines.extend(str(t["user"]) for t in case.get("turns", []) if isinstance(t, dict) and "user" in t)
    return lines


@pytest.fixture(scope="module")
def lines() -> list[str]:
    found = _buyer_lines()
    assert len(found) > 300
    return found


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _words(shop: Shop, lines: list[str]) -> list[str]:
    tokenizer = shop_tokenizer(shop)
    words = {flat(w) for line in lines for w in tokenizer.cut_plain(normalize(line))}
    words |= {a for w in list(words) for a in synonyms().get(w, ())}
    return sorted(words | set(EXTRA))


def _by_reading_every_text(docs: list[str], word: str) -> int:
    """The count as it was worked out before the index: every text read."""
    found = sum(1 for d in docs if word in d)
    if found == 0 and len(word) >= 2 and not word.isascii():
        pattern = re.compile(".{0,2}".join(re.escape(ch) for ch in word))
        found = sum(1 for d in docs if pattern.search(d))
    return found


def _mismatches(shop: Shop, lines: list[str], counts: TextCounts | None = None) -> list[str]:
    docs = [d for d in (flat(t) for t in shop_texts(shop)) if d]
    relevance = Relevance(shop_texts(shop), shop_tokenizer(shop))
    if counts is not None:
        relevance._texts = counts
    assert relevance._texts.total == len(docs)
    wrong = []
    for word in _words(shop, lines):
        if relevance.df(word) != _by_reading_every_text(docs, word):
            wrong.append(word)
    return wrong


@pytest.mark.parametrize("root", SHOPS, ids=lambda p: p.name)
def test_fixture_shops(root: Path, lines: list[str]) -> None:
    assert _mismatches(load_shop(root), lines) == []


def test_a_generated_big_shop(big_shop: Shop, lines: list[str]) -> None:
    assert _mismatches(big_shop, lines) == []


def test_the_comparison_fails_when_the_index_loses_a_text(big_shop: Shop, lines: list[str]) -> None:
    """A text missing from one character's list (here 棉's) changes the counts it takes part in."""
    counts = TextCounts(d for d in (flat(t) for t in shop_texts(big_shop)) if d)
    having = counts._having["棉"]
    counts._having["棉"] = having[1:]
    assert "棉" in _mismatches(big_shop, lines, counts)


def test_a_fuzzy_count_looks_only_where_every_character_is() -> None:
    counts = TextCounts(["可以开发票吗", "可以开发票吗", "开具发票", "开心", "票"])
    assert counts.total == 5
    assert counts.count("开发票") == 2  # equal texts count each time
    assert counts.count("开票") == 0
    assert counts.count("开票", _fuzzy("开票")) == 3
    assert counts.count("") == 5
    assert counts.count("店铺券", _fuzzy("店铺券")) == 0
