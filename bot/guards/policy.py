"""Promises the shop's policy does not make: compensation, price changes, returns it excludes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.guards.wordlists import matcher
from bot.shop.models import Shop

_NO_REASON_DAYS = re.compile(r"(\d+)\s*天\s*无理由")
_NO_REASON = re.compile(r"无理由")
_REFUSAL_NEAR = re.compile(r"(不支持|不适用|不能|不可以|不可|不享受|除外|不参与|不包括)")


def promises(normalized: str, shop: Shop, facts: Mapping[str, Any] | None) -> list[str]:
    """What in ``normalized`` promises beyond the policy, as short descriptions."""
    found = list(matcher("policy_promise").find(normalized, skip_negated=True))
    window = shop.info.policy.return_window_days
    for m in _NO_REASON_DAYS.finditer(normalized):
        if int(m.group(1)) != window:
            found.append(m.group(0))
    if _NO_REASON.search(normalized) and not _REFUSAL_NEAR.search(normalized):
        for product in (facts or {}).get("products", []) or []:
            if isinstance(product, Mapping) and product.get("no_reason_return") is False:
                found.append(f"{product.get('id')}不支持七天无理由")
                break
    return found
