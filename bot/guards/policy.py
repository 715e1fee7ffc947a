"""Promises the shop's policy does not make: compensation, price changes, returns it excludes,
and after-sales outcomes guaranteed, free, for ever or within a time the policy does not give.

A reply is read clause by clause. In a clause naming an after-sales outcome (到账, 换新, 保修 …,
``policy_outcome.txt``) these are promises:

* a guarantee (保证, 一定 …) — unless every time it names is one the policy gives;
* "for ever" (终身, 永久 …);
* "free" (免费 …) — unless it is a quality problem within the policy's quality window;
* a time the policy does not give (一年内, 30天) — unless hedged as an estimate (一般, 预计 …);
* money or a parcel arriving soon (马上到账, 明天就能收到) — unless hedged.

The times the policy gives are its return, quality and shipping windows and every time the
shop's facts state. Word lists and patterns are data files named ``policy_*.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from bot.guards.figures import spans_in_days
from bot.guards.sources import Evidence
from bot.guards.wordlists import load_patterns, matcher
from bot.shop.models import Shop
from bot.text.normalize import normalize

_NO_REASON_DAYS = re.compile(r"(\d+)\s*天\s*无理由")
_NO_REASON = re.compile(r"无理由")
_REFUSAL_NEAR = re.compile(r"(不支持|不适用|不能|不可以|不可|不享受|除外|不参与|不包括)")

_ASK_WINDOW = 4  # "请" this close before a guarantee word asks the buyer to ensure something
# Clause ends; a dot only when it is not a decimal point.
_CLAUSE = re.compile(r"[,，。！!？?；;～~\n]|(?<!\d)\.|\.(?!\d)")


# The platform's name of the no-reason return ("7天无理由退货") is a name, not a time: a shop
# with a 15-day window still offers "7天无理由" under that name.
_PLATFORM_NAME = re.compile(r"(7|七)天无理由")
_SHOP_DAYS: dict[str, frozenset[Decimal]] = {}


_APART = "\ue000"  # between two of the shop's texts: no time span is read across it


def shop_days(shop: Shop) -> frozenset[Decimal]:
    """Every time span the shop itself writes in its rules, FAQ and product names: quoting its own
    words ("偏远地区约6-9天送达") promises nothing beyond them. Each text is read on its own (a
    number ending one option and a unit starting the next are no span), and equal texts once:
    a big shop's option values repeat in thousands of products. Worked out once per content."""
    key = shop.content_hash
    if key not in _SHOP_DAYS:
        texts = [sec.text for doc in shop.rules for sec in doc.sections] + [f.a for f in shop.faq]
        # Product and option names carry times too ("1段(0-6个月)"): naming them promises nothing.
        for product in shop.products.values():
            texts.append(product.title)
            texts.extend(v for sku in product.skus for v in sku.props.values())
        joined = _APART.join(dict.fromkeys(texts))
        _SHOP_DAYS[key] = frozenset(spans_in_days(normalize(joined).replace(" ", "")))
    return _SHOP_DAYS[key]


def _windows(shop: Shop) -> set[Decimal]:
    """The policy's own time spans, in days: returns, quality problems, shipping."""
    policy = shop.info.policy
    days = {Decimal(policy.return_window_days), Decimal(policy.quality_window_days),
            Decimal(policy.ship_within_hours) / 24}
    return {d.normalize() for d in days}


def _guarantees(clause: str) -> bool:
    """A guarantee the shop gives; "请您保证附件完整" asks the buyer for one."""
    return any(
        "请" not in clause[max(0, start - _ASK_WINDOW) : start]
        for start, _ in matcher("policy_guarantee").positions(clause, skip_negated=True)
    )


def _clause_promise(clause: str, shop: Shop, facts: Evidence) -> bool:
    hedged = bool(matcher("policy_hedge").find(clause))
    if not hedged and any(p.search(clause) for p in load_patterns("policy_promise_patterns")):
        return True
    if not matcher("policy_outcome").find(clause, skip_negated=True):
        return False
    spans = spans_in_days(clause)
    # The shop's texts, then its facts, are searched for a span only when the policy does not give it.
    others = spans - _windows(shop)
    beyond = bool(others) and any(d not in facts.days for d in others - shop_days(shop))
    if matcher("policy_forever").find(clause, skip_negated=True):
        return True
    if _guarantees(clause):
        return beyond or not spans
    if matcher("policy_free").find(clause, skip_negated=True):
        quality_days = Decimal(shop.info.policy.quality_window_days)
        return not (matcher("policy_quality").find(clause) and spans <= {quality_days})
    return beyond and not hedged


def promises(normalized: str, shop: Shop, facts: Evidence) -> list[str]:
    """What in ``normalized`` (spaces removed) promises beyond the policy, as short descriptions."""
    found = list(matcher("policy_promise").find(normalized, skip_negated=True))
    window = shop.info.policy.return_window_days
    for m in _NO_REASON_DAYS.finditer(normalized):
        if int(m.group(1)) not in (window, 7):
            found.append(m.group(0))
    normalized = _PLATFORM_NAME.sub("无理由", normalized)
    if _NO_REASON.search(normalized) and not _REFUSAL_NEAR.search(normalized):
        for product in facts.facts.get("products", []) or []:
            if isinstance(product, Mapping) and product.get("no_reason_return") is False:
                found.append(f"{product.get('id')}不支持七天无理由")
                break
    for clause in _CLAUSE.split(normalized):
        clause = clause.strip()
        if _clause_promise(clause, shop, facts) and not any(clause in f or f in clause for f in found):
            found.append(clause)
    return found
