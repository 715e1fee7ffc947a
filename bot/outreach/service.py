"""Wiring the outreach sources, the outbox and its delivery into scheduled jobs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.conversations.sql import SqlConversationStore
from bot.ids import IdProvider
from bot.orders.sql import SqlOrderBackend
from bot.outreach.care import BirthdayCare
from bot.outreach.delivery import Delivery, Publisher
from bot.outreach.follow_up import FollowUps
from bot.outreach.notices import Notices
from bot.outreach.outbox import Outbox, OutboxMessage
from bot.outreach.payment import PaymentReminders
from bot.outreach.ratings import RatingReplies
from bot.outreach.texts import OutreachTexts
from bot.scheduling import Job
from bot.shop.models import Shop
from bot.workbench.service import WorkbenchService


@dataclass(frozen=True)
class Outreach:
    outbox: Outbox
    delivery: Delivery
    notices: Notices
    ratings: RatingReplies
    jobs: tuple[Job, ...]  # sources first, delivery last: what a tick stores it also sends

    def sent_to(self, buyer_id: str) -> list[OutboxMessage]:
        """Every unprompted message delivered to the buyer, in the order it was sent."""
        return self.outbox.messages(buyer_id=buyer_id, status="sent")


def build_outreach(
    shop: Shop,
    db: Engine,
    orders: SqlOrderBackend,
    conversations: SqlConversationStore,
    events: Publisher,
    workbench: WorkbenchService,
    ids: IdProvider,
    *,
    daily_cap: int,
) -> Outreach:
    texts = OutreachTexts(shop)
    outbox = Outbox(db, tz=shop.tz)
    payments = PaymentReminders(shop, orders, outbox, texts)
    delivery = Delivery(
        shop, outbox, conversations, events, daily_cap=daily_cap,
        relevance={"payment_reminder": lambda m: payments.still_wanted(m.tid)},
    )
    notices = Notices(shop, orders, workbench.log, outbox, texts, delivery.deliver_one)
    workbench.on_done(notices.on_action)
    ratings = RatingReplies(db, outbox, conversations, orders, ids)
    jobs: tuple[Job, ...] = (
        payments, notices, FollowUps(shop, orders, outbox, texts), BirthdayCare(shop, orders, outbox, texts),
        ratings, delivery,
    )
    return Outreach(outbox=outbox, delivery=delivery, notices=notices, ratings=ratings, jobs=jobs)
