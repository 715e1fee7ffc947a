"""The drafting pipeline: facts → draft (LLM, else templates) → guards → :class:`Draft`.

A draft that fails a guard is regenerated once with the reasons; a second failure, an error
or a timeout of the model falls back to the template drafter, and the reason is recorded.
The template also answers, reason recorded, when the model already has as many drafts as
the :class:`ModelLimit` allows (at once, without waiting for a slot) and when a turn's model
work outlasts the limit's deadline.

:meth:`DraftingPipeline.adraft` and :meth:`~DraftingPipeline.astream` are the server's:
facts, guards and templates run in a few worker threads and the model is awaited, so a hung
model holds no thread. :meth:`~DraftingPipeline.draft` blocks the calling thread (CLI,
evaluation runner); there the deadline shortens each call's timeout and stops a
regeneration from starting late.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.config import Settings
from bot.drafting.citing import cited
from bot.drafting.facts import Facts, FactsBuilder, Linker, Retriever
from bot.drafting.limits import ModelLimit
from bot.drafting.llm import LLMDrafter, ModelReply, ModelUsage, StreamStats
from bot.drafting.prompts import PROMPTS_DIR, PromptSet
from bot.drafting.template import TemplateDrafter
from bot.errors import RetryModel
from bot.guards import Flag, check_reply
from bot.guards.policy import shop_days
from bot.shop.models import Buyer, Shop
from bot.turns import Source


class Redraft(BaseModel):
    """An agent rejected ``draft`` for ``reason`` and asked for another."""

    draft: str
    reason: str


class DraftRequest(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    conversation_id: str
    buyer: Buyer
    question: str
    intent: str  # canonical intent
    # From the router: {"product_ids": [...], "sku_ids": [...], "props": {...}, "qty": int | None,
    # "height_cm": ..., "weight_kg": ...}; every key optional.
    entities: dict[str, Any] = Field(default_factory=dict)
    history: list[tuple[str, str]] = Field(default_factory=list)  # (role, text), oldest first
    declined: bool = False  # the buyer said no to a recommendation recently: don't push
    now: datetime
    redraft: Redraft | None = None  # the model is told the rejected draft and the agent's reason


class Draft(BaseModel):
    text: str
    citations: list[Source]
    facts: dict[str, Any]  # the structured facts used, JSON-serialisable
    flags: list[str]  # guard codes of the final text (details in ``flag_details``)
    drafter: Literal["llm", "template"]
    fallback_reason: str | None = None
    passed: bool  # every guard passed
    flag_details: list[str] = Field(default_factory=list)  # "code: detail"
    timings_ms: dict[str, float] = Field(default_factory=dict)
    # Tokens of each model call made for this draft (the first, a regeneration), as the
    # provider reported them; a call it reported none for is left out.
    usage: list[ModelUsage] = Field(default_factory=list)


T = TypeVar("T")
# The reason code of a draft the provider cut off at max_tokens (regenerated like a guard failure).
CUT_OFF = "cut_off"
# Facts, guards and templates are CPU work of a few milliseconds; more threads than this
# would only queue for the interpreter lock.
WORK_THREADS = 4


def _reasons(flags: list[Flag]) -> str:
    return "；".join(str(f) for f in flags)


class DraftingPipeline:
    def __init__(
        self,
        shop: Shop,
        facts: FactsBuilder,
        template: TemplateDrafter,
        llm: LLMDrafter | None = None,
        *,
        limit: ModelLimit | None = None,
        work_threads: int = WORK_THREADS,
    ) -> None:
        if llm is not None and limit is None:
            raise ValueError("a model drafter needs a ModelLimit")
        if work_threads <= 0:
            raise ValueError("work_threads must be positive")
        self.shop = shop
        self.facts = facts
        self.template = template
        self.llm = llm
        self.limit = limit
        self._workers = anyio.CapacityLimiter(work_threads)

    # --- checks ----------------------------------------------------------------------------

    def _check(self, text: str, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any]) -> list[Flag]:
        secrets = [self.llm.system_text(facts)] if self.llm else []
        # What the buyer typed may be said back (an order id they asked about is no leak);
        # it supports no number, link or promise — only the shop's facts do.
        buyer_words = [t for role, t in req.history if role == "buyer"]
        return check_reply(text, facts_dict, self.shop, buyer=req.buyer, secrets=secrets, known_texts=[req.question, *buyer_words])

    def _result(
        self, text: str, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], drafter: Literal["llm", "template"],
        flags: list[Flag], fallback: str | None, timings: dict[str, float], usage: list[ModelUsage],
    ) -> Draft:
        return Draft(
            text=text,
            citations=cited(facts, text),
            facts=facts_dict,
            flags=list(dict.fromkeys(f.code for f in flags)),
            flag_details=[str(f) for f in flags],
            drafter=drafter,
            fallback_reason=fallback,
            passed=not flags,
            timings_ms={k: round(v, 3) for k, v in timings.items()},
            usage=list(usage),
        )

    def _template(
        self, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], fallback: str | None, timings: dict[str, float],
        usage: list[ModelUsage],
    ) -> Draft:
        t0 = time.perf_counter()
        text = self.template.draft(req, facts)
        flags = self._check(text, req, facts, facts_dict)
        timings["template"] = (time.perf_counter() - t0) * 1000
        return self._result(text, req, facts, facts_dict, "template", flags, fallback, timings, usage)

    def _judge(
        self, reply: ModelReply, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float],
        usage: list[ModelUsage],
    ) -> Draft | str:
        """The model's draft when it passes every guard, else the reasons it failed."""
        if reply.usage is not None:
            usage.append(reply.usage)
        flags = self._check(reply.text, req, facts, facts_dict)
        reasons = [_reasons(flags)] if flags else []
        if reply.cut_off:
            assert self.llm is not None
            reasons.append(f"{CUT_OFF}: 回复超过{self.llm.max_tokens}个token被截断，请写得更短")
        if reasons:
            return "；".join(reasons)
        return self._result(reply.text, req, facts, facts_dict, "llm", [], None, timings, usage)

    def _facts_timed(self, req: DraftRequest, timings: dict[str, float]) -> tuple[Facts, dict[str, Any]]:
        t0 = time.perf_counter()
        facts, facts_dict = self.build_facts(req)
        timings["facts"] = (time.perf_counter() - t0) * 1000
        return facts, facts_dict

    async def _in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._workers)

    # --- the model, blocking the calling thread --------------------------------------------

    def _model_draft(
        self, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float], usage: list[ModelUsage]
    ) -> Draft | str:
        """The model's guarded draft, or why the template must answer."""
        assert self.llm is not None and self.limit is not None
        if not self.limit.try_acquire():
            return self.limit.busy_reason()
        deadline = time.monotonic() + self.limit.deadline_s
        try:
            t0 = time.perf_counter()
            try:
                reply = self.llm.draft(req, facts, timeout_s=self.limit.deadline_s)
            except RetryModel as exc:
                return self._late(deadline, f"model error: {exc}")
            timings["llm"] = (time.perf_counter() - t0) * 1000
            return self._after_llm(reply, req, facts, facts_dict, timings, usage, deadline)
        finally:
            self.limit.release()

    def _after_llm(
        self, reply: ModelReply, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float],
        usage: list[ModelUsage], deadline: float,
    ) -> Draft | str:
        """Guard a model draft; regenerate once with the reasons, within the deadline."""
        assert self.llm is not None and self.limit is not None
        first = self._judge(reply, req, facts, facts_dict, timings, usage)
        if isinstance(first, Draft):
            return first
        left = deadline - time.monotonic()
        if left <= 0:
            return f"{self.limit.deadline_reason(regenerating=True)}; guards: {first}"
        try:
            t0 = time.perf_counter()
            reply = self.llm.draft(req, facts, retry_reason=first, timeout_s=left)
            timings["llm_retry"] = (time.perf_counter() - t0) * 1000
        except RetryModel as exc:
            return self._late(deadline, f"guards: {first}; regeneration failed: {exc}", regenerating=True)
        second = self._judge(reply, req, facts, facts_dict, timings, usage)
        return second if isinstance(second, Draft) else f"guards failed twice: {second}"

    def _late(self, deadline: float, reason: str, *, regenerating: bool = False) -> str:
        """A failed call that ran into the deadline is recorded as the deadline."""
        assert self.limit is not None
        if time.monotonic() < deadline:
            return reason
        return f"{self.limit.deadline_reason(regenerating=regenerating)} ({reason})"

    # --- the model, awaited ----------------------------------------------------------------

    async def _amodel_draft(
        self, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float], usage: list[ModelUsage]
    ) -> Draft | str:
        assert self.llm is not None and self.limit is not None
        if not self.limit.try_acquire():
            return self.limit.busy_reason()
        try:
            async with asyncio.timeout(self.limit.deadline_s):
                t0 = time.perf_counter()
                try:
                    reply = await self.llm.adraft(req, facts)
                except RetryModel as exc:
                    return f"model error: {exc}"
                timings["llm"] = (time.perf_counter() - t0) * 1000
                return await self._aafter_llm(reply, req, facts, facts_dict, timings, usage)
        except TimeoutError:
            return self.limit.deadline_reason(regenerating="llm" in timings)
        finally:
            self.limit.release()

    async def _aafter_llm(
        self, reply: ModelReply, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float],
        usage: list[ModelUsage],
    ) -> Draft | str:
        """:meth:`_after_llm` awaited; the caller's deadline covers it."""
        assert self.llm is not None
        first = await self._in_worker(self._judge, reply, req, facts, facts_dict, timings, usage)
        if isinstance(first, Draft):
            return first
        try:
            t0 = time.perf_counter()
            reply = await self.llm.adraft(req, facts, retry_reason=first)
            timings["llm_retry"] = (time.perf_counter() - t0) * 1000
        except RetryModel as exc:
            return f"guards: {first}; regeneration failed: {exc}"
        second = await self._in_worker(self._judge, reply, req, facts, facts_dict, timings, usage)
        return second if isinstance(second, Draft) else f"guards failed twice: {second}"

    # --- entry points ----------------------------------------------------------------------

    def build_facts(self, req: DraftRequest) -> tuple[Facts, dict[str, Any]]:
        facts = self.facts.build(req)
        return facts, facts.model_dump(mode="json")

    def draft(self, req: DraftRequest) -> Draft:
        """Draft in the calling thread, which waits for the model (CLI, evaluation runner)."""
        timings: dict[str, float] = {}
        usage: list[ModelUsage] = []
        facts, facts_dict = self._facts_timed(req, timings)
        outcome = self._model_draft(req, facts, facts_dict, timings, usage) if self.llm else None
        if isinstance(outcome, Draft):
            return outcome
        return self._template(req, facts, facts_dict, outcome, timings, usage)

    async def adraft(self, req: DraftRequest) -> Draft:
        """Draft without holding a thread while the model writes (the server)."""
        timings: dict[str, float] = {}
        usage: list[ModelUsage] = []
        facts, facts_dict = await self._in_worker(self._facts_timed, req, timings)
        outcome = await self._amodel_draft(req, facts, facts_dict, timings, usage) if self.llm else None
        if isinstance(outcome, Draft):
            return outcome
        return await self._in_worker(self._template, req, facts, facts_dict, outcome, timings, usage)

    async def astream(
        self, req: DraftRequest, on_done: Callable[[Draft], None] | None = None
    ) -> AsyncGenerator[str, None]:
        """Stream the draft for the agent console as it is written. The finished text still
        goes through the guards; ``on_done`` receives the final :class:`Draft` (which may be
        a regenerated or template draft when the streamed one failed). When nothing was
        streamed — no model, the model busy, or no first token before an error or the
        deadline — the template draft's text is yielded whole. ``timings_ms`` has the wait
        for the first token (``llm_first_token``) besides the whole call (``llm``)."""
        timings: dict[str, float] = {}
        usage: list[ModelUsage] = []
        facts, facts_dict = await self._in_worker(self._facts_timed, req, timings)
        parts: list[str] = []
        outcome: Draft | str | None = None
        if self.llm is not None:
            assert self.limit is not None
            if not self.limit.try_acquire():
                outcome = self.limit.busy_reason()
            else:
                try:
                    deadline = asyncio.get_running_loop().time() + self.limit.deadline_s
                    t0 = time.perf_counter()
                    stats = StreamStats()
                    tokens = self.llm.astream(req, facts, stats)
                    try:
                        while True:
                            # The deadline covers each wait for the model, never a yield to
                            # the consumer (a cancel scope must not span a yield).
                            async with asyncio.timeout_at(deadline):
                                piece = await anext(tokens, None)
                            if piece is None:
                                break
                            if not parts:
                                timings["llm_first_token"] = (time.perf_counter() - t0) * 1000
                            parts.append(piece)
                            yield piece
                    finally:
                        await tokens.aclose()
                    timings["llm"] = (time.perf_counter() - t0) * 1000
                    text = "".join(parts).strip()
                    if not text:
                        raise RetryModel("the model returned an empty draft")
                    async with asyncio.timeout_at(deadline):
                        reply = ModelReply(text, stats.usage, stats.cut_off)
                        outcome = await self._aafter_llm(reply, req, facts, facts_dict, timings, usage)
                except RetryModel as exc:
                    outcome = f"model error: {exc}"
                except TimeoutError:
                    outcome = self.limit.deadline_reason(regenerating="llm" in timings)
                finally:
                    self.limit.release()
        if isinstance(outcome, Draft):
            draft = outcome
        else:
            draft = await self._in_worker(self._template, req, facts, facts_dict, outcome, timings, usage)
            if not parts:
                yield draft.text
        if on_done:
            on_done(draft)


def build_pipeline(
    shop: Shop,
    settings: Settings,
    retriever: Retriever,
    linker: Linker,
    clock: Clock | None = None,
    *,
    prompts_dir: Any = None,
    limit: ModelLimit | None = None,
    cache_dir: Path | None = None,
) -> DraftingPipeline:
    """Build the pipeline; prompts are validated here, so a bad prompt stops start-up with
    the prompt's and the variable's name. The LLM drafter is used only when
    ``settings.llm_model`` is set. ``clock`` is accepted for symmetry: requests carry ``now``.
    ``limit`` defaults to one from ``settings``; pass a running pipeline's to share it.
    ``cache_dir`` keeps the shop's drafting tables between starts (:mod:`bot.drafting.kept`)."""
    prompts = PromptSet.load(prompts_dir or PROMPTS_DIR)
    # The time spans the shop writes, read once here rather than in a buyer's turn (the
    # guards of flow replies read them too).
    shop_days(shop)
    template = TemplateDrafter(prompts)
    llm = LLMDrafter.from_settings(prompts, settings) if settings.llm_model else None
    return DraftingPipeline(
        shop, FactsBuilder(shop, retriever, linker, cache_dir=cache_dir), template, llm,
        limit=ModelLimit.from_settings(settings) if limit is None else limit,
    )
