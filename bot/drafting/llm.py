"""The language-model drafter: a langchain chat model over the openai client, for any
OpenAI-compatible provider. It only writes text; it never changes an order, a price or a refund.

Buyer words (question and history) are sent only as user messages, after masking phones and
addresses; shop facts and rules go in the system message, so instructions injected by a buyer
stay data.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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


class LLMDrafter:
    name = "llm"

    def __init__(self, prompts: PromptSet, chat: BaseChatModel) -> None:
        for key, variables in PROMPT_VARS.items():
            prompts.require(key, variables)
        self.prompts = prompts
        self.chat = chat

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
        return cls(prompts, chat)

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
        out: list[BaseMessage] = [SystemMessage(system)]
        for role, text in req.history or []:
            if role == "buyer":
                out.append(HumanMessage(mask_pii(text)))
            elif role in ("bot", "agent"):
                out.append(AIMessage(text))
        out.append(HumanMessage(mask_pii(req.question)))
        return out

    def draft(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> str:
        try:
            reply = self.chat.invoke(self.messages(req, facts, retry_reason=retry_reason))
        except Exception as exc:  # any provider or transport failure means: use the fallback
            raise RetryModel(f"{type(exc).__name__}: {exc}"[:300]) from exc
        text = _content(reply).strip()
        if not text:
            raise RetryModel("the model returned an empty draft")
        return text

    async def astream(self, req: Any, facts: Facts) -> AsyncIterator[str]:
        """Tokens as the model writes them; raises RetryModel on failure."""
        produced = False
        try:
            async for chunk in self.chat.astream(self.messages(req, facts)):
                piece = _content(chunk)
                if piece:
                    produced = True
                    yield piece
        except Exception as exc:
            raise RetryModel(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if not produced:
            raise RetryModel("the model returned an empty draft")
