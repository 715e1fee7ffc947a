"""A word many products share (a category, a head noun, a colour, a size) costs the linker no
work per product it names: of its owners only those that could be reported are read, and the
typo pass keeps only the owners reaching the reporting score. What the linker reports must be
exactly what crediting every owner of every matched word gives, on every fixture shop and on
a generated shop (where 「衬衫」 and 「黑色」 name dozens of products), with and without a
product in focus."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz import fuzz, process

from benchmarks.scale_shop import generate_shop
from bot.retrieval.linker import FUZZY_CUTOFF, MIN_SCORE, EntityLinker, _Alias, _AliasTable, _bounded
from bot.shop import Shop, load_shop
from bot.text.normalize import normalize
from tests.scale.test_linker_candidates import shop_texts, utterances

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [ROOT / "knowledge", *sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if (p / "shop.yaml").exists())]
# Lines naming only shared words: a category, a colour, a size, a head noun, numbers.
SHARED = (
    "衬衫", "黑色的还有吗", "那就换白色XXL吧", "XL", "牛仔裤那一单", "100斤", "165", "t恤选啥码",
    "亚麻无袖背心裙黑色的还能买到吗", "重磅短袖T恤白色的透不透肉", "有没有透气一点适合通勤的衬衫推荐",
    "帮我推荐一件适合秋天穿的外套", "灰色这个码还有没有", "浅蓝色L码", "黑色M码", "卫衣", "外套",
)


class EveryOwnerLinker(EntityLinker):
    """The linker crediting every owner of every matched alias, in the typo pass too."""

    def _exact(self, text: str, keep: str | None = None) -> tuple[dict[str, tuple[float, list[tuple[int, int]]]], dict[str, str]]:
        events: list[tuple[int, str]] = []
        seen: set[str] = set()
        aliases = self._aliases
        for i, ch in enumerate(text):
            for size in self._lengths.get(ch, ()):
                alias = text[i : i + size]
                if len(alias) < size or alias in seen or alias not in aliases or not _bounded(text, i, alias):
                    continue
                seen.add(alias)
                events.append((i, alias))
        scores: dict[str, float] = defaultdict(float)
        named: dict[str, str] = {}
        kinds_seen: dict[str, set[str]] = defaultdict(set)
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, alias in events:
            for a in aliases[alias]:
                if a.kind == "sku":
                    named.setdefault(a.product_id, self._sku_ids[alias])
                inside = any(s <= i and i + len(alias) <= e for s, e in spans[a.product_id])
                if inside and a.kind in kinds_seen[a.product_id]:
                    continue
                scores[a.product_id] += a.weight * (0.5 if inside else 1.0)
                kinds_seen[a.product_id].add(a.kind)
                spans[a.product_id].append((i, i + len(alias)))
        return {pid: (s, spans[pid]) for pid, s in scores.items()}, named

    def _fuzzy_match(self, text: str, keep: str | None = None) -> dict[str, tuple[float, list[tuple[int, int]]]]:
        out: dict[str, tuple[float, list[tuple[int, int]]]] = {}
        if len(text) < 3:
            return out
        for alias, ratio, _ in process.extract(
            text, self._fuzzy, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=8
        ):
            for a in self._aliases[alias]:
                if a.kind in ("prop", "attribute"):
                    continue
                score = a.weight * (ratio / 100.0) * 0.8
                if score > out.get(a.product_id, (0.0, []))[0]:
                    out[a.product_id] = (score, [])
        return out


@pytest.fixture(scope="module")
def lines() -> list[str]:
    found = utterances()
    assert len(found) > 500
    return found


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return load_shop(generate_shop(tmp_path_factory.mktemp("big") / "shop", 400))


def _typo_owners(linker: EntityLinker, text: str) -> list[str]:
    """Products the typo pass credits for ``text``, however little (a focus for the check:
    the focus adds to that score)."""
    norm = normalize(text)[:500]
    if len(norm) < 3:
        return []
    found = process.extract(norm, linker._fuzzy, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=8)
    owners = [a.product_id for alias, _, _ in found for a in linker._aliases[alias] if a.kind not in ("prop", "attribute")]
    return list(dict.fromkeys(owners[:1] + owners[-1:]))


def _differences(shop: Shop, texts: list[str], linker: EntityLinker | None = None) -> list[tuple[str, str | None]]:
    new = linker or EntityLinker(shop)
    old = EveryOwnerLinker(shop)
    focuses = [None, *list(shop.products)[:2], list(shop.products)[-1], "NO-SUCH-PRODUCT"]
    wrong = []
    for n, text in enumerate(texts):
        for focus in [*focuses, *(_typo_owners(old, text) if n < len(SHARED) else [])]:
            if new.link(text, focus_product=focus) != old.link(text, focus_product=focus):
                wrong.append((text, focus))
        if new.link(text, fuzzy=False) != old.link(text, fuzzy=False):
            wrong.append((text, "no typo pass"))
    return wrong


@pytest.mark.parametrize("shop_dir", SHOPS, ids=lambda p: p.name)
def test_fixture_shops(shop_dir: Path, lines: list[str]) -> None:
    shop = load_shop(shop_dir)
    assert _differences(shop, [*SHARED, *lines, *shop_texts(shop, EntityLinker(shop))[:300]]) == []


def test_a_generated_shop(big_shop: Shop, lines: list[str]) -> None:
    linker = EntityLinker(big_shop)
    # The shop has words shared by more products than the linker reads one by one.
    assert {"衬衫", "黑色", "xl", "牛仔裤"} <= set(linker._common)
    assert _differences(big_shop, [*SHARED, *lines[:600]], linker) == []


def _typo_pass_differences(shop: Shop, texts: list[str], linker: EntityLinker | None = None) -> list[tuple[str, str | None]]:
    """Texts whose typo pass keeps other products or scores than crediting every owner and
    keeping those at MIN_SCORE and the product in focus (at any score: the focus adds to it)."""
    new = linker or EntityLinker(shop)
    old = EveryOwnerLinker(shop)
    wrong = []
    for text in texts:
        norm = normalize(text)[:500]
        every = old._fuzzy_match(norm)
        low = [pid for pid, hit in every.items() if hit[0] < MIN_SCORE]
        for focus in [None, *_typo_owners(old, text), *low[:1], *low[-1:]]:
            want = {pid: hit for pid, hit in every.items() if hit[0] >= MIN_SCORE or pid == focus}
            if new._fuzzy_match(norm, keep=focus) != want:
                wrong.append((text, focus))
    return wrong


def test_the_typo_pass_keeps_what_can_be_reported(big_shop: Shop, lines: list[str]) -> None:
    assert _typo_pass_differences(big_shop, [*SHARED, *lines[:300]]) == []
    # The typo pass credits many products below MIN_SCORE (「牛仔裤」 names dozens).
    old = EveryOwnerLinker(big_shop)
    assert sum(hit[0] < MIN_SCORE for hit in old._fuzzy_match(normalize("牛仔裤那一单")).values()) > 10


def test_the_typo_check_fails_when_the_focus_is_left_out(big_shop: Shop) -> None:
    linker = EntityLinker(big_shop)
    scored = linker._aliases.scored

    def without_focus(alias: str, factors: tuple[float, ...], least: float, keep: int, skip: tuple[int, ...]) -> list[tuple[str, float]]:
        return scored(alias, factors, least, -1, skip)

    linker._aliases.scored = without_focus  # type: ignore[method-assign]
    assert _typo_pass_differences(big_shop, list(SHARED), linker)


def test_the_comparison_fails_when_a_shared_word_loses_an_owner(big_shop: Shop) -> None:
    linker = EntityLinker(big_shop)
    among = linker._aliases.among

    def losing_the_first(alias: str, rows: np.ndarray) -> list[_Alias]:
        return among(alias, rows[1:])

    linker._aliases.among = losing_the_first  # type: ignore[method-assign]
    assert _differences(big_shop, list(SHARED), linker)


def test_owners_are_searched_in_product_order() -> None:
    """Owners gathered out of product order are put in order, with their kinds and weights."""
    raw = {"衬衫": {"B": ("category", 0.4), "A": ("title", 1.0), "C": ("prop", 0.3)}, "黑色": {"C": ("prop", 0.3)}}
    table = _AliasTable.build(raw, ["A", "B", "C"])
    assert [(a.product_id, a.kind) for a in table["衬衫"]] == [("A", "title"), ("B", "category"), ("C", "prop")]
    assert [a.product_id for a in table.among("衬衫", np.array([0, 2], dtype=np.int32))] == ["A", "C"]
    assert [a.product_id for a in table.among("黑色", np.array([0, 1], dtype=np.int32))] == []


def test_the_typo_aliases_are_the_full_scans(big_shop: Shop, lines: list[str]) -> None:
    """Aliases scoring 100 (inside the text, or the text inside them) taken without scoring
    the rest are what rapidfuzz's extract over every alias gives, ties in alias order."""
    linker = EntityLinker(big_shop)
    taken = 0
    for text in [*SHARED, "165", "158", "1650", "k0016", *lines[:400], *shop_texts(big_shop, linker)[:400]]:
        norm = normalize(text)[:500]
        if len(norm) < 3:
            continue
        full = [(a, r) for a, r, _ in process.extract(norm, linker._fuzzy, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=8)]
        got = linker._typo_aliases(norm)
        assert got == full, text
        taken += len(got) == 8 and all(r == 100.0 for _, r in got)
    assert taken >= 5  # eight aliases scoring 100: the shortcut was taken
