"""Keep a retriever in step with its shop directory: on demand (an admin endpoint) or by
watching the files. A shop that fails validation leaves the current index in place."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.errors import ShopInvalid
from bot.retrieval.hybrid import HybridRetriever
from bot.retrieval.store import IngestReport
from bot.shop import Shop, load_shop

log = logging.getLogger(__name__)


def refresh_if_changed(
    retriever: HybridRetriever, shop_dir: Path, *, on_shop: Callable[[Shop], None] | None = None
) -> IngestReport | None:
    """Reload ``shop_dir``; re-ingest when its content changed. Returns the report, or None
    when nothing changed. Raises :class:`ShopInvalid` (index untouched) for a broken shop."""
    shop = load_shop(shop_dir)
    if shop.content_hash == retriever.snapshot.shop_hash:
        return None
    report = retriever.refresh(shop)
    if on_shop is not None:
        on_shop(shop)
    return report


def watch_shop(
    retriever: HybridRetriever,
    shop_dir: Path,
    stop: threading.Event,
    *,
    on_shop: Callable[[Shop], None] | None = None,
) -> threading.Thread:
    """Start a daemon thread that re-ingests whenever a file under ``shop_dir`` changes,
    until ``stop`` is set. ``on_shop`` receives each newly loaded shop."""
    from watchfiles import watch

    def run() -> None:
        for _changes in watch(shop_dir, stop_event=stop, debounce=500):
            try:
                report = refresh_if_changed(retriever, shop_dir, on_shop=on_shop)
            except ShopInvalid as exc:
                log.warning("shop changed but is invalid; keeping the previous index: %s", exc)
                continue
            if report is not None:
                log.info("re-ingested %s: %d embedded, %d removed", shop_dir, report.embedded, report.removed)

    thread = threading.Thread(target=run, name="xiaoer-shop-watch", daemon=True)
    thread.start()
    return thread
