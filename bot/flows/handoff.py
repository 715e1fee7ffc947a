"""Handing the conversation to a human agent, with a summary and the service hours."""

from __future__ import annotations

from datetime import datetime

from bot.flows.state import DialogueState
from bot.flows.step import FlowContext, Step
from bot.router.router import ParsedTurn
from bot.shop.models import Shop

REPLY = {"asked": "handoff", "accepted": "handoff", "upset": "handoff_upset", "confused": "handoff_confused"}
INTENT_CN = {
    "order_status": "查订单", "logistics": "查物流/催发货", "modify_address": "改地址",
    "cancel_order": "取消订单", "refund": "退款", "return": "退货", "exchange": "换货",
    "complaint": "投诉", "human_agent": "找人工", "other": "未能识别的问题",
}


def next_open(shop: Shop, now: datetime) -> str | None:
    """None while agents are on duty; else when they next are (今天/明天 HH:MM)."""
    (oh, om), (ch, cm) = shop.info.service_window()
    local = now.astimezone(shop.tz)
    minutes = local.hour * 60 + local.minute
    start, end = oh * 60 + om, ch * 60 + cm
    if start <= minutes < end:
        return None
    day = "今天" if minutes < start else "明天"
    return f"{day} {oh:02d}:{om:02d}"


def handoff(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, why: str, intent: str | None = None) -> Step:
    reply = ctx.t.render(REPLY[why])
    opens = next_open(ctx.shop, ctx.now)
    if opens is not None:
        reply += ctx.t.render("handoff_offhours", hours=ctx.shop.info.service_hours, next_open=opens)
    return Step(
        reply,
        intent or turn.intent,
        state.model_copy(update={"pending": None, "handed_off": True, "misses": 0}),
        turn.fine_intent,
        action="handoff",
        handoff=True,
        handoff_reason=why,
    )


def summary(ctx: FlowContext, state: DialogueState, turn: ParsedTurn, why: str, topic: str | None) -> str:
    """Who, which order, what they want, how they feel: what an agent reads first."""
    nick = ctx.buyer.nick if ctx.buyer else ctx.buyer_id
    slots = turn.slots
    mood = "愤怒" if slots.anger >= 2 else ("不满" if slots.anger == 1 else "平静")
    if slots.threat:
        mood += "，提到差评/投诉"
    # Only an order of this buyer is "the order": 「投诉12315」 names the hotline, not order 12315.
    own = {o.tid for o in ctx.orders}
    tid = next((t for t in [state.focus_tid, *slots.tids] if t and t in own), None)
    reason = {"asked": "买家要求人工", "accepted": "买家接受转人工", "upset": "买家情绪激动或威胁",
              "confused": "连续两轮未能理解"}[why]
    parts = [
        f"买家 {nick}（{ctx.buyer_id}）",
        f"订单 {tid}" if tid else "未指明订单",
        f"诉求：{INTENT_CN.get(state.last_intent or '', state.last_intent or '咨询')}",
        f"转人工原因：{reason}",
        f"情绪：{mood}",
        f"原话：{turn.text.strip()[:120]}",
    ]
    if topic:
        parts.append(f"待办：{topic}")
    return "｜".join(parts)
