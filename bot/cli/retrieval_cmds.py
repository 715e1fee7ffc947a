"""``xiaoer ingest``, ``xiaoer search`` and ``xiaoer retrieval-eval``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.config import PROJECT_ROOT

ShopOpt = Annotated[
    Optional[Path],
    typer.Option("--shop", help="shop directory (default: XIAOER_SHOP_DIR or the demo shop)"),
]
IndexOpt = Annotated[
    Optional[Path],
    typer.Option("--index-dir", help="index directory (default: XIAOER_DATA_DIR/chroma)"),
]


def _load(shop_dir: Path | None):  # type: ignore[no-untyped-def]
    from rich.console import Console

    from bot.config import Settings
    from bot.errors import ShopInvalid
    from bot.shop import load_shop

    # The data directory (and so the index) follows the shop named on the command line.
    settings = Settings(shop_dir=shop_dir) if shop_dir is not None else Settings()
    try:
        shop = load_shop(settings.shop_dir)
    except ShopInvalid as exc:
        console = Console(stderr=True)
        for problem in exc.problems:
            console.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1) from None
    return shop, settings


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest(shop_dir: ShopOpt = None, index_dir: IndexOpt = None) -> None:
        """Index a shop for search (只重建改动过的内容 — only changed passages are embedded)."""
        from rich.console import Console

        from bot.retrieval.hybrid import open_retriever

        shop, settings = _load(shop_dir)
        target = index_dir or settings.chroma_dir
        retriever = open_retriever(shop, settings, persist_dir=target, progress=True)
        r = retriever.last_report
        assert r is not None
        state = "unchanged" if r.unchanged else f"generation {r.generation}"
        Console().print(
            f"[green]✓[/green] {shop.info.name}: {r.passages} passages, {r.embedded} embedded, "
            f"{r.reused} reused, {r.removed} removed, {len(r.files_changed)} files changed "
            f"({state}, {r.seconds:.2f}s) → {target}",
            highlight=False,
        )

    @app.command("search")
    def search(
        query: Annotated[str, typer.Argument(help="buyer question, e.g. 牛仔裤咋洗")],
        shop_dir: ShopOpt = None,
        index_dir: IndexOpt = None,
        k: Annotated[int, typer.Option("-k", help="how many passages")] = 5,
        types: Annotated[Optional[list[str]], typer.Option("--type", help="passage type filter (repeatable)")] = None,
        product: Annotated[Optional[str], typer.Option("--product", help="only this product's passages")] = None,
        now: Annotated[Optional[str], typer.Option("--now", help="ISO time promotions must be valid at")] = None,
        mode: Annotated[str, typer.Option(help="hybrid, bm25 or vector")] = "hybrid",
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Print the passages that best answer QUERY, with scores and citations."""
        from datetime import datetime

        from rich.console import Console
        from rich.table import Table

        from bot.retrieval.hybrid import open_retriever

        shop, settings = _load(shop_dir)
        retriever = open_retriever(shop, settings, persist_dir=index_dir or settings.chroma_dir)
        at = datetime.fromisoformat(now) if now else datetime.now(shop.tz)
        if at.tzinfo is None:
            at = at.replace(tzinfo=shop.tz)
        hits = retriever.search(query, k=k, types=types, product_id=product, now=at, mode=mode)
        if as_json:
            rows = [
                {"id": h.passage.id, "score": h.score, "citation": h.passage.citation,
                 "type": h.passage.type, "title": h.passage.title, "text": h.passage.text}
                for h in hits
            ]
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"{shop.info.name} · {query}")
        for col in ("#", "score", "citation", "type", "text"):
            table.add_column(col)
        for i, h in enumerate(hits, 1):
            table.add_row(str(i), f"{h.score:.4f}", h.passage.citation, h.passage.type, h.passage.text[:80])
        Console().print(table)
        if not hits:
            Console().print("(no passage found)")

    @app.command("retrieval-eval")
    def retrieval_eval(
        labelled: Annotated[
            Path, typer.Argument(help="labelled set YAML")
        ] = PROJECT_ROOT / "eval" / "retrieval" / "queries.yaml",
        show_misses: Annotated[bool, typer.Option("--misses", help="list queries not found in the top 5")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Recall@1, recall@5 and MRR of hybrid, BM25-only and vector-only search."""
        from rich.console import Console
        from rich.table import Table

        from bot.config import Settings
        from bot.retrieval.evaluate import LabelledSet, evaluate
        from bot.retrieval.hybrid import open_retriever
        from bot.shop import load_shop

        data = LabelledSet.load(labelled)
        shop = load_shop(data.shop_dir(labelled))
        retriever = open_retriever(shop, Settings(), persist_dir=None)
        scores = evaluate(retriever, data)
        if as_json:
            typer.echo(json.dumps([s.as_dict() for s in scores], ensure_ascii=False, indent=2))
            return
        console = Console()
        table = Table(title=f"{labelled.name}: {len(data.queries)} queries · embedder {retriever.embedder.name}")
        for col in ("mode", "recall@1", "recall@5", "MRR"):
            table.add_column(col)
        for s in scores:
            table.add_row(s.mode, f"{s.recall_at_1:.3f}", f"{s.recall_at_5:.3f}", f"{s.mrr:.3f}")
        console.print(table)
        if show_misses:
            for s in scores:
                for q, top in s.misses:
                    console.print(f"[yellow]{s.mode}[/yellow] {q} → {', '.join(top)}", highlight=False)
