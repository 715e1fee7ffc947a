"""The linker's typo pass scores a shortlist of aliases; it finds exactly what a pass over
every alias finds: the same aliases with the same scores, and the same products linked."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from benchmarks.scale_shop import generate_shop
from bot.retrieval.linker import FUZZY_CUTOFF, EntityLinker, Shortlist, _CharIndex
from bot.shop import Shop, load_shop
from bot.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").exists())]
_CJK = re.compile(r"[\u4e00-\u9fff]")


class FullScanLinker(EntityLinker):
    """The linker as it was: the typo pass over every alias."""

    def _fuzzy_candidates(self, text: str) -> Shortlist:
        return Shortlist(self._fuzzy, self._fuzzy)


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def utterances() -> list[str]:
    """Buyer lines of every suite in eval/, the labelled real-buyer lines, and the Chinese
    string literals of the tests."""
    out: list[str] = []
    for path in sorted((ROOT / "eval").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in (doc or {}).get("cases", []) if isinstance(doc, dict) else []:
            out.extend(str(t["user"]) for t in case.get("turns", []) if isinstance(t, dict) and "user" in t)
        if isinstance(doc, dict) and "queries" in doc:
            out.extend(s for s in _strings(doc["queries"]) if _CJK.search(s))
    for path in sorted((ROOT / "eval").rglob("*.tsv")):
        out.extend(line.split("\t")[-1] for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line)
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CJK.search(node.value):
                if 3 <= len(node.value) <= 200:
                    out.append(node.value)
    return list(dict.fromkeys(out))


def shop_texts(shop: Shop, linker: EntityLinker) -> list[str]:
    """The shop's titles and every alias the typo pass knows, and a typo of each title."""
    titles = [p.title for p in shop.products.values()]
    typos = [t[:1] + t[2:] for t in titles if len(t) > 3]
    return [*titles, *typos, *linker._fuzzy]


def _extract(text: str, choices: list[str]) -> list[tuple[str, float]]:
    return [(a, r) for a, r, _ in process.extract(text, choices, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=8)]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    found = utterances()
    assert len(found) > 500  # the suites and tests are all there
    return found


@pytest.mark.parametrize("shop_dir", SHOPS, ids=lambda p: p.name)
def test_shortlist_scores_what_the_full_scan_scores(shop_dir: Path, lines: list[str]) -> None:
    shop = load_shop(shop_dir)
    linker = EntityLinker(shop)
    checked = 0
    for text in [*lines, *shop_texts(shop, linker)]:
        norm = normalize(text)[:500]
        if len(norm) < 3:
            continue
        full = _extract(norm, linker._fuzzy)
        assert _extract(norm, linker._fuzzy_candidates(norm).strings) == full, text
        checked += bool(full)
    assert checked > 50  # the typo pass did find aliases for many of the lines


@pytest.mark.parametrize("shop_dir", SHOPS, ids=lambda p: p.name)
def test_linker_links_what_it_linked_before(shop_dir: Path, lines: list[str]) -> None:
    shop = load_shop(shop_dir)
    new, old = EntityLinker(shop), FullScanLinker(shop)
    focus = next(iter(shop.products))
    for text in [*lines, *shop_texts(shop, new)[:400]]:
        assert new.link(text) == old.link(text), text
        assert new.link(text, focus_product=focus) == old.link(text, focus_product=focus), text


def test_shortlist_is_small_in_a_big_shop(tmp_path: Path, lines: list[str]) -> None:
    """In a shop of 600 products the typo pass scores a small part of the aliases, and still
    exactly what the full scan scores."""
    shop = load_shop(generate_shop(tmp_path / "shop", 600))
    linker = EntityLinker(shop)
    sizes = []
    for text in lines[:400]:
        norm = normalize(text)[:500]
        if len(norm) < 3:
            continue
        short = linker._fuzzy_candidates(norm).strings
        sizes.append(len(short))
        assert _extract(norm, short) == _extract(norm, linker._fuzzy), text
    sizes.sort()
    assert sizes[len(sizes) // 2] * 20 < len(linker._fuzzy)


def _within_bound(text: str, aliases: list[str], cutoff: float = FUZZY_CUTOFF) -> Shortlist:
    """Every alias sharing enough characters with ``text`` to reach the cutoff, and those
    sharing every character of the shorter, counted one by one: what the shortlist must be."""
    ratio = cutoff / (200.0 - cutoff)
    have = Counter(text)
    strings, whole = [], []
    for alias in aliases:
        shared = sum(min(n, have[ch]) for ch, n in Counter(alias).items())
        shorter = min(len(alias), len(text))
        if shared > 0 and shared >= shorter * ratio - 1e-9:
            strings.append(alias)
            if shared == shorter:
                whole.append(alias)
    return Shortlist(strings, whole)


def test_shortlist_is_every_alias_within_the_bound(tmp_path: Path, lines: list[str]) -> None:
    """The shortlist found under each string's and the text's rarest characters is the list of
    counting every alias: lines of every length against a shop of 300 products and the demo's."""
    for shop in (load_shop(ROOT / "knowledge"), load_shop(generate_shop(tmp_path / "shop", 300))):
        linker = EntityLinker(shop)
        texts = [*lines[:600], *shop_texts(shop, linker)[:300], "衣衣衣衣衣衣", "杯子杯子 保温 500ml 墨绿"]
        for found_at_most in (0, 10**9):  # every string counted at once; those found, one by one
            linker._fuzzy_index.found_at_most = found_at_most
            for text in texts:
                norm = normalize(text)[:500]
                if len(norm) >= 3:
                    assert linker._fuzzy_candidates(norm) == _within_bound(norm, linker._fuzzy), text


@pytest.mark.parametrize("cutoff", [30.0, 60.0, 90.0])
def test_shortlist_is_every_alias_within_the_bound_at_any_cutoff(cutoff: float, lines: list[str]) -> None:
    """At a low cutoff short strings need one shared character (found under any of theirs), at
    a high one nearly all: the rarest characters still find every string in bound."""
    shop = load_shop(ROOT / "knowledge")
    aliases = EntityLinker(shop)._fuzzy
    index = _CharIndex(aliases, cutoff)
    assert index._need(3) == (1 if cutoff == 30.0 else 2 if cutoff == 60.0 else 3)
    texts = [*lines[:300], *aliases[:200], "衣衣衣衣衣衣", "杯子杯子 保温 500ml 墨绿", "ab衣"]
    for found_at_most in (0, 10**9):
        index.found_at_most = found_at_most
        for text in texts:
            norm = normalize(text)[:500]
            if norm:
                assert index.shortlist(norm) == _within_bound(norm, aliases, cutoff), text
