"""Finding a shop's facts: passages, hybrid search (chroma + BM25) and entity linking.

Names are loaded on first use so that importing the package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Passage": "bot.retrieval.passages",
    "Hit": "bot.retrieval.passages",
    "build_passages": "bot.retrieval.passages",
    "Retriever": "bot.retrieval.hybrid",
    "HybridRetriever": "bot.retrieval.hybrid",
    "open_retriever": "bot.retrieval.hybrid",
    "Embedder": "bot.retrieval.embedders",
    "HashingEmbedder": "bot.retrieval.embedders",
    "OpenAIEmbedder": "bot.retrieval.embedders",
    "make_embedder": "bot.retrieval.embedders",
    "EntityLinker": "bot.retrieval.linker",
    "ProductMention": "bot.retrieval.linker",
    "IngestReport": "bot.retrieval.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bot.retrieval' has no attribute {name!r}")
