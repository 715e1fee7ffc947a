"""Guards on every reply: 广告法 terms, leading off the platform, links and contact details,
promises beyond policy, numbers not in the shop's facts, other buyers' data, the system
prompt. Word lists and patterns are data files in ``bot/guards/data``. Personal data is
masked here too (:func:`mask_pii`), before any text leaves for a model."""

from bot.guards.check import check_reply
from bot.guards.flag import (
    AD_LAW,
    DATA_LEAK,
    LINK_OR_CONTACT,
    OFF_PLATFORM,
    POLICY_PROMISE,
    PROMPT_LEAK,
    UNSUPPORTED_NUMBER,
    Flag,
    describe,
    flags_in,
)
from bot.guards.pii import is_id_card_like, mask_phone, mask_pii

__all__ = [
    "AD_LAW",
    "DATA_LEAK",
    "LINK_OR_CONTACT",
    "OFF_PLATFORM",
    "POLICY_PROMISE",
    "PROMPT_LEAK",
    "UNSUPPORTED_NUMBER",
    "Flag",
    "check_reply",
    "describe",
    "flags_in",
    "is_id_card_like",
    "mask_phone",
    "mask_pii",
]
