"""The OpenAI-compatible embedder against a fake provider (real openai client code runs)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from bot.config import Settings
from bot.errors import RetryModel
from bot.retrieval.embedders import HashingEmbedder, OpenAIEmbedder, make_embedder


def fake_provider(dim: int, calls: list[dict]) -> httpx.Client:  # type: ignore[type-arg]
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body)
        assert request.url.path.endswith("/embeddings")
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t))] + [0.0] * (dim - 1)}
            for i, t in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_openai_embedder_batches_and_learns_dimension() -> None:
    calls: list[dict] = []  # type: ignore[type-arg]
    client = openai.OpenAI(base_url="http://provider.test/v1", api_key="k", http_client=fake_provider(8, calls))
    embedder = OpenAIEmbedder("bge-m3", client=client, batch_size=2)
    assert embedder.dim == 8 and embedder.name == "openai-bge-m3"
    vectors = embedder.embed(["一", "二二", "三三三"])
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0]
    assert [len(c["input"]) for c in calls[1:]] == [2, 1]
    assert all(c["model"] == "bge-m3" for c in calls)


def test_provider_failure_is_a_retry_error() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "down"}})

    client = openai.OpenAI(
        base_url="http://provider.test/v1", api_key="k", max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(broken)),
    )
    embedder = OpenAIEmbedder("m", client=client, dim=4)
    with pytest.raises(RetryModel):
        embedder.embed(["你好"])


def test_offline_default_without_embedding_model() -> None:
    assert isinstance(make_embedder(Settings(embedding_model=None)), HashingEmbedder)
