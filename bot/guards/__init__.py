"""Guards on every reply: 广告法 terms, leading off the platform, promises beyond policy,
numbers not in the facts, other buyers' data, the system prompt. Word lists are data files
in ``bot/guards/data``."""

from bot.guards.check import check_reply
from bot.guards.flag import (
    AD_LAW,
    DATA_LEAK,
    OFF_PLATFORM,
    POLICY_PROMISE,
    PROMPT_LEAK,
    UNSUPPORTED_NUMBER,
    Flag,
)
from bot.guards.pii import mask_phone, mask_pii

__all__ = [
    "AD_LAW",
    "DATA_LEAK",
    "OFF_PLATFORM",
    "POLICY_PROMISE",
    "PROMPT_LEAK",
    "UNSUPPORTED_NUMBER",
    "Flag",
    "check_reply",
    "mask_phone",
    "mask_pii",
]
