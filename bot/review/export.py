"""Export chosen conversations as a transcript suite (transcript-format.md).

Each conversation becomes a case: the buyer's messages as ``user:`` turns, masked, with the
intent, action and handoff the bot gave them as expectations; where an agent rewrote a
draft, the numbers and codes the agent added must appear in the reply. What went wrong, the
draft and what the agent sent are written as comments above the case, for whoever turns it
into a benchmark. Orders the conversation changed are expected in their present state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml

from bot.evaluation.vocabulary import canonical
from bot.reports.activity import ConversationRecord, DraftRecord
from bot.review.findings import ReviewItem
from bot.review.masking import Masker
from bot.shop.models import Order, Shop

STATE_CHANGES = frozenset({"order.cancel", "address.update", "refund.create", "return.create", "exchange.create"})
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]|\d")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def added_tokens(draft: str, sent: str) -> list[str]:
    """Numbers and codes (prices, sizes, order numbers) in ``sent`` that ``draft`` lacks."""
    have = set(_TOKEN.findall(draft))
    return list(dict.fromkeys(t for t in _TOKEN.findall(sent) if t not in have))


def _names(buyer_id: str, shop: Shop, orders: Sequence[Order]) -> list[str]:
    buyer = shop.buyers.get(buyer_id)
    names = [buyer.nick] if buyer else []
    names += [o.address.name for o in (*shop.orders, *orders) if o.buyer == buyer_id]
    return names


def _final_state(conv: ConversationRecord, shop: Shop, current: Mapping[str, Order]) -> dict[str, Any] | None:
    if not any(t.action in STATE_CHANGES for t in conv.turns):
        return None
    expected: dict[str, Any] = {}
    for seed in shop.orders:
        now = current.get(seed.tid)
        if seed.buyer != conv.buyer_id or now is None or now == seed:
            continue
        partial: dict[str, Any] = {"status": now.status}
        if now.refunds != seed.refunds:
            partial["refunds"] = [{"type": r.type, "status": r.status, "items": list(r.items)} for r in now.refunds]
        expected[seed.tid] = partial
    return {"orders": expected} if expected else None


def _case(conv: ConversationRecord, shop: Shop, current: Mapping[str, Order], mask: Masker) -> dict[str, Any]:
    vocab = canonical()
    drafts: dict[str, DraftRecord] = {d.turn_id: d for d in conv.drafts}
    by_seq = {conv.message_ids[t.buyer_message_id]: t for t in conv.turns if t.buyer_message_id in conv.message_ids}
    turns: list[dict[str, Any]] = []
    for m in conv.messages:
        if m.role != "buyer":
            continue
        turn: dict[str, Any] = {"user": mask(m.text)}
        t = by_seq.get(m.seq)
        expect: dict[str, Any] = {}
        if t is not None and t.status != "agent":  # an agent was talking: the bot said nothing to learn from
            if t.intent in vocab.intents:
                expect["intent"] = t.intent
            if t.action and t.action in vocab.actions:
                expect["action"] = t.action
            if t.handoff:
                expect["handoff"] = True
            d = drafts.get(t.turn_id)
            if d is not None and d.status == "edited" and d.final_text:
                tokens = [tok for tok in added_tokens(d.draft, mask(d.final_text)) if "*" not in tok]
                if tokens:
                    expect["reply_contains"] = tokens
        if expect:
            turn["expect"] = expect
        turns.append(turn)
    first = next(m.created for m in conv.messages if m.role == "buyer")
    case: dict[str, Any] = {
        "id": f"{first:%Y%m%d-%H%M}-{conv.id}",
        "buyer": conv.buyer_id,
        "now": first.isoformat(),
        "tags": ["review"],
        "turns": turns,
    }
    final = _final_state(conv, shop, current)
    if final is not None:
        case["final_state"] = final
    return case


def _comments(item: ReviewItem | None, mask: Masker) -> list[str]:
    if item is None:
        return []
    lines = [f"复盘：{mask(_one_line(p))}" for p in item.problems]
    for d in item.drafts:
        lines.append(f"草稿：{mask(_one_line(d.draft))}")
        if d.sent:
            lines.append(f"客服发送：{mask(_one_line(d.sent))}")
        elif d.reject_reason:
            lines.append(f"驳回原因：{mask(_one_line(d.reject_reason))}")
    return lines


def export_suite(
    conversations: Sequence[ConversationRecord],
    shop: Shop,
    current_orders: Sequence[Order],
    *,
    shop_ref: str,
    suite_name: str,
    findings: Mapping[str, ReviewItem] | None = None,
    exported: datetime | None = None,
) -> str:
    """The suite as YAML text. ``shop_ref`` is the shop path as the suite names it (relative
    to where the file is saved, or absolute); conversations without a buyer message are
    left out."""
    current = {o.tid: o for o in current_orders}
    chosen = [c for c in conversations if any(m.role == "buyer" for m in c.messages)]
    if not chosen:
        raise ValueError("no conversation with a buyer message to export")
    out = [f"# {suite_name}：{len(chosen)} 段对话，由复盘导出" + (f"（{exported:%Y-%m-%d %H:%M}）" if exported else "")]
    out.append("# 买家的手机号、姓名和地址已打码；期望是机器人当时的判断，请按复盘意见改成应有的回答。")
    out.append(yaml.safe_dump({"suite": suite_name, "shop": shop_ref}, allow_unicode=True, sort_keys=False).rstrip())
    out.append("cases:")
    for conv in chosen:
        mask = Masker(_names(conv.buyer_id, shop, current_orders))
        for line in _comments((findings or {}).get(conv.id), mask):
            out.append(f"  # {line}")
        body = yaml.safe_dump([_case(conv, shop, current, mask)], allow_unicode=True, sort_keys=False, width=1000)
        out.extend(f"  {line}" for line in body.rstrip().splitlines())
    return "\n".join(out) + "\n"
