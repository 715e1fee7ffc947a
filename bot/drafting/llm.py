"""The language-model drafter: a langchain chat model over the openai client, for any
OpenAI-compatible provider. It only writes text; it never changes an order, a price or a refund.

Buyer words (question and history) are sent only as user messages; shop facts and rules go in
the system message, so instructions injected by a buyer stay data. Every message is masked
(phones, ID-card and bank-card numbers, addresses, e-mail) before it is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from bot.config import Settings
from bot.drafting.facts import Facts
from bot.drafting.prompts import PromptSet
from bot.errors import ConfigError, RetryModel
from bot.guards.pii import mask_pii

PROMPT_VARS: dict[str, tuple[str, ...]] = {
    "system": ("shop_name", "persona_name", "address_term"),
    "draft": ("intent", "facts_json", "guidance"),
    "guidance_sell": (),
    "guidance_declined": (),
    "regenerate": ("reasons",),
}
# Facts not sent in the system message: the buyer's own words stay user content.
_PRIVATE_FACTS = {"question", "promotions_cover", "policy_cover"}
# Local OpenAI-compatible servers (vLLM, Ollama…) need no key, but the client insists on one.
_NO_KEY = "not-needed"


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def _failed(exc: Exception) -> RetryModel:
    return RetryModel(f"{type(exc).__name__}: {exc}"[:300])


def _draft_text(reply: Any) -> str:
    text = _content(reply).strip()
    if not text:
        raise RetryModel("the model returned an empty draft")
    return text


class LLMDrafter:
    name = "llm"

    def __init__(self, prompts: PromptSet, chat: BaseChatModel, *, timeout_s: float | None = None) -> None:
        """``timeout_s`` is the timeout ``chat`` was built with, so a shorter one for a single
        call (the rest of a turn's deadline) never lengthens it."""
        for key, variables in PROMPT_VARS.items():
            prompts.require(key, variables)
        self.prompts = prompts
        self.chat = chat
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, prompts: PromptSet, settings: Settings) -> LLMDrafter:
        if not settings.llm_model:
            raise ConfigError("llm_model is not set")
        from langchain_openai import ChatOpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else _NO_KEY
        chat = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=0.3,
        )
        return cls(prompts, chat, timeout_s=settings.llm_timeout_s)

    def system_text(self, facts: Facts) -> str:
        return self.prompts.render(
            "system", shop_name=facts.shop_name, persona_name=facts.persona_name, address_term=facts.address_term
        )

    def messages(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> list[BaseMessage]:
        shared = facts.model_dump(mode="json", exclude=_PRIVATE_FACTS)
        guidance = self.prompts.render("guidance_declined" if facts.declined else "guidance_sell")
        system = "\n\n".join(
            [
                self.system_text(facts),
                self.prompts.render(
                    "draft", intent=facts.intent, facts_json=json.dumps(shared, ensure_ascii=False), guidance=guidance
                ),
            ]
        )
        if retry_reason:
            system += "\n\n" + self.prompts.render("regenerate", reasons=retry_reason)
        turns: list[tuple[type[BaseMessage], str]] = [(SystemMessage, system)]
        for role, text in req.history or []:
            if role == "buyer":
                turns.append((HumanMessage, text))
            elif role in ("bot", "agent"):
                turns.append((AIMessage, text))
        turns.append((HumanMessage, req.question))
        # Everything leaves masked, in this one place: the system message with the facts,
        # both sides of the history (a bot reply may repeat what the buyer typed) and the question.
        return [kind(content=mask_pii(text)) for kind, text in turns]

    def draft(
        self, req: Any, facts: Facts, *, retry_reason: str | None = None, timeout_s: float | None = None
    ) -> str:
        """One draft, blocking the calling thread. ``timeout_s`` shortens the provider's
        timeout for this call (what is left of the turn's deadline)."""
        if timeout_s is not None and self.timeout_s is not None:
            timeout_s = min(timeout_s, self.timeout_s)
        options: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            reply = self.chat.invoke(self.messages(req, facts, retry_reason=retry_reason), **options)
        except Exception as exc:  # any provider or transport failure means: use the fallback
            raise _failed(exc) from exc
        return _draft_text(reply)

    async def adraft(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> str:
        """One draft without holding a thread while the model writes; cancelling the awaiting
        task (a deadline) abandons the request."""
        try:
            reply = await self.chat.ainvoke(self.messages(req, facts, retry_reason=retry_reason))
        except Exception as exc:  # cancellation is not an Exception: it is left to the caller
            raise _failed(exc) from exc
        return _draft_text(reply)

    async def astream(self, req: Any, facts: Facts) -> AsyncGenerator[str, None]:
        """Tokens as the model writes them; raises RetryModel on failure."""
        produced = False
        try:
            async for chunk in self.chat.astream(self.messages(req, facts)):
                piece = _content(chunk)
                if piece:
                    produced = True
                    yield piece
        except Exception as exc:
            raise _failed(exc) from exc
        if not produced:
            raise RetryModel("the model returned an empty draft")
