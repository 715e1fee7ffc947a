"""The composition root: every component is built here, once, and passed in explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import collector, warmup
from bot.clock import Clock, FrozenClock, OffsetClock, SystemClock
from bot.config import Settings
from bot.events import EventBus, RedisEventBus, build_event_bus
from bot.ids import IdProvider, SequentialIds, UuidIds
from bot.scheduling import Scheduler
from bot.shop import Shop, load_shop
from bot.leases import build_lease
from bot.storage.db import make_engine
from bot.storage.schema import prepare as prepare_schema

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.accounts import AccountStore
    from bot.conversations.sql import SqlConversationStore
    from bot.drafting.limits import ModelLimit
    from bot.drafting.pipeline import DraftingPipeline
    from bot.engine import Bot
    from bot.flows.dialogue import DialogueManager
    from bot.orders.sql import SqlOrderBackend
    from bot.retrieval.hybrid import HybridRetriever
    from bot.retrieval.linker import EntityLinker
    from bot.router.router import Router
    from bot.outreach.service import Outreach
    from bot.suggestions.service import SuggestionService
    from bot.workbench.service import WorkbenchService


@dataclass
class Services:
    settings: Settings
    shop: Shop
    clock: Clock
    ids: IdProvider
    db: Engine
    orders: SqlOrderBackend
    conversations: SqlConversationStore
    accounts: AccountStore
    suggestions: SuggestionService
    retriever: HybridRetriever
    linker: EntityLinker
    router: Router
    dialogue: DialogueManager
    drafting: DraftingPipeline
    events: EventBus | RedisEventBus
    bot: Bot
    scheduler: Scheduler
    workbench: WorkbenchService
    outreach: Outreach
    eval_mode: bool = False
    ephemeral: bool = False

    def reset_for_case(self, now: datetime) -> None:
        """Benchmark isolation: re-seed orders, freeze the clock at ``now``, restart ids."""
        if not isinstance(self.clock, FrozenClock):
            raise RuntimeError("reset_for_case needs a FrozenClock (eval mode)")
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.shop.tz)
        self.orders.reset()
        self._forget_conversations()
        self.clock.set(now)
        if isinstance(self.ids, SequentialIds):
            self.ids.reset()

    def _forget_conversations(self) -> None:
        """A fresh copy per case: no conversation or suggestion of an earlier case remains."""
        from bot.storage.db import Base

        with self.db.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name.startswith(("conv_", "sugg_", "outreach_", "workbench_")):
                    conn.execute(table.delete())


def build_services(
    settings: Settings,
    *,
    shop: Shop | None = None,
    clock: Clock | None = None,
    ids: IdProvider | None = None,
    embedder: Any = None,
    ephemeral: bool = False,
    eval_mode: bool = False,
    progress: bool = False,
    events: EventBus | RedisEventBus | None = None,
    model_limit: ModelLimit | None = None,
    serving: bool = False,
) -> Services:
    """Build every component for one shop.

    ``ephemeral`` keeps the retrieval index in memory (benchmarks, tests); ``eval_mode``
    gives a settable clock and sequential ids so transcripts replay identically.
    ``model_limit`` (default: from ``settings``) counts the drafts with the model.
    ``serving`` (a process that serves buyers from now on) leaves what the start built out
    of later garbage collections, until :func:`bot.collector.release`.
    """
    # A big shop validated now starts a warmer, which makes what the start needs after its
    # index on the core the index leaves idle (bot.warmup); it is stopped when the start ends.
    warmers: list[warmup.Warmer] = []

    def warm(validated: Shop) -> None:
        started = warmup.start(validated.root, settings.data_dir, len(validated.products))
        warmers.extend([started] if started is not None else [])

    # A start builds objects that live as long as the process: no collection walks them
    # while they are built (see bot.collector).
    try:
        with collector.paused(keep=serving):
            return _build(
                settings, shop=shop, clock=clock, ids=ids, embedder=embedder, ephemeral=ephemeral,
                eval_mode=eval_mode, progress=progress, events=events, model_limit=model_limit,
                on_validated=warm,
            )
    finally:
        for warmer in warmers:
            warmer.stop()  # done by now, or making what the start has made itself


def _build(
    settings: Settings,
    *,
    shop: Shop | None,
    clock: Clock | None,
    ids: IdProvider | None,
    embedder: Any,
    ephemeral: bool,
    eval_mode: bool,
    progress: bool,
    events: EventBus | RedisEventBus | None,
    model_limit: ModelLimit | None,
    on_validated: Callable[[Shop], None],
) -> Services:
    from bot.accounts import AccountStore
    from bot.conversations.sql import SqlConversationStore
    from bot.drafting.pipeline import build_pipeline
    from bot.engine import Bot
    from bot.flows.dialogue import DialogueManager
    from bot.orders.sql import SqlOrderBackend
    from bot.retrieval.hybrid import open_retriever
    from bot.retrieval.linker import EntityLinker
    from bot.drafting.prompts import PromptSet
    from bot.guards.check import prepare as prepare_guards
    from bot.router.model_intent import ModelIntentReader
    from bot.router.router import build_router
    from bot.suggestions.guard import ShopReplyGuard
    from bot.suggestions.service import SuggestionService
    from bot.outreach.service import build_outreach
    from bot.workbench.log import ActionLog
    from bot.workbench.service import WorkbenchService

    # A shop validated before (same files, same code) is read back from the data directory.
    cache_dir = None if ephemeral else settings.data_dir / "cache"
    shop = shop or load_shop(settings.shop_dir, cache_dir=cache_dir, on_validated=on_validated)
    if clock is None:
        clock = FrozenClock(datetime.now(shop.tz)) if eval_mode else SystemClock(shop.tz)  # type: ignore[arg-type]
        if settings.demo and not eval_mode and shop.info.demo_now is not None:
            # The demo shop's promotions and orders stay current: its clock starts at demo_now.
            clock = OffsetClock(shop.info.demo_now, shop.tz)
    if ids is None:
        ids = SequentialIds() if eval_mode else UuidIds()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.sqlalchemy_url)
    prepare_schema(db, auto_upgrade=settings.db_auto_upgrade)  # migrate, or refuse an unknown schema

    orders = SqlOrderBackend(db, shop)
    orders.ensure_seeded()
    conversations = SqlConversationStore(db, tz=shop.tz)
    accounts = AccountStore(db, clock=clock)
    # What an agent sends passes the same guards as a drafted reply; their word lists and the
    # shop's index of buyers' data are built now, not in the first reply after the start.
    prepare_guards(shop)
    guard = ShopReplyGuard(shop, lambda cid: c.buyer_id if (c := conversations.get(cid)) else None)
    suggestions = SuggestionService(db, clock, ids, guard=guard)
    persist: Path | None = None if ephemeral else settings.chroma_dir
    # The shop's words and the linker's tables are kept beside the cached shop.
    kept: Path | None = None if ephemeral else settings.data_dir / "cache"
    retriever = open_retriever(
        shop, settings, embedder=embedder, persist_dir=persist, progress=progress, cache_dir=kept
    )
    linker = retriever.linker or EntityLinker(shop)
    router = build_router(
        shop, cache_dir=None if ephemeral else settings.data_dir / "router", linker=linker,
        llm_fallback=ModelIntentReader.from_settings(PromptSet.load, settings),
    )
    dialogue = DialogueManager(shop, orders, router, clock, ids)
    drafting = build_pipeline(shop, settings, retriever, linker, clock, limit=model_limit, cache_dir=kept)
    events = events or build_event_bus(settings.redis_url, retention=settings.event_retention)
    reply_mode = settings.reply_mode or shop.info.reply_mode
    bot = Bot(
        shop, conversations, dialogue, drafting, suggestions, events, clock, ids,
        reply_mode=reply_mode, max_message_chars=settings.max_message_chars,
        turn_threads=_turn_threads(settings, db),
    )
    # Jobs (outreach, drafts waiting for an agent) are added to it where they are built.
    scheduler = Scheduler(clock, build_lease(settings.redis_url))
    scheduler.add(bot.desk)  # drafts waiting for an agent: holding messages, late drafts
    workbench = WorkbenchService(shop, orders, ActionLog(db, tz=shop.tz), clock, ids)
    outreach = build_outreach(
        shop, db, orders, conversations, events, workbench, ids, daily_cap=settings.outreach_daily_cap
    )
    for job in outreach.jobs:  # 催付, notices, 回访, care, then their delivery
        scheduler.add(job)
    return Services(
        settings=settings, shop=shop, clock=clock, ids=ids, db=db, orders=orders,
        conversations=conversations, accounts=accounts, suggestions=suggestions,
        retriever=retriever, linker=linker, router=router, dialogue=dialogue,
        drafting=drafting, events=events, bot=bot, scheduler=scheduler,
        workbench=workbench, outreach=outreach,
        eval_mode=eval_mode, ephemeral=ephemeral,
    )


def reload_shop(services: Services) -> tuple[Services, dict[str, Any]]:
    """Re-read the shop directory and rebuild what depends on it.

    The retrieval index is refreshed incrementally (only changed passages are embedded).
    A shop that fails validation raises :class:`~bot.errors.ShopInvalid` and the running
    services stay as they were. Live subscribers keep their event bus, and drafts still with
    the model keep counting against the model limit.
    """
    # Unchanged files are not validated again (the data directory keeps the validated shop).
    kept = None if services.ephemeral else services.settings.data_dir / "cache"
    shop = load_shop(services.shop.root, cache_dir=kept)
    fresh = build_services(
        services.settings,
        shop=shop,
        clock=services.clock,
        ids=services.ids,
        ephemeral=services.ephemeral,
        eval_mode=services.eval_mode,
        events=services.events,
        model_limit=services.drafting.limit,
    )
    report = fresh.retriever.last_report
    summary = {
        "shop": shop.info.name,
        "changed": shop.content_hash != services.shop.content_hash,
        "products": len(shop.products),
        "index": asdict(report) if report is not None else None,
    }
    return fresh, summary


def _turn_threads(settings: Settings, db: Engine) -> int:
    """Threads for the stored steps of turns: one on SQLite with no model configured, where
    every step is local work of a few milliseconds and writes take turns anyway (more threads
    only contend for the interpreter: about 160 against 190 turns/s at 50 buyers), else
    enough to overlap database round trips and the model's reading of unsure lines."""
    from bot.engine import TURN_THREADS

    if settings.turn_threads is not None:
        return settings.turn_threads
    return 1 if db.dialect.name == "sqlite" and not settings.llm_model else TURN_THREADS
