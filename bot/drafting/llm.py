"""The language-model drafter: a langchain chat model over the openai client, for any
OpenAI-compatible provider. It only writes text; it never changes an order, a price or a refund.

Buyer words (question and history) are sent only as user messages; shop facts and rules go in
the system message, so instructions injected by a buyer stay data. Every message is masked
(phones, ID-card and bank-card numbers, addresses, e-mail) before it is sent.

The system message starts with what is the same for every message of a shop — the rules, the
selling guidance, the shop's policy — so a server's prompt cache reuses it; the facts of the
message follow as a short :class:`~bot.drafting.brief.Brief`, not as the full facts JSON. A
reply is capped at ``max_tokens``; one cut off there is reported as such, and the pipeline
treats it as a draft that failed its checks.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bot.config import Settings
from bot.drafting.brief import Brief
from bot.drafting.facts import Facts
from bot.drafting.prompts import PromptSet
from bot.errors import ConfigError, RetryModel
from bot.guards.pii import mask_pii

if TYPE_CHECKING:  # langchain is imported only when a model is configured (about 1.5 s)
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

PROMPT_VARS: dict[str, tuple[str, ...]] = {
    "system": ("shop_name", "persona_name", "address_term"),
    "draft": ("brief",),
    "guidance_sell": (),
    "guidance_declined": (),
    "regenerate": ("reasons",),
    "agent_redraft": ("draft", "reason"),
}
# Local OpenAI-compatible servers (vLLM, Ollama…) need no key, but the client insists on one.
_NO_KEY = "not-needed"
# What of the conversation goes with the question: the latest messages, each cut to this.
HISTORY_MESSAGES = 4
HISTORY_CHARS = 200
# Why a provider stopped writing when the reply hit ``max_tokens``.
_CUT_OFF = "length"


class ModelUsage(BaseModel):
    """Tokens of one model call, as the provider counted them."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ModelReply:
    text: str
    usage: ModelUsage | None = None
    cut_off: bool = False  # the provider stopped it at ``max_tokens``


@dataclass
class StreamStats:
    """What a streamed call reports besides its tokens, filled in as the stream runs."""

    usage: ModelUsage | None = None
    cut_off: bool = False


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def _failed(exc: Exception) -> RetryModel:
    return RetryModel(f"{type(exc).__name__}: {exc}"[:300])


def _usage(message: Any) -> ModelUsage | None:
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    return ModelUsage(prompt_tokens=int(meta.get("input_tokens", 0)), completion_tokens=int(meta.get("output_tokens", 0)))


def _finish_reason(message: Any) -> str | None:
    meta = getattr(message, "response_metadata", None) or {}
    reason = meta.get("finish_reason")
    return str(reason) if reason else None


def _reply(message: Any) -> ModelReply:
    text = _content(message).strip()
    if not text:
        raise RetryModel("the model returned an empty draft")
    return ModelReply(text, _usage(message), cut_off=_finish_reason(message) == _CUT_OFF)


def api_key(settings: Settings) -> str:
    """The provider's key; a local server that needs none still gets a word, as the client
    insists on one."""
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else _NO_KEY


def conversation(history: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The latest messages of ``history`` as alternating buyer / shop turns that start with the
    buyer: consecutive messages of one side are joined (drafts waiting for an agent leave
    buyer messages side by side), and chat templates that insist on alternation accept them."""
    turns: list[tuple[str, str]] = []
    for role, text in history:
        side = "buyer" if role == "buyer" else "shop" if role in ("bot", "agent") else None
        if side is None or not text.strip():
            continue
        text = text.strip()[:HISTORY_CHARS]
        if turns and turns[-1][0] == side:
            turns[-1] = (side, f"{turns[-1][1]}\n{text}")
        else:
            turns.append((side, text))
    turns = turns[-HISTORY_MESSAGES:]
    while turns and turns[0][0] != "buyer":
        turns.pop(0)
    return turns


class LLMDrafter:
    name = "llm"

    def __init__(
        self, prompts: PromptSet, chat: BaseChatModel, *, timeout_s: float | None = None, max_tokens: int | None = None,
    ) -> None:
        """``timeout_s`` and ``max_tokens`` are those ``chat`` was built with: a shorter timeout
        for a single call (the rest of a turn's deadline) never lengthens it; ``max_tokens``
        is named in the reason a cut-off draft is regenerated with."""
        for key, variables in PROMPT_VARS.items():
            prompts.require(key, variables)
        self.prompts = prompts
        self.brief = Brief(prompts)
        self.chat = chat
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens

    @classmethod
    def from_settings(cls, prompts: PromptSet, settings: Settings) -> LLMDrafter:
        if not settings.llm_model:
            raise ConfigError("llm_model is not set")
        from langchain_openai import ChatOpenAI

        chat = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=api_key(settings),  # type: ignore[arg-type]
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=0.3,
            # ``max_tokens`` is the cap OpenAI-compatible servers (llama.cpp, vLLM, Ollama…)
            # read; the client's own field would be sent as ``max_completion_tokens``.
            extra_body={"max_tokens": settings.llm_max_tokens},
            stream_usage=True,  # providers that can report a streamed call's tokens do
        )
        return cls(prompts, chat, timeout_s=settings.llm_timeout_s, max_tokens=settings.llm_max_tokens)

    def system_text(self, facts: Facts) -> str:
        return self.prompts.render(
            "system", shop_name=facts.shop_name, persona_name=facts.persona_name, address_term=facts.address_term
        )

    def prefix(self, facts: Facts) -> str:
        """The part of the system message that is the same for every message of the shop
        (given whether the buyer just declined a recommendation)."""
        guidance = self.prompts.render("guidance_declined" if facts.declined else "guidance_sell")
        return "\n\n".join([self.system_text(facts), guidance, self.brief.policy(facts.policy)])

    def messages(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> list[BaseMessage]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        system = "\n\n".join([self.prefix(facts), self.prompts.render("draft", brief=self.brief.render(facts))])
        if req.redraft is not None:  # an agent rejected the last draft and said why
            system += "\n\n" + self.prompts.render(
                "agent_redraft", draft=req.redraft.draft, reason=req.redraft.reason
            )
        if retry_reason:
            system += "\n\n" + self.prompts.render("regenerate", reasons=retry_reason)
        turns: list[tuple[type[BaseMessage], str]] = [(SystemMessage, system)]
        earlier = conversation(list(req.history or []))
        question = req.question
        if earlier and earlier[-1][0] == "buyer":  # unanswered buyer messages lead into the question
            question = f"{earlier.pop()[1]}\n{question}"
        turns += [(HumanMessage if side == "buyer" else AIMessage, text) for side, text in earlier]
        turns.append((HumanMessage, question))
        # Everything leaves masked, in this one place: the system message with the facts,
        # both sides of the history (a bot reply may repeat what the buyer typed) and the question.
        return [kind(content=mask_pii(text)) for kind, text in turns]

    def draft(
        self, req: Any, facts: Facts, *, retry_reason: str | None = None, timeout_s: float | None = None
    ) -> ModelReply:
        """One draft, blocking the calling thread. ``timeout_s`` shortens the provider's
        timeout for this call (what is left of the turn's deadline)."""
        if timeout_s is not None and self.timeout_s is not None:
            timeout_s = min(timeout_s, self.timeout_s)
        options: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            message = self.chat.invoke(self.messages(req, facts, retry_reason=retry_reason), **options)
        except Exception as exc:  # any provider or transport failure means: use the fallback
            raise _failed(exc) from exc
        return _reply(message)

    async def adraft(self, req: Any, facts: Facts, *, retry_reason: str | None = None) -> ModelReply:
        """One draft without holding a thread while the model writes; cancelling the awaiting
        task (a deadline) abandons the request."""
        try:
            message = await self.chat.ainvoke(self.messages(req, facts, retry_reason=retry_reason))
        except Exception as exc:  # cancellation is not an Exception: it is left to the caller
            raise _failed(exc) from exc
        return _reply(message)

    async def astream(self, req: Any, facts: Facts, stats: StreamStats | None = None) -> AsyncGenerator[str, None]:
        """Tokens as the model writes them; raises RetryModel on failure. ``stats`` gets the
        call's tokens (when the provider reports them) and whether it was cut off."""
        stats = stats if stats is not None else StreamStats()
        produced = False
        try:
            async for chunk in self.chat.astream(self.messages(req, facts)):
                stats.cut_off = stats.cut_off or _finish_reason(chunk) == _CUT_OFF
                stats.usage = _usage(chunk) or stats.usage
                piece = _content(chunk)
                if piece:
                    produced = True
                    yield piece
        except Exception as exc:
            raise _failed(exc) from exc
        if not produced:
            raise RetryModel("the model returned an empty draft")
