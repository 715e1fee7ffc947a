"""The configured language model's reading of a line the classifier is unsure of.

The router asks it only under ``LLM_BELOW`` confidence (:mod:`bot.router.router`), and only
for a topic: the answer must be one of the canonical intents other than ``confirm`` and
``deny`` — a yes or a no comes from the buyer's own words, never from a model. The buyer's
line goes masked (:func:`bot.guards.pii.mask_pii`) as the user message; what the model may
answer is in the system message, so a line that gives orders stays a line to classify.

The call holds the routing thread, so it is short (``llm_intent_timeout_s``, 3 s by default)
and takes one of ``llm_concurrency`` slots without waiting: with every slot busy, or on any
failure, the classifier's reading stands. Answers are kept per masked line (a turn routes
its text more than once, and buyers repeat themselves).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.drafting.prompts import PromptSet
from bot.guards.pii import mask_pii
from bot.router.intents import CANONICAL_INTENTS

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)

PROMPT = "intent"
# Intents a model may name: topics only.
ANSWERABLE: tuple[str, ...] = tuple(i for i in CANONICAL_INTENTS if i not in ("confirm", "deny"))
# What each topic is, with a line of the kind, for the model's list.
DESCRIPTIONS: dict[str, str] = {
    "greeting": "打招呼，没有别的事（例：在吗）",
    "chitchat": "闲聊、道谢、表情、客套，没有要办的事（例：好的谢谢啦）",
    "product_info": "问商品的材质、功能、参数、用法（例：这个杯子能进洗碗机吗）",
    "size_advice": "问该选哪个尺码、大小合不合适（例：我一米六五穿M还是L）",
    "stock": "问有没有货、什么时候补货（例：白色的还有吗）",
    "price_promotion": "问价格、优惠、优惠券、满减、能不能便宜（例：两件有折扣吗）",
    "recommendation": "请店家推荐或搭配商品（例：送长辈买哪款好）",
    "shipping_policy": "问发货时间、快递公司、运费、发货地（例：今天拍明天能发吗）",
    "payment": "问付款、支付方式、分期、付款失败（例：能用花呗分期吗）",
    "order_status": "查自己订单的状态（例：我的订单现在什么情况）",
    "logistics": "查快递到哪了、催发货、催派送（例：怎么还没收到货）",
    "modify_address": "改收货地址或收件人（例：地址填错了想改一下）",
    "cancel_order": "取消订单、不要了（例：刚拍的那单帮我取消）",
    "refund": "申请退款、问退款进度（例：钱什么时候退回来）",
    "return": "要退货、问退货流程（例：衣服不合适想退回去）",
    "exchange": "要换货、换尺码或颜色（例：能换成大一码吗）",
    "complaint": "投诉、不满意、商品有问题（例：收到的东西是坏的太差了）",
    "invoice": "开发票、改发票（例：能开公司抬头的发票吗）",
    "human_agent": "要找人工客服（例：转人工）",
    "other": "以上都不是，或者看不懂",
}
# A kept answer per masked line: enough for the lines of the last minutes.
KEPT_ANSWERS = 512
# The label is the first word of the answer; a model that explains still starts with it.
_LABEL = re.compile(r"[a-z_]+")


def intent_list() -> str:
    return "\n".join(f"- {name}：{DESCRIPTIONS[name]}" for name in ANSWERABLE)


def read_label(answer: str) -> str | None:
    """The intent an answer names: its first word that is one a model may give, else None."""
    for word in _LABEL.findall((answer or "").lower()):
        if word in ANSWERABLE:
            return word
    return None


class ModelIntentReader:
    """Callable as the router's ``llm_fallback``: a line → an intent, or None."""

    def __init__(self, chat: BaseChatModel, prompts: PromptSet, *, slots: int, timeout_s: float) -> None:
        prompts.require(PROMPT, ("intents",))
        self.chat = chat
        self.system = prompts.render(PROMPT, intents=intent_list())
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(slots)
        self._kept: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.calls = 0  # model calls made (not answers read back)

    @classmethod
    def from_settings(
        cls, prompts: PromptSet | Callable[[], PromptSet], settings: Settings
    ) -> ModelIntentReader | None:
        """The reader for the configured model, or None when no model is configured or
        ``llm_intents`` is off. ``prompts`` may be given as the function that loads them
        (called only when a reader is built)."""
        if not settings.llm_model or not settings.llm_intents:
            return None
        if not isinstance(prompts, PromptSet):
            prompts = prompts()
        from langchain_openai import ChatOpenAI

        from bot.drafting.llm import api_key

        chat = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=api_key(settings),  # type: ignore[arg-type]
            timeout=settings.llm_intent_timeout_s,
            max_retries=0,  # the turn does not wait for a second try
            temperature=0,
            extra_body={"max_tokens": 8},  # a label is a few tokens
        )
        return cls(chat, prompts, slots=settings.llm_concurrency, timeout_s=settings.llm_intent_timeout_s)

    def messages(self, text: str) -> list[Any]:
        from langchain_core.messages import HumanMessage, SystemMessage

        return [SystemMessage(content=self.system), HumanMessage(content=mask_pii(text))]

    def __call__(self, text: str) -> str | None:
        line = mask_pii(text.strip())
        if not line:
            return None
        with self._lock:
            if line in self._kept:
                self._kept.move_to_end(line)
                return self._kept[line]
        if not self._slots.acquire(blocking=False):
            return None  # every slot is drafting or reading: the classifier's reading stands
        try:
            with self._lock:
                self.calls += 1
            message = self.chat.invoke(self.messages(line), timeout=self.timeout_s)
        except Exception:  # the model is optional: a failure leaves the classifier's reading
            log.warning("the model did not read a line's intent", exc_info=True)
            return None
        finally:
            self._slots.release()
        content = message.content if isinstance(message.content, str) else str(message.content)
        label = read_label(content)
        if label is not None:
            with self._lock:
                self._kept[line] = label
                while len(self._kept) > KEPT_ANSWERS:
                    self._kept.popitem(last=False)
        return label
