"""The on-disk index of a shop: a chroma collection plus snapshot generations beside it.

Layout under ``persist_dir``::

    chroma.sqlite3, …                  chromadb PersistentClient (vectors + each passage's digest),
                                       or a chroma server (``XIAOER_CHROMA_URL``) holding them
    xiaoer-index/<collection>/CURRENT   name of the live generation
    xiaoer-index/<collection>/gen-000007/{meta.json, passages.jsonl, vectors.npy}

An ingest embeds only passages whose digest changed, writes a new generation, then points
CURRENT at it with an atomic rename. Until then the previous generation stays live; a
failure (or a shop file changing under us) leaves it untouched.

chroma keeps only the vectors and a digest per passage id: filters (type, product, validity)
run on the snapshot's arrays, and every further metadata field made writes ~40% slower.

chroma is opened when first needed (an ingest that writes, a query of a large index), not at
start: importing it and opening its client takes seconds, and a small shop's queries never
need it. A start that finds the live generation built from the same shop files and code
reads no passage and writes nothing; whether chroma holds that generation's documents is
checked when chroma is first opened, and what is missing is written then.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import os
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.caching import code_of
from bot.retrieval.columns import TokenTableBuilder
from bot.retrieval.embedders import Embedder, HashingEmbedder
from bot.retrieval.passages import Passage, index_text
from bot.retrieval.snapshot import Snapshot
from bot.retrieval.vectordocs import VectorDocs, product_doc_id, vector_docs
from bot.retrieval.ingest_workers import prepare_passages
from bot.shop.models import Shop
from bot.text.tokenize import ShopTokenizer

BATCH = 4096  # passages per step; chroma accepts at most ~5,400 per call
STATE_DIR = "xiaoer-index"
# Inner product on L2-normalised vectors. A smaller construction beam than chroma's 100
# makes adding ~35% cheaper; candidates are re-scored exactly from the snapshot anyway.
HNSW = {"space": "ip", "ef_construction": 40, "ef_search": 100}
_ephemeral_names = itertools.count(1)
log = logging.getLogger(__name__)
# What a generation is computed from besides the shop's files and the embedder: passages,
# terms and vector documents, the store itself, and what they import (the normaliser and
# tokenizer, the shop models).
CODE = ("bot.retrieval.passages", "bot.retrieval.vectordocs", "bot.retrieval.vocab", "bot.retrieval.store")
LIBRARIES = ("jieba", "bm25s", "numpy")


def index_code() -> str:
    """The version of the code a generation was built with (a change rebuilds it)."""
    return code_of(CODE, LIBRARIES)


@dataclass
class IngestReport:
    """What an ingest did. ``embedded`` counts passages whose vectors were computed."""

    passages: int = 0
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    files_changed: list[str] = field(default_factory=list)
    generation: str | None = None
    seconds: float = 0.0
    unchanged: bool = False


def chroma_settings() -> Any:
    import chromadb.config

    return chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False)


def chroma_http_client(url: str) -> Any:
    """A client of the chroma server at ``url`` (``chroma run``), e.g. ``http://chroma:8000``."""
    from urllib.parse import urlsplit

    import chromadb

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"chroma 地址应如 http://host:8000 / chroma URL must look like http://host:8000: {url!r}")
    ssl = parts.scheme == "https"
    return chromadb.HttpClient(
        host=parts.hostname, port=parts.port or (443 if ssl else 8000), ssl=ssl, settings=chroma_settings()
    )


def collection_name(shop: Shop, embedder: Embedder) -> str:
    shop_key = hashlib.sha1(str(shop.root).encode()).hexdigest()[:10]
    emb_key = hashlib.sha1(embedder.name.encode()).hexdigest()[:8]
    return f"xiaoer-{shop_key}-{emb_key}"


class IndexStore:
    """Owns one chroma collection and (when persistent) its snapshot generations.

    ``client`` is a chroma client, or a function that makes one when chroma is first used."""

    def __init__(self, client: Any, name: str, state_dir: Path | None) -> None:
        self._connect: Callable[[], Any] = client if _is_factory(client) else (lambda: client)
        self._client: Any = None
        self.name = name
        self.state_dir = state_dir
        # One lock for opening chroma and for ingests (which open it): no order to get wrong.
        self._open_lock = threading.RLock()
        self._flock_depth = 0
        self._collection: Any = None
        self._ready: Any = None  # the collection, once it holds the live generation's documents
        self._unchecked: Snapshot | None = None  # taken as live without asking chroma
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)

    @property
    def client(self) -> Any:
        with self._open_lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    @property
    def collection(self) -> Any:
        ready = self._ready
        if ready is not None:
            return ready
        with self._open_lock:  # re-entered by the check below, from this thread only
            if self._collection is None:
                # Passing embedding_function=None: chroma then never builds its default ONNX
                # embedder; we always hand it vectors.
                self._collection = self.client.get_or_create_collection(
                    name=self.name, embedding_function=None, configuration={"hnsw": HNSW}
                )
                unchecked, self._unchecked = self._unchecked, None
                if unchecked is not None:
                    self._complete(unchecked)
                self._ready = self._collection
            return self._collection

    @property
    def opened(self) -> bool:
        """Whether chroma has been opened (it is, lazily, at its first use)."""
        return self._collection is not None

    def _complete(self, snapshot: Snapshot) -> None:
        """Write the documents of ``snapshot`` chroma does not hold (an earlier ingest that
        died between its writes and its generation, a chroma directory lost or replaced),
        and remove those of no passage of it."""
        assert self._collection is not None and snapshot.columns is not None
        if self._collection.count() == snapshot.vector_doc_count:
            return  # what an ingest checks too: the same number of documents
        with self._lock():
            if self.state_dir is not None and snapshot.folder is not None:
                try:
                    live = (self.state_dir / "CURRENT").read_text(encoding="utf-8").strip()
                except OSError:
                    live = None
                if live != snapshot.folder.name:
                    return  # a later ingest (another process) wrote chroma's documents since
            self._write_missing(snapshot)

    def _write_missing(self, snapshot: Snapshot) -> None:
        assert snapshot.columns is not None
        cols = snapshot.columns
        digests = snapshot.digests
        products = [cols.products[c] if c >= 0 else None for c in cols.product_code.tolist()]
        docs = vector_docs(cols.ids, products, [digests[i] for i in cols.ids])
        in_chroma = self._chroma_digests()
        send = [d for d in range(len(docs)) if in_chroma.get(docs.ids[d]) != docs.digests[d]]
        keep = set(docs.ids)
        stale = [i for i in in_chroma if i not in keep]
        if not send and not stale:
            return
        log.warning("chroma lacks %d and has %d stale documents of %s; writing them", len(send), len(stale), self.name)
        for start in range(0, len(send), BATCH):
            self._write(docs, snapshot.vectors, send[start : start + BATCH], in_chroma)
        if stale:
            self.collection.delete(ids=stale)

    @classmethod
    def open(
        cls, shop: Shop, embedder: Embedder, persist_dir: Path | None, *, chroma_url: str | None = None
    ) -> IndexStore:
        """The shop's index: in memory (``persist_dir=None``), embedded on disk, or on a chroma
        server (``chroma_url``) shared by every replica, with the snapshots in ``persist_dir``.
        A store on disk or on a server connects to chroma when first used."""
        if persist_dir is None:
            import chromadb

            client = chromadb.EphemeralClient(settings=chroma_settings())
            name = f"{collection_name(shop, embedder)}-m{next(_ephemeral_names)}"
            return cls(client, name, None)
        persist_dir.mkdir(parents=True, exist_ok=True)

        def connect() -> Any:
            import chromadb

            if chroma_url:
                return chroma_http_client(chroma_url)
            return chromadb.PersistentClient(path=str(persist_dir), settings=chroma_settings())

        name = collection_name(shop, embedder)
        return cls(connect, name, persist_dir / STATE_DIR / name)

    # --- generations ---------------------------------------------------------------------

    def current(self) -> Snapshot | None:
        """The live generation on disk, or None (none yet, or unreadable)."""
        if self.state_dir is None:
            return None
        pointer = self.state_dir / "CURRENT"
        try:
            gen = pointer.read_text(encoding="utf-8").strip()
            return Snapshot.load(self.state_dir / gen)
        except (OSError, ValueError, KeyError):
            return None

    def _next_generation(self) -> str:
        assert self.state_dir is not None
        numbers = [
            int(p.name[4:]) for p in self.state_dir.glob("gen-*") if p.name[4:].isdigit()
        ]
        return f"gen-{max(numbers, default=0) + 1:06d}"

    def _publish(self, snapshot: Snapshot) -> str:
        assert self.state_dir is not None
        gen = self._next_generation()
        snapshot.save(self.state_dir / gen)
        tmp = self.state_dir / "CURRENT.tmp"
        tmp.write_text(gen, encoding="utf-8")
        os.replace(tmp, self.state_dir / "CURRENT")
        # Keep the previous generation: a reader that loaded it a moment ago still works.
        gens = sorted(p for p in self.state_dir.glob("gen-*") if p.is_dir())
        for old in gens[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        return gen

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One ingest at a time: in this process (re-entrant) and, on disk, across processes."""
        with self._open_lock:
            if self.state_dir is None or self._flock_depth:
                self._flock_depth += 1
                try:
                    yield
                finally:
                    self._flock_depth -= 1
                return
            with open(self.state_dir / "lock", "w") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                self._flock_depth = 1
                try:
                    yield
                finally:
                    self._flock_depth = 0
                    fcntl.flock(fh, fcntl.LOCK_UN)

    # --- ingest --------------------------------------------------------------------------

    def ingest(
        self,
        shop: Shop,
        passages: list[Passage] | Callable[[], list[Passage]],
        tokenizer: ShopTokenizer,
        embedder: Embedder,
        *,
        previous: Snapshot | None = None,
        progress: bool = False,
    ) -> tuple[Snapshot, IngestReport]:
        """Bring the index up to ``passages``; return the new live snapshot.

        ``passages`` may be a function that builds them: it is not called when the live
        generation was built from these very shop files by this code (a warm start)."""
        started = time.perf_counter()
        with self._lock():
            previous = previous if previous is not None else self.current()
            if previous is not None and previous.embedder != embedder.name:
                previous = None
            current = (
                previous is not None
                and previous.shop_hash == shop.content_hash
                and previous.code == index_code()
            )
            if not (current and shop.file_hashes and callable(passages)):
                # Passages given, or a shop read from no files (no content to compare): the
                # number of passages must agree too.
                passages = passages() if callable(passages) else passages
                current = current and len(previous) == len(passages)  # type: ignore[arg-type]
            old_files = previous.file_hashes if previous is not None else {}
            files_changed = sorted(
                f
                for f in set(old_files) | set(shop.file_hashes)
                if old_files.get(f) != shop.file_hashes.get(f)
            )
            if current and not self.opened and self._ready is None:
                # chroma is asked whether it holds these documents when it is first opened.
                assert previous is not None
                self._unchecked = previous
            elif current and self.collection.count() != previous.vector_doc_count:  # type: ignore[union-attr]
                current = False
            if current:
                assert previous is not None
                report = IngestReport(
                    passages=len(previous), reused=len(previous), files_changed=files_changed, unchanged=True
                )
                report.seconds = time.perf_counter() - started
                return previous, report
            passages = passages() if callable(passages) else passages
            report = IngestReport(passages=len(passages), files_changed=files_changed)
            snapshot = self._build(shop, passages, tokenizer, embedder, previous, report, progress)
            if self.state_dir is not None:
                report.generation = self._publish(snapshot)
            stale = self._stale_ids({product_doc_id(p.product_id) if p.product_id else p.id for p in passages})
            if stale:
                self.collection.delete(ids=stale)
            report.removed = len(stale)
        report.seconds = time.perf_counter() - started
        return snapshot, report

    def _stale_ids(self, keep: set[str]) -> list[str]:
        return [i for i, _ in self._pages(include=[]) if i not in keep]

    def _chroma_digests(self) -> dict[str, str]:
        return {i: str((m or {}).get("digest", "")) for i, m in self._pages(include=["metadatas"])}

    def _pages(self, *, include: list[str]) -> Iterator[tuple[str, Any]]:
        """Every id in the collection with its metadata, a page at a time: one ``get`` of a
        whole large collection fails in chroma's SQLite ("too many SQL variables")."""
        total = self.collection.count()
        for offset in range(0, total, BATCH):
            got = self.collection.get(include=include, limit=BATCH, offset=offset)  # type: ignore[arg-type]
            metas = got.get("metadatas") or [None] * len(got["ids"])
            yield from zip(got["ids"], metas)

    def _build(
        self,
        shop: Shop,
        passages: list[Passage],
        tokenizer: ShopTokenizer,
        embedder: Embedder,
        previous: Snapshot | None,
        report: IngestReport,
        progress: bool,
    ) -> Snapshot:
        n = len(passages)
        prev_digest = previous.digests if previous is not None else {}
        in_chroma = self._chroma_digests()
        digests = [p.digest for p in passages]  # each one hashed once per ingest
        tokens = TokenTableBuilder(n)
        vectors = np.zeros((n, embedder.dim), dtype=np.float32)
        todo: list[int] = []
        for i, p in enumerate(passages):
            if previous is not None and prev_digest.get(p.id) == digests[i]:
                j = previous.pos[p.id]
                tokens.copy_row(i, previous.table, j)
                vectors[i] = previous.vectors[j]
                report.reused += 1
            else:
                todo.append(i)
        report.embedded = len(todo)

        bar = _progress(progress, len(todo))
        hashing = isinstance(embedder, HashingEmbedder)
        all_texts = [index_text(passages[i]) for i in todo]
        # Normalised once, then shared by the BM25 terms and the hashed vectors; a big shop's
        # batches are prepared in worker processes while this one stores the batches back.
        prepared = prepare_passages(tokenizer, embedder, all_texts, BATCH)
        for start, ready in zip(range(0, len(todo), BATCH), prepared):
            batch = todo[start : start + BATCH]
            tokens.set_rows(batch, ready.table)
            if ready.vectors is not None:
                vectors[batch] = _checked(embedder, ready.vectors, len(batch))
            elif hashing and ready.norms is not None:
                vectors[batch] = _checked(embedder, embedder.embed_array(ready.norms, normalized=True), len(batch))
            else:
                vectors[batch] = _as_array(embedder, all_texts[start : start + BATCH])
            bar(len(batch))
        bar(0, done=True)
        # chroma gets a document per product and per other passage; those whose digest it
        # does not hold yet are written (new, changed, or lost when an earlier ingest died).
        docs = self._docs_of(passages, digests)
        send = [d for d in range(len(docs)) if in_chroma.get(docs.ids[d]) != docs.digests[d]]
        # chroma's add holds the GIL, so writing from a second thread gains nothing; large
        # batches amortise its per-call cost instead.
        for start in range(0, len(send), BATCH):
            self._write(docs, vectors, send[start : start + BATCH], in_chroma)
        return Snapshot(
            passages=passages,
            tokens=tokens.build(),
            vectors=vectors,
            embedder=embedder.name,
            shop_hash=shop.content_hash,
            file_hashes=dict(shop.file_hashes),
            code=index_code(),
        )

    @staticmethod
    def _docs_of(passages: list[Passage], digests: list[str]) -> VectorDocs:
        return vector_docs([p.id for p in passages], [p.product_id for p in passages], digests)

    def _write(self, docs: VectorDocs, vectors: np.ndarray, batch: list[int], in_chroma: dict[str, str]) -> None:
        """Send documents ``batch`` to chroma: ``add`` for new ids (cheaper), ``upsert`` for known ones."""
        new = [d for d in batch if docs.ids[d] not in in_chroma]
        known = [d for d in batch if docs.ids[d] in in_chroma]
        for which, write in ((new, self.collection.add), (known, self.collection.upsert)):
            if which:
                write(
                    ids=[docs.ids[d] for d in which],
                    embeddings=docs.vectors(vectors, which),
                    metadatas=[{"digest": docs.digests[d]} for d in which],
                )


def _is_factory(client: Any) -> bool:
    """A function making a client (not a client: chroma's have ``get_or_create_collection``)."""
    return callable(client) and not hasattr(client, "get_or_create_collection")


def _as_array(embedder: Embedder, texts: list[str]) -> np.ndarray:
    fast = getattr(embedder, "embed_array", None)
    rows = fast(texts) if fast is not None else np.asarray(embedder.embed(texts), dtype=np.float32)
    return _checked(embedder, rows, len(texts))


def _checked(embedder: Embedder, rows: np.ndarray, n: int) -> np.ndarray:
    if rows.shape != (n, embedder.dim):
        raise ValueError(f"embedder returned shape {rows.shape}, expected ({n}, {embedder.dim})")
    return rows


def _progress(enabled: bool, total: int) -> Any:
    """A ``step(n, done=False)`` callback drawing a rich progress bar when ``enabled``."""
    if not enabled or total == 0:
        return lambda n, done=False: None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
    )

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    task = bar.add_task("索引 passages", total=total)
    bar.start()

    def step(n: int, done: bool = False) -> None:
        bar.advance(task, n)
        if done:
            bar.stop()

    return step
