"""Two days of the demo shop, played through the real bot on a fixed clock: buyers ask, the
bot answers or drafts, agents accept, edit and reject drafts and write themselves, buyers
rate, and the scheduler runs the reply policy (a holding message after 20 s, the draft as
drafted after 60 s) as on a running server. The reports tests and the report page's
screenshots read what this leaves behind."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import FrozenClock
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services import Services, build_services
from bot.turns import TurnResult

ROOT = Path(__file__).resolve().parents[2]
DAY_ONE = datetime.fromisoformat("2026-11-20T10:00:00+08:00")
TICK_S = 5


class ShopDay:
    """Drives ``services`` like a day at the shop: every step moves the clock on."""

    def __init__(self, services: Services) -> None:
        self.services = services
        assert isinstance(services.clock, FrozenClock)
        self.clock: FrozenClock = services.clock
        self.conversations: dict[str, str] = {}

    def at(self, when: str) -> None:
        self.clock.set(datetime.fromisoformat(when))
        self.services.scheduler.tick()

    def wait(self, seconds: float) -> None:
        """Time passes as on a running server: the scheduler ticks every few seconds, so the
        reply policy's holding messages and timed-out drafts go out when they are due."""
        left = seconds
        while left > 0:
            step = min(TICK_S, left)
            self.clock.advance(timedelta(seconds=step))
            self.services.scheduler.tick()
            left -= step

    def say(self, buyer: str, text: str) -> TurnResult:
        cid = self.conversations.get(buyer) or self.services.bot.conversation_for(buyer)
        self.conversations[buyer] = cid
        return self.services.bot.handle(cid, buyer, text)

    def _deliver(self, sid: str) -> None:
        s = self.services.suggestions.get(sid)
        assert s is not None and s.sent_text
        self.services.bot.desk.deliver(s)

    def accept(self, turn: TurnResult, agent: str, *, after: float) -> None:
        assert turn.suggestion_id, f"no draft to accept: {turn.intent} {turn.reply}"
        self.wait(after)
        self.services.suggestions.accept(turn.suggestion_id, agent, override=True)
        self._deliver(turn.suggestion_id)

    def edit(self, turn: TurnResult, agent: str, text: str, *, after: float) -> None:
        assert turn.suggestion_id, f"no draft to edit: {turn.intent} {turn.reply}"
        self.wait(after)
        self.services.suggestions.edit(turn.suggestion_id, agent, text, override=True)
        self._deliver(turn.suggestion_id)

    def reject(self, turn: TurnResult, agent: str, reason: str, *, after: float) -> None:
        assert turn.suggestion_id, f"no draft to reject: {turn.intent} {turn.reply}"
        self.wait(after)
        self.services.suggestions.reject(turn.suggestion_id, agent, reason)

    def agent_says(self, buyer: str, agent: str, text: str, *, after: float) -> None:
        """The agent takes the conversation over and writes, as the console does."""
        self.wait(after)
        cid = self.conversations[buyer]
        self.services.conversations.claim(cid, agent, self.clock.now())
        self.services.bot.desk.post(cid, text, role="agent", author=agent)
        self.services.suggestions.settle(cid)

    def rate(self, buyer: str, score: int) -> None:
        self.services.conversations.rate(self.conversations[buyer], score, self.clock.now())


def demo_services(data_dir: Path, **settings: object) -> Services:
    return build_services(
        Settings(shop_dir=ROOT / "knowledge", data_dir=data_dir, reply_mode="assist", llm_model=None,
                 embedding_model=None, **settings),  # type: ignore[arg-type]
        clock=FrozenClock(DAY_ONE),
        ids=SequentialIds(),
        ephemeral=True,
    )


def play_two_days(services: Services) -> ShopDay:
    """The scripted days. Of the five inquiries, two are followed by an order of the demo
    shop within 24 hours: b02's 7006 (20th 20:58) and b04's 7014 (21st 09:30); b06, b07 and
    b03 order nothing after asking."""
    day = ShopDay(services)

    day.at("2026-11-20T10:00:00+08:00")  # b02 asks about a product; the agent sends the draft
    day.accept(day.say("b02", "棉麻立领衬衫是什么面料的？穿着透气吗"), "demo", after=40)
    day.rate("b02", 5)

    day.at("2026-11-20T10:30:00+08:00")  # b04 asks about free shipping; the agent adds the figure
    turn = day.say("b04", "你们满多少包邮呀")
    day.edit(turn, "xiaoyu", turn.reply + " 实付满99元就包邮哦～", after=50)
    day.rate("b04", 4)

    day.at("2026-11-20T14:00:00+08:00")  # b06 wants a gift idea; the agent rejects the draft
    turn = day.say("b06", "想给妈妈买件衣服，有什么推荐的吗")
    day.reject(turn, "demo", "推荐的款式不适合中老年", after=30)
    day.agent_says("b06", "demo", "亲，给妈妈的话推荐羊毛针织围巾，柔软保暖，很多买家买来送长辈哦～", after=300)
    day.rate("b06", 3)

    day.at("2026-11-20T15:00:00+08:00")  # b07 asks about stock; no agent decides the draft in time
    day.say("b07", "高腰直筒牛仔裤 女款的L码还有货吗")
    day.wait(90)

    day.at("2026-11-20T16:00:00+08:00")  # b01 complains about a late parcel and is handed over
    day.say("b01", "我的快递到哪了")
    day.wait(20)
    day.say("b01", "太慢了我要投诉你们")
    day.agent_says("b01", "xiaoyu", "亲，非常抱歉让您久等了，我马上帮您催一下快递～", after=240)
    day.rate("b01", 2)

    day.at("2026-11-21T09:00:00+08:00")  # b05 asks for a person
    day.say("b05", "你好")
    day.wait(10)
    day.say("b05", "我要找人工客服")
    day.agent_says("b05", "demo", "亲，我是人工客服小美，请问有什么可以帮您？", after=60)
    day.rate("b05", 4)

    day.at("2026-11-21T10:00:00+08:00")  # b03 asks about pilling; the agent rewrites the draft
    turn = day.say("b03", "纯棉重磅短袖T恤 男女同款会起球吗")
    day.edit(turn, "xiaoyu", "亲，这款是260g精梳棉，洗后不易起球，建议反面冷水洗哦～", after=45)
    return day
