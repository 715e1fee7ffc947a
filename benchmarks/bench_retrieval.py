"""Retrieval speed on synthetic shops of about 1k, 10k and 100k passages.

Prints, per size: offline ingest rate (passages/s, into chroma on disk in a temp dir, with the
hashed embedder) and hybrid query latency p50/p95 (ms) over colloquial queries, unfiltered
and filtered by product. Synthetic products reuse the demo shop's vocabulary so token
statistics look like a real shop's.

    .venv/bin/python benchmarks/bench_retrieval.py [--sizes 1000,10000,100000] [--queries 300]

The synthetic shop is generated once, for the largest size; smaller sizes are its first
products. "load avg" is the 1-minute load average (highest of start and end of the size):
the machine is shared, so figures taken under load are pessimistic.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT, Settings
from bot.retrieval.hybrid import open_retriever
from bot.retrieval.passages import build_passages
from bot.retrieval.vocab import shop_tokenizer
from bot.shop import Shop, load_shop
from bot.shop.models import QA, FaqEntry, Product, RuleDoc, RuleSection, SizeChart, Sku

NOW = datetime.fromisoformat("2026-11-21T10:00:00+08:00")
PASSAGES_PER_PRODUCT = 10  # overview, attributes, usage, care, size chart, 4 FAQ, skus


def synthetic_shop(base: Shop, n_passages: int, seed: int = 7) -> Shop:
    """A shop with about ``n_passages`` passages, built from ``base``'s words."""
    rng = random.Random(seed)
    tokenizer = shop_tokenizer(base)
    words = sorted({t for p in build_passages(base) for t in tokenizer.terms(p.text) if len(t) >= 2})
    sentences = [s for p in build_passages(base) for s in p.text.split("。") if len(s) > 8]
    categories = sorted({p.category for p in base.products.values()})
    colors = ["白色", "黑色", "灰色", "藏青", "卡其", "酒红", "燕麦色", "墨绿"]
    sizes = ["S", "M", "L", "XL", "XXL"]

    def phrase(k: int) -> str:
        return "".join(rng.choice(words) for _ in range(k))

    products: dict[str, Product] = {}
    n_products = max(1, n_passages // PASSAGES_PER_PRODUCT)
    for i in range(n_products):
        pid = f"S{i:06d}"
        skus = [
            Sku(sku_id=f"{pid}-{c}-{s}", props={"颜色": colors[c], "尺码": s}, price=Decimal("99.00"), stock=rng.randint(0, 50))
            for c in rng.sample(range(len(colors)), 2)
            for s in sizes[:3]
        ]
        products[pid] = Product(
            id=pid,
            title=f"{phrase(2)}{rng.choice(categories)} {phrase(1)}款",
            category=rng.choice(categories),
            price=Decimal("99.00"),
            skus=skus,
            attributes={"面料": phrase(1), "版型": phrase(1), "产地": phrase(1)},
            selling_points=[rng.choice(sentences) for _ in range(2)],
            usage=rng.choice(sentences),
            care=rng.choice(sentences),
            size_chart=SizeChart(columns=["尺码", "身高cm"], rows=[[s, f"{160 + 5 * j}-{165 + 5 * j}"] for j, s in enumerate(sizes[:3])]),
            faq=[QA(q=phrase(2) + "吗", a=rng.choice(sentences)) for _ in range(4)],
            no_reason_return=True,
        )
    hashes = {f"products/{pid}.yaml": f"{i:064x}" for i, pid in enumerate(products)}
    rules = [RuleDoc(file=r.file, title=r.title, tags=r.tags, sections=[RuleSection(heading=s.heading, text=s.text) for s in r.sections]) for r in base.rules]
    return Shop(
        root=Path(f"/synthetic/{n_passages}"),
        info=base.info,
        products=products,
        rules=rules,
        promotions=base.promotions,
        faq=[FaqEntry(q=f.q, a=f.a, tags=f.tags) for f in base.faq],
        buyers={},
        orders=[],
        file_hashes=hashes,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def subshop(shop: Shop, n_passages: int) -> Shop:
    """The first products of a synthetic shop: ``synthetic_shop`` draws products one after
    another from one seeded generator, so this equals ``synthetic_shop(base, n_passages)``
    without building the products again."""
    n_products = max(1, n_passages // PASSAGES_PER_PRODUCT)
    keep = dict(list(shop.products.items())[:n_products])
    hashes = {f"products/{pid}.yaml": h for pid, h in zip(keep, shop.file_hashes.values())}
    return shop.model_copy(update={"root": Path(f"/synthetic/{n_passages}"), "products": keep, "file_hashes": hashes})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300, help="unfiltered queries per size")
    parser.add_argument("--filtered", type=int, default=200, help="by-product queries per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = load_shop(PROJECT_ROOT / "knowledge")
    labelled = yaml.safe_load((PROJECT_ROOT / "eval" / "retrieval" / "queries.yaml").read_text(encoding="utf-8"))
    questions = [q["q"] for q in labelled["queries"]]
    started = time.perf_counter()
    largest = synthetic_shop(base, max(sizes))  # generated once; smaller shops are its prefixes
    print(f"synthetic shop of {len(largest.products):,} products built in {time.perf_counter() - started:.1f}s", flush=True)
    rows = []
    for size in sizes:
        shop = subshop(largest, size)
        rng = random.Random(size)
        with tempfile.TemporaryDirectory() as tmp:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            retriever = open_retriever(shop, Settings(), persist_dir=Path(tmp))
            ingest_s = time.perf_counter() - started
            n = len(retriever.snapshot)
            products = list(shop.products.values())
            queries = [rng.choice(questions) for _ in range(args.queries // 2)]
            queries += [f"{rng.choice(products).title.split()[0]}{rng.choice(['怎么洗', '多少钱', '有黑色L码吗', '透不透'])}" for _ in range(args.queries - len(queries))]
            for q in queries[:20]:  # warm caches
                retriever.search(q, now=NOW)
            lat: list[float] = []
            for q in queries:
                t = time.perf_counter()
                retriever.search(q, now=NOW)
                lat.append((time.perf_counter() - t) * 1000)
            flat: list[float] = []
            for q in (queries * 2)[: args.filtered]:
                pid = rng.choice(products).id
                t = time.perf_counter()
                retriever.search(q, now=NOW, product_id=pid)
                flat.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            reopened = open_retriever(shop, Settings(), persist_dir=Path(tmp))
            reopen_s = time.perf_counter() - t
            assert reopened.last_report is not None and reopened.last_report.unchanged
            load = max(load, os.getloadavg()[0])
        rows.append((n, n / ingest_s, ingest_s, percentile(lat, 0.5), percentile(lat, 0.95), percentile(flat, 0.5), percentile(flat, 0.95), reopen_s, load))
        print(f"{n:>7} passages: ingest {n / ingest_s:7.0f}/s ({ingest_s:.1f}s)  query p50 {rows[-1][3]:.1f} ms p95 {rows[-1][4]:.1f} ms  by-product p50 {rows[-1][5]:.1f} p95 {rows[-1][6]:.1f} ms  reopen {reopen_s:.1f}s  load {load:.1f}", flush=True)
    print()
    print("| passages | ingest (passages/s) | ingest time | query p50 | query p95 | by-product p50 | by-product p95 | reopen (unchanged) | load avg |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, rate, secs, p50, p95, f50, f95, reopen, load in rows:
        print(f"| {n:,} | {rate:,.0f} | {secs:.1f} s | {p50:.1f} ms | {p95:.1f} ms | {f50:.1f} ms | {f95:.1f} ms | {reopen:.1f} s | {load:.1f} |")


if __name__ == "__main__":
    main()
