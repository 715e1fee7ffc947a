"""The operations report: what buyers asked, what the bot did, how fast, what agents thought.

Figures come straight from the stores (turns, conversations, suggestions); ``render_html``
draws them as static SVG charts so the page opens offline.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from sqlalchemy import Engine, select

from bot.clock import SystemClock
from bot.conversations.sql import conversations_table, turns_table
from bot.evaluation.charts import accuracy_bars, histogram
from bot.evaluation.metrics import percentile
from bot.ids import UuidIds
from bot.suggestions.service import SuggestionService


def ops_figures(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        turns = conn.execute(
            select(turns_table.c.intent, turns_table.c.action, turns_table.c.handoff, turns_table.c.latency_ms)
        ).all()
        convs = conn.execute(select(conversations_table.c.status, conversations_table.c.rating)).all()
    by_intent = Counter(t.intent for t in turns)
    handoffs = Counter(t.intent for t in turns if t.handoff)
    latencies = [float(t.latency_ms) for t in turns]
    ratings = [c.rating for c in convs if c.rating is not None]
    return {
        "turns": len(turns),
        "conversations": len(convs),
        "conversations_by_status": dict(Counter(c.status for c in convs)),
        "intents": dict(by_intent.most_common()),
        "actions": dict(Counter(t.action for t in turns if t.action).most_common()),
        "handoff_rate": round(sum(handoffs.values()) / len(turns), 4) if turns else None,
        "handoffs_by_intent": dict(handoffs.most_common()),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "values": latencies},
        "ratings": dict(sorted(Counter(ratings).items())),
        "mean_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "suggestions": SuggestionService(engine, SystemClock(), UuidIds()).stats(),
    }


def render_html(figures: dict[str, Any], title: str = "店小二运营报告") -> str:
    turns = figures["turns"] or 1
    intent_rows = [(k, v / turns, v) for k, v in figures["intents"].items()]
    handoff_rows = [
        (k, figures["handoffs_by_intent"].get(k, 0) / v, v) for k, v in figures["intents"].items()
    ]
    sugg = {k: v for k, v in figures["suggestions"].items() if k != "_all"}
    accept_rows = [(k, v["acceptance_rate"], v["total"]) for k, v in sugg.items()]
    rated = sum(figures["ratings"].values()) or 1
    rating_rows = [(f"{k} 分", n / rated, n) for k, n in figures["ratings"].items()]
    p50, p95 = figures["latency_ms"]["p50"], figures["latency_ms"]["p95"]
    summary = [
        ("会话", figures["conversations"]),
        ("买家轮次", figures["turns"]),
        ("转人工率", "—" if figures["handoff_rate"] is None else f"{figures['handoff_rate']:.1%}"),
        ("延迟 p50 / p95", "—" if p50 is None else f"{p50:.0f} / {p95:.0f} ms"),
        ("平均满意度", figures["mean_rating"] or "—"),
    ]
    cards = "".join(f"<div class=card><b>{escape(str(v))}</b><span>{escape(k)}</span></div>" for k, v in summary)
    charts = [
        accuracy_bars("intents", "买家意图占比", intent_rows),
        accuracy_bars("handoffs", "各意图转人工率", handoff_rows),
        histogram("latency", "每轮处理延迟", figures["latency_ms"]["values"]),
        accuracy_bars("acceptance", "草稿原样采纳率（按意图）", accept_rows),
        accuracy_bars("ratings", "满意度分布", rating_rows),
    ]
    return (
        "<!doctype html><html lang=zh-CN><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>"
        "body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:24px;color:#343a40}"
        ".cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #dee2e6;border-radius:8px;"
        "padding:12px 16px;min-width:120px}.card b{display:block;font-size:22px}.card span{color:#868e96}"
        "section{margin-top:24px}</style>"
        f"<h1>{escape(title)}</h1><div class=cards>{cards}</div>"
        + "".join(f"<section>{c}</section>" for c in charts)
        + "</html>"
    )
