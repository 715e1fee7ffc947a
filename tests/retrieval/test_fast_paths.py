"""The fast paths of ingest and search give the same answers as the plain computations:
cached jieba runs, batched hashed vectors, BM25 straight from the postings."""

from __future__ import annotations

import random

import numpy as np

from bot.retrieval.embedders import HashingEmbedder
from bot.retrieval.passages import build_passages, index_text
from bot.retrieval.snapshot import Snapshot
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
