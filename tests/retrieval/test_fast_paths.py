"""The fast paths of ingest and search give the same answers as the plain computations:
cached jieba runs, batched hashed vectors, BM25 straight from the postings, the best BM25
rows of a big index found without scoring every passage."""

from __future__ import annotations

import random

import numpy as np

from bot.retrieval.embedders import HashingEmbedder
from bot.retrieval.passages import Passage, build_passages, index_text
from bot.retrieval.snapshot import Snapshot
from bot.retrieval.topk import top_rows
from bot.retrieval.vocab import search_terms, shop_tokenizer
from bot.shop import Shop
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

MIXED = [
    "保温杯墨绿色500ml，能装开水吗？",
    "你們有賣普洱茶嗎 ＸＬ碼",
    "龙井 明前 特级\t礼盒\n送人 #1 a+b 3.5折 100% t恤-白色",
    "",
    "！！？？",
    "éclair 咖啡 𠀀 ぁ 한국",
]


def jieba_search_terms(tokenizer: ShopTokenizer, text: str) -> list[str]:
    """What ShopTokenizer.search_terms means, computed by jieba on the whole text."""
    words = tokenizer._jieba.cut_for_search(normalize(text), HMM=False)
    return [w for w in words if w.strip() and tokenizer.terms(w, normalized=True) == [w]]


def test_cached_search_terms_match_jieba_on_the_whole_text(mini_shop: Shop) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    rng = random.Random(3)
    alphabet = "保温杯龙井茶饼 ，。！？a-b_c.d#e+f%1２３\t\n龍井éぁ"
    texts = MIXED + [index_text(p) for p in build_passages(mini_shop)]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(300)]
    for text in texts + texts:  # the second round reads the cache
        assert tokenizer.search_terms(text) == jieba_search_terms(tokenizer, text), text


def test_a_new_word_changes_already_cached_text() -> None:
    tokenizer = ShopTokenizer()
    before = tokenizer.search_terms("华夫格短袖")
    tokenizer.add_word("华夫格")
    assert "华夫格" not in before
    assert "华夫格" in tokenizer.search_terms("华夫格短袖")


def test_batched_vectors_equal_one_by_one_vectors(mini_shop: Shop) -> None:
    embedder = HashingEmbedder(tokenizer=shop_tokenizer(mini_shop))
    texts = MIXED + [index_text(p) for p in build_passages(mini_shop)]
    batch = embedder.embed_array(texts)
    single = np.stack([embedder.embed_array([t])[0] for t in texts])
    prenormalised = embedder.embed_array([normalize(t) for t in texts], normalized=True)
    assert batch.shape == (len(texts), embedder.dim)
    assert np.allclose(batch, single, atol=1e-6) and np.allclose(batch, prenormalised, atol=1e-6)
    lengths = np.linalg.norm(batch, axis=1)
    assert np.allclose(lengths[lengths > 0], 1.0, atol=1e-5)
    assert not batch[texts.index("！！？？")].any()  # nothing searchable: a zero vector


def test_bm25_scores_match_bm25s(mini_shop: Shop) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    passages = build_passages(mini_shop)
    tokens = [search_terms(tokenizer, index_text(p)) for p in passages]
    snap = Snapshot(passages, tokens, np.zeros((len(passages), 16), np.float32), "e", "h")
    rows = snap.rows_of("W202")
    assert rows.size and all(passages[r].product_id == "W202" for r in rows)
    for query in ("保温杯怎么清洗", "龙井龙井多少钱", "七天无理由", "没有这个词"):
        terms = search_terms(tokenizer, query)
        expected = snap.bm25.get_scores(terms) if terms else np.zeros(len(passages))
        assert np.allclose(snap.bm25_scores(terms), expected, atol=1e-5), query
        assert np.allclose(snap.bm25_scores(terms, rows), expected[rows], atol=1e-5), query


def _dense_top(snap: Snapshot, terms: list[str], mask: np.ndarray | None, fetch: int) -> list[int]:
    scores = snap.bm25_scores(terms)
    if mask is not None:
        scores[~mask] = 0.0
    return top_rows(scores, None, fetch)


def test_best_rows_are_the_highest_scores_with_ties_by_position() -> None:
    rng = random.Random(7)
    for _ in range(500):
        scores = np.array([float(rng.randint(0, 3)) for _ in range(rng.randint(1, 40))])
        n = rng.randint(1, 45)
        expected = sorted((i for i in range(scores.size) if scores[i] > 0), key=lambda i: (-scores[i], i))[:n]
        assert top_rows(scores, None, n) == expected, (scores.tolist(), n)
        rows = np.arange(scores.size) * 10 + 3
        assert top_rows(scores, rows, n) == [int(rows[i]) for i in expected]


def test_bm25_of_the_rows_that_can_score_gives_the_rows_of_scoring_every_passage(mini_shop: Shop) -> None:
    tokenizer = shop_tokenizer(mini_shop)
    passages = build_passages(mini_shop)
    tokens = [search_terms(tokenizer, index_text(p)) for p in passages]
    snap = Snapshot(passages, tokens, np.zeros((len(passages), 16), np.float32), "e", "h")
    snap._postings.sparse_from = 0  # the few-rows paths on a small index too
    masks = [None, snap.mask(types=["product"], product_id=None, now=None), np.zeros(len(passages), bool)]
    for query in ("保温杯怎么清洗", "龙井龙井多少钱", "七天无理由", "没有这个词", "茶 杯 礼盒 发货 多少钱 的"):
        terms = search_terms(tokenizer, query)
        for mask in masks:
            for fetch in (1, 3, 50):
                assert snap.bm25_top(terms, mask, fetch) == _dense_top(snap, terms, mask, fetch), (query, fetch)


def test_few_rows_scored_alone_give_the_rows_of_scoring_every_passage() -> None:
    """A big index of rare and common words: a query of rare words scores only the passages
    they are in, a filter leaving few rows only those, a query of common words every
    passage; the rows are those of scoring every passage each time."""
    rng = random.Random(3)
    common = [f"c{i}" for i in range(6)]
    rare = [f"r{i}" for i in range(400)]
    tokens = [[w for w in common if rng.random() < 0.5] + rng.sample(rare, 2) for _ in range(20_000)]
    passages = [Passage(id=f"p{i}", type="faq", text=" ".join(t), title="", citation="", source="faq.yaml") for i, t in enumerate(tokens)]
    snap = Snapshot(passages, tokens, np.zeros((len(passages), 4), np.float32), "e", "h")
    postings = snap._postings
    postings.sparse_from = 0
    few = np.zeros(len(passages), bool)
    few[rng.sample(range(len(passages)), 200)] = True
    most = np.array([rng.random() < 0.7 for _ in passages])
    taken = {"rare words": 0, "few rows": 0, "everything": 0}
    for _ in range(40):
        for terms, mask, way in (
            (rng.sample(rare, rng.randint(1, 2)), None, "rare words"),
            (rng.sample(rare, rng.randint(1, 2)), most, "rare words"),
            (rng.sample(common, 2) + rng.sample(rare, 1), few, "few rows"),
            (rng.sample(common, 3), None, "everything"),
        ):
            rows = postings._rows_to_score(postings._ids(terms), len(passages), mask)
            taken[way] += (rows is None) == (way == "everything")
            for fetch in (5, 60):
                assert snap.bm25_top(terms, mask, fetch) == _dense_top(snap, terms, mask, fetch), terms
    assert taken == {"rare words": 80, "few rows": 40, "everything": 40}
