"""Reports and chat-log review over the stores: what the CLI and the console page call."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import Engine

from bot.clock import Clock
from bot.errors import NotFound, TellCustomer
from bot.orders.backend import OrderBackend
from bot.reports.activity import Activity, load_activity
from bot.reports.definitions import Definitions, load_definitions
from bot.reports.figures import ShopReport, build_report
from bot.reports.window import ReportWindow
from bot.review.export import export_suite
from bot.review.findings import ReviewItem, review_items
from bot.shop.models import Shop

MAX_EXPORT = 200


class ReportService:
    def __init__(
        self, engine: Engine, shop: Shop, orders: OrderBackend, clock: Clock, definitions: Definitions | None = None
    ) -> None:
        self.engine = engine
        self.shop = shop
        self.orders = orders
        self.clock = clock
        self.definitions = definitions or load_definitions()

    def window(self, since: date | datetime | str | None, until: date | datetime | str | None) -> ReportWindow:
        """The window of ``--since``/``--until`` (text) or the page's fields (dates or times),
        in the shop's time zone."""
        if isinstance(since, str) or isinstance(until, str):
            return ReportWindow.parse(
                since if isinstance(since, str) else _text(since), until if isinstance(until, str) else _text(until),
                self.shop.tz,
            )
        return ReportWindow.of(since, until, self.shop.tz)

    def activity(self, window: ReportWindow, conversation_ids: Collection[str] | None = None) -> Activity:
        return load_activity(self.engine, self.orders, self.shop.tz, window, conversation_ids=conversation_ids)

    def report(self, window: ReportWindow) -> ShopReport:
        return build_report(
            self.activity(window), self.definitions, shop=self.shop.info.name, generated=self.clock.now()
        )

    def review(self, window: ReportWindow, kinds: set[str] | None = None) -> list[ReviewItem]:
        nicks = {b.id: b.nick for b in self.shop.buyers.values()}
        return review_items(self.activity(window), self.definitions, nicks, kinds=kinds)

    def export(self, conversation_ids: Sequence[str], *, shop_ref: str, suite_name: str | None = None) -> str:
        """The chosen conversations as a transcript suite (YAML text)."""
        ids = list(dict.fromkeys(i for i in conversation_ids if i))
        if not ids:
            raise TellCustomer("请至少选择一段对话")
        if len(ids) > MAX_EXPORT:
            raise TellCustomer(f"一次最多导出 {MAX_EXPORT} 段对话")
        activity = self.activity(ReportWindow(), conversation_ids=ids)
        found = {c.id: c for c in activity.conversations}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"没有找到对话：{'、'.join(missing[:5])}")
        nicks = {b.id: b.nick for b in self.shop.buyers.values()}
        findings = {i.conversation_id: i for i in review_items(activity, self.definitions, nicks)}
        now = self.clock.now()
        try:
            return export_suite(
                [found[i] for i in ids], self.shop, self.orders.export().orders, shop_ref=shop_ref,
                suite_name=suite_name or f"复盘-{now:%Y%m%d}", findings=findings, exported=now,
            )
        except ValueError as exc:
            raise TellCustomer("所选对话里没有买家消息，无法导出") from exc


def _text(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
