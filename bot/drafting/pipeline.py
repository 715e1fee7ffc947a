"""The drafting pipeline: facts → draft (LLM, else templates) → guards → :class:`Draft`.

A draft that fails a guard is regenerated once with the reasons; a second failure, an error
or a timeout of the model falls back to the template drafter, and the reason is recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.config import Settings
from bot.drafting.citing import cited
from bot.drafting.facts import Facts, FactsBuilder, Linker, Retriever
from bot.drafting.llm import LLMDrafter
from bot.drafting.prompts import PROMPTS_DIR, PromptSet
from bot.drafting.template import TemplateDrafter
from bot.errors import RetryModel
from bot.guards import Flag, check_reply
from bot.shop.models import Buyer, Shop
from bot.turns import Source


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


def _reasons(flags: list[Flag]) -> str:
    return "；".join(str(f) for f in flags)


class DraftingPipeline:
    def __init__(
        self,
        shop: Shop,
        facts: FactsBuilder,
        template: TemplateDrafter,
        llm: LLMDrafter | None = None,
    ) -> None:
        self.shop = shop
        self.facts = facts
        self.template = template
        self.llm = llm

    # --- checks ----------------------------------------------------------------------------

    def _check(self, text: str, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any]) -> list[Flag]:
        secrets = [self.llm.system_text(facts)] if self.llm else []
        buyer_words = [t for role, t in req.history if role == "buyer"]
        return check_reply(text, facts_dict, self.shop, buyer=req.buyer, secrets=secrets, known_texts=[req.question, *buyer_words])

    def _result(
        self, text: str, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], drafter: Literal["llm", "template"],
        flags: list[Flag], fallback: str | None, timings: dict[str, float],
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
        )

    def _template(self, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], fallback: str | None, timings: dict[str, float]) -> Draft:
        t0 = time.perf_counter()
        text = self.template.draft(req, facts)
        flags = self._check(text, req, facts, facts_dict)
        timings["template"] = (time.perf_counter() - t0) * 1000
        return self._result(text, req, facts, facts_dict, "template", flags, fallback, timings)

    def _after_llm(self, text: str, req: DraftRequest, facts: Facts, facts_dict: dict[str, Any], timings: dict[str, float]) -> Draft:
        """Guard an LLM draft; regenerate once with the reasons; else fall back."""
        assert self.llm is not None
        flags = self._check(text, req, facts, facts_dict)
        if not flags:
            return self._result(text, req, facts, facts_dict, "llm", [], None, timings)
        first = _reasons(flags)
        try:
            t0 = time.perf_counter()
            text = self.llm.draft(req, facts, retry_reason=first)
            timings["llm_retry"] = (time.perf_counter() - t0) * 1000
        except RetryModel as exc:
            return self._template(req, facts, facts_dict, f"guards: {first}; regeneration failed: {exc}", timings)
        flags = self._check(text, req, facts, facts_dict)
        if not flags:
            return self._result(text, req, facts, facts_dict, "llm", [], None, timings)
        return self._template(req, facts, facts_dict, f"guards failed twice: {_reasons(flags)}", timings)

    # --- entry points ----------------------------------------------------------------------

    def build_facts(self, req: DraftRequest) -> tuple[Facts, dict[str, Any]]:
        facts = self.facts.build(req)
        return facts, facts.model_dump(mode="json")

    def draft(self, req: DraftRequest) -> Draft:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        facts, facts_dict = self.build_facts(req)
        timings["facts"] = (time.perf_counter() - t0) * 1000
        if self.llm is None:
            return self._template(req, facts, facts_dict, None, timings)
        try:
            t0 = time.perf_counter()
            text = self.llm.draft(req, facts)
            timings["llm"] = (time.perf_counter() - t0) * 1000
        except RetryModel as exc:
            return self._template(req, facts, facts_dict, f"model error: {exc}", timings)
        return self._after_llm(text, req, facts, facts_dict, timings)

    async def astream(self, req: DraftRequest, on_done: Callable[[Draft], None] | None = None) -> AsyncIterator[str]:
        """Stream the draft for the agent console as it is written. The finished text still
        goes through the guards; ``on_done`` receives the final :class:`Draft` (which may be
        a regenerated or template draft when the streamed one failed)."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        facts, facts_dict = self.build_facts(req)
        timings["facts"] = (time.perf_counter() - t0) * 1000
        if self.llm is None:
            draft = self._template(req, facts, facts_dict, None, timings)
            yield draft.text
            if on_done:
                on_done(draft)
            return
        parts: list[str] = []
        t0 = time.perf_counter()
        try:
            async for piece in self.llm.astream(req, facts):
                parts.append(piece)
                yield piece
        except RetryModel as exc:
            draft = self._template(req, facts, facts_dict, f"model error: {exc}", timings)
        else:
            timings["llm"] = (time.perf_counter() - t0) * 1000
            draft = await asyncio.to_thread(self._after_llm, "".join(parts).strip(), req, facts, facts_dict, timings)
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
) -> DraftingPipeline:
    """Build the pipeline; prompts are validated here, so a bad prompt stops start-up with
    the prompt's and the variable's name. The LLM drafter is used only when
    ``settings.llm_model`` is set. ``clock`` is accepted for symmetry: requests carry ``now``."""
    prompts = PromptSet.load(prompts_dir or PROMPTS_DIR)
    template = TemplateDrafter(prompts)
    llm = LLMDrafter.from_settings(prompts, settings) if settings.llm_model else None
    return DraftingPipeline(shop, FactsBuilder(shop, retriever, linker), template, llm)
