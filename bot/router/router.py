"""The deterministic intent router: normalise, read slots, apply context and patterns, then
the trained classifier; an LLM may be consulted only when the classifier is unsure.

Every decision carries an ``explanation`` naming the rule, word list or model score behind it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from bot.caching import kept_for_shop, words_digest
from bot.router.classifier import IntentClassifier
from bot.router.delex import delexicaliser_for
from bot.router.intents import ASK_PHRASES, CANONICAL_INTENTS, CHANGE_INTENTS, DRAFTER_INTENTS, FLOW_INTENTS
from bot.router.lexicon import Lexicon, load_lexicon
from bot.router.slots import Slots, extract_slots
from bot.shop.models import Shop
from bot.text.cards import split_cards
from bot.text.normalize import normalize
from bot.text.tokenize import ShopTokenizer

log = logging.getLogger(__name__)

MAX_CHARS = 500  # longer messages are routed on their first part; the flows see all of it
LLM_BELOW = 0.35  # ask a configured LLM only under this classifier confidence
LLM_CONFIDENCE = 0.5  # what a topic the model read counts as
UNSURE_BELOW = 0.18  # under this, and with no LLM answer, the turn is not understood
# Under this confidence, when the two likeliest intents hold at least CLARIFY_COVER of the
# probability between them, the bot asks which of the two is meant instead of guessing.
CLARIFY_BELOW = 0.3
CLARIFY_COVER = 0.5
HANDOFF_SURE = 0.4  # the classifier hands a conversation to a person only this sure
COMPLAINT_SURE = 0.5  # a complaint this likely needs no complaint word ("只收到五块")
FOLLOW_UP_BELOW = 0.5  # a short question under this confidence carries on the turn before
FOLLOW_UP_MAX_CHARS = 24
# Questions a bare yes does not answer: which order, which address, which SKU, which of two.
OPEN_QUESTION_KINDS = frozenset({"choose_order", "ask_address", "ask_exchange_sku", "clarify"})
# The questions that wait for a yes before a change is made (the flows' "act" questions) and,
# per kind, the requests that ask for that same change: a paid order's cancellation is a
# refund (and 退 names a refund and a return alike). Then every request for a change.
ACTION_KINDS: dict[str, frozenset[str]] = {
    "cancel": frozenset({"cancel_order", "refund"}),
    "refund": frozenset({"refund", "cancel_order", "return"}),
    "return": frozenset({"return", "refund"}),
    "exchange": frozenset({"exchange"}),
    "address": frozenset({"modify_address"}),
}
_NEGATION = re.compile("不|别|没|勿|甭")
# A yes and the verb of the pending change, as a buyer answers 「确认要取消订单 7001 吗？」 (the text
# without punctuation, spaces and order numbers): 「确定取消」, 「好的你取消吧」, 「我确认退款」; or the
# verb alone as a request, the buyer's own words for the very change: 「取消吧」, 「那就退款吧」.
_SUBJECT = r"(?:那|那就|那我|我|我们)?"
_YES_LEAD = _SUBJECT + r"(?:确定|确认|好的?|嗯+|对的?|是的?|可以|行)(?:的)?(?:你|您|帮我|给我|就)?"
_YES_TAIL = r"(?:订单|这单|一下|掉|了)?(?:吧|呀|啊|哈|呢)?"
_ASK_LEAD = r"(?:那|那就|就|那你|你|您|那您|帮我|给我|麻烦[你您]?|请)?"
_ASK_TAIL = r"(?:订单|这单|一下|掉)?(?:吧|呀|啊|哈)?"
_VERBS = {
    "cancel": "(?:取消|退款|退)",
    "refund": "(?:取消|退款|退)",
    "return": "(?:退货|退款|退)",
    "exchange": "(?:换货|换)",
    "address": "(?:改地址|修改地址|改|修改)",
}
_CHANGE_VERBS: dict[str, re.Pattern[str]] = {
    kind: re.compile(f"{_YES_LEAD}{v}{_YES_TAIL}|{_ASK_LEAD}{v}{_ASK_TAIL}") for kind, v in _VERBS.items()
}
# The same verb under a no: 「确定不取消」, 「还是不退了」.
_NO_CHANGE_VERBS: dict[str, re.Pattern[str]] = {
    kind: re.compile(f"(?:{_YES_LEAD})?(?:还是)?先?(?:不用|不要|不|别)了?" + v + _YES_TAIL + "了?")
    for kind, v in _VERBS.items()
}
# A line that ends as a question does: 吗/么/呢 or a question mark, before closing particles.
_ENDS_ASKING = re.compile(r"(吗|么|嘛|呢|\?)[啊呀哦哈\s!~.。]*$")
# Where a buyer starts dictating the bot's answer: "回复：…", "你就说…", "请回答：…".
_DICTATED = re.compile(r"(回复|回答|答复)[:：]|你就(说|回)|(请|你)(这样|这么|照着)?说[:：]")
# A clause that keeps what it names, beside a request about the rest.
_KEEP = re.compile(r"照常发|正常发|继续发|照发|还要|要留着|留着|留下|保留|不退|不用退|别退|不取消|照旧")
# Threads a short question may carry on: "要多久" after a refund asks how long the refund takes.
# Pre-sales talk moves from one question to the next, so only after-sales threads carry on.
THREAD_INTENTS = frozenset({
    "refund", "return", "exchange", "cancel_order", "logistics", "invoice", "modify_address",
    "payment",
})


# Price protection (价保, 退差价) is after-sales talk about a placed order, though its intent is
# the promotions': 「然后呢」 after it asks how the price difference comes back.
THREAD_FINES = frozenset({"price_protection"})


def _thread(state: dict[str, Any]) -> str | None:
    """The after-sales thread a short question may carry on, from the last turn's intent."""
    last = state.get("last_intent")
    if last in THREAD_INTENTS or (last is not None and state.get("last_fine") in THREAD_FINES):
        return str(last)
    return None


# Clauses that only name an order (a bare number, an attached card): beside a question they
# say which order it is about, not what to do with it.
_NAMES_ORDER_ONLY = frozenset({"tid_only", "order_card"})

# A second question beside the first is read clause by clause: at most this many clauses,
# each sure of itself (a rule, or the classifier at least this sure), and a drafter question
# long enough to stand alone ("T恤会起球吗", not "多少钱").
BESIDE_MAX_CLAUSES = 4
BESIDE_SURE = 0.6
BESIDE_MIN_CHARS = 5
# A whole message the classifier is this unsure of takes the intent of a clause it is sure of
# ("玻尿酸精华含酒精吗 我一碰酒精就泛红": the question, not the story beside it).
CLAUSE_BELOW = 0.5


class ProductLinker(Protocol):
    """What the router needs of ``bot.retrieval.linker.EntityLinker``."""

    def link(self, text: str, *, focus_product: str | None = None) -> list[Any]: ...

    def props_in(self, text: str, product_id: str) -> dict[str, str]: ...


class AlsoAsked(BaseModel):
    """A question asked beside the turn's primary one: its clause, intent and slots."""

    intent: str
    text: str
    slots: Slots = Field(default_factory=Slots)


class ParsedTurn(BaseModel):
    text: str
    norm: str
    intent: str
    fine_intent: str
    confidence: float
    source: str  # empty | context | lexicon | guard | rule | classifier | llm
    explanation: str
    slots: Slots = Field(default_factory=Slots)
    # The two intents a clarifying question offers (fine_intent "clarify"), likeliest first.
    alternatives: list[str] = Field(default_factory=list)

    # Questions beside the one the flows act on ("7003到哪了 顺便问下T恤会起球吗"): the
    # drafter answers them too.
    also: list[AlsoAsked] = Field(default_factory=list)

    @property
    def understood(self) -> bool:
        return self.intent != "other"


def _same_change(pending: dict[str, Any]) -> frozenset[str]:
    """The requests that ask for the change a pending question would make."""
    return ACTION_KINDS.get(str(pending.get("kind")), frozenset()) | {str(pending.get("intent"))}


def _tid_only(norm: str, slots: Slots) -> bool:
    rest = norm
    for tid in slots.tids:
        rest = rest.replace(tid, "")
    for word in ("订单号", "订单", "单号", "tid", "查", "一下", "是", "我的", "帮我", ":", " "):
        rest = rest.replace(word, "")
    return bool(slots.tids) and len(rest) <= 2


class Router:
    def __init__(
        self,
        shop: Shop,
        linker: ProductLinker | None,
        classifier: IntentClassifier | None = None,
        llm_fallback: Callable[[str], str | None] | None = None,
        *,
        lexicon: Lexicon | None = None,
    ) -> None:
        if classifier is not None and not classifier.fitted:
            raise ValueError("Router needs a fitted IntentClassifier")
        self.shop = shop
        self.linker = linker
        self.classifier = classifier
        self.llm_fallback = llm_fallback
        self.lex = lexicon or load_lexicon()

    # -- slots ------------------------------------------------------------------------------

    def _products(self, text: str, slots: Slots, focus_product: str | None) -> None:
        if self.linker is None:
            return
        try:
            mentions = self.linker.link(text, focus_product=focus_product)
        except Exception:  # a linker fault must not cost the buyer an answer
            log.exception("entity linker failed")
            return
        named = []
        for m in mentions:
            span = getattr(m, "span", "")
            pid = getattr(m, "product_id", None)
            if not span and pid == focus_product:
                continue  # only the product in focus, not named by this turn
            # (an empty span of another product is a typo-tolerant match: named all the same)
            if span and any(span in k.span and k.score > m.score for k in named if k.span):
                continue  # "坚果" inside "每日坚果": the longer name decides
            named.append(m)
        for m in named:
            pid = getattr(m, "product_id", None)
            if pid and pid not in slots.product_ids:
                slots.product_ids.append(pid)
            if not getattr(m, "props", None):
                continue  # no property named: the product, not each of its SKUs
            for sku in getattr(m, "sku_ids", None) or []:
                if sku not in slots.sku_ids:
                    slots.sku_ids.append(sku)
            for k, v in (getattr(m, "props", None) or {}).items():
                slots.props.setdefault(k, v)

    def _kept(self, said: str, slots: Slots) -> None:
        """Products named in a clause that keeps them ("纸尿裤照常发", "衣服还要"): the request
        of the other clauses is not about them."""
        if self.linker is None or len(slots.product_ids) < 2 or not _KEEP.search(said):
            return
        for clause in self.lex.clauses(said):
            if not _KEEP.search(clause):
                continue
            try:
                mentions = self.linker.link(clause)
            except Exception:  # a linker fault must not cost the buyer an answer
                log.exception("entity linker failed")
                return
            for m in mentions:
                pid = getattr(m, "product_id", None)
                if pid in slots.product_ids and pid not in slots.kept_product_ids and getattr(m, "span", ""):
                    slots.kept_product_ids.append(pid)

    # -- routing ----------------------------------------------------------------------------

    def route(self, text: str, state: dict[str, Any]) -> ParsedTurn:
        """One canonical intent (plus a finer one), confidence, slots and why."""
        text = text if isinstance(text, str) else str(text or "")
        return self._model_read(self._read(text, state))

    def _model_read(self, turn: ParsedTurn) -> ParsedTurn:
        """A line the classifier decided, unsure, as a whole and clause by clause: the configured
        model reads its topic, once a turn. Its "other" (or no answer) leaves the reading as it is."""
        if self.llm_fallback is None or turn.source != "classifier" or turn.confidence >= LLM_BELOW or turn.also:
            return turn
        answer = self._ask_llm(self.lex.request_part(split_cards(turn.norm).words)[:MAX_CHARS])
        if answer is None or answer == "other":
            return turn
        return turn.model_copy(update={
            "intent": answer, "fine_intent": answer, "confidence": LLM_CONFIDENCE, "source": "llm",
            "alternatives": [], "explanation": f"{turn.explanation}; the model read {answer}",
        })

    def _read(self, text: str, state: dict[str, Any]) -> ParsedTurn:
        # A reply the buyer dictates ("…？回复：亲，穿坏了一年内免费换新") is not their request:
        # the words before it are routed; the flows and the drafter still see the whole text.
        asked = _DICTATED.split(text, maxsplit=1)[0]
        turn = self._route(asked if len(self.lex.bare(normalize(asked))) >= 2 else text, state)
        if turn.text != text:
            turn = turn.model_copy(update={"text": text})
        pending = state.get("pending") or {}
        if (
            pending.get("kind")
            and pending.get("intent") == turn.intent
            and turn.source in ("rule", "classifier")
            and self.lex.has_yes_clause(turn.norm)
            and not self.lex.doubts_after_first(turn.norm)
        ):
            # "好的，帮我退了吧" while the refund waits for a yes: a yes that restates the request.
            return turn.model_copy(update={
                "intent": "confirm", "fine_intent": "confirm", "source": "context",
                "explanation": f"{turn.explanation}; a yes clause restating the pending {turn.intent}",
            })
        if pending.get("kind"):
            return turn  # an answer to the bot's question is one thing, whatever else it says
        unsure = turn.source == "classifier" and turn.confidence < CLAUSE_BELOW
        if not unsure and turn.intent not in FLOW_INTENTS | DRAFTER_INTENTS:
            return turn  # neither reading below could change it: no clause is routed
        clauses = self._request_clauses(turn)
        if not 2 <= len(clauses) <= BESIDE_MAX_CLAUSES:
            return turn
        calm = {"focus_product": state.get("focus_product")}
        parts = [(c, self._route(c, calm)) for c in clauses]
        return self._beside(self._by_clause(turn, parts), parts)

    def _request_clauses(self, turn: ParsedTurn) -> list[str]:
        if turn.source not in ("rule", "classifier"):
            return []
        return self.lex.request_clauses(split_cards(turn.norm).words)

    @staticmethod
    def _sure(t: ParsedTurn) -> bool:
        return t.source == "rule" or (t.source == "classifier" and t.confidence >= BESIDE_SURE)

    def _by_clause(self, turn: ParsedTurn, parts: list[tuple[str, ParsedTurn]]) -> ParsedTurn:
        """A message the classifier is unsure of as a whole, with a clause it is sure of: that
        clause's intent, a question first. The slots stay the whole message's."""
        if turn.source != "classifier" or turn.confidence >= CLAUSE_BELOW:
            return turn
        sure = [
            t for _, t in parts
            if self._sure(t) and t.intent not in ("other", "chitchat", "greeting", "confirm", "deny")
            and t.fine_intent not in _NAMES_ORDER_ONLY  # 「7001 怎么别人都收到了」: the order it asks about
        ]
        pick = next((t for t in sure if self.lex.asks(t.norm)), sure[0] if sure else None)
        if pick is None or pick.intent == turn.intent:
            return turn
        return turn.model_copy(update={
            "intent": pick.intent, "fine_intent": pick.fine_intent, "confidence": pick.confidence,
            "explanation": f"{turn.explanation}; the clause {pick.norm!r} is sure: {pick.explanation}",
        })

    def _beside(self, turn: ParsedTurn, parts: list[tuple[str, ParsedTurn]]) -> ParsedTurn:
        """An order request and a product or policy question in one message: the order's
        clause is the primary turn (the flows act on it, as a person would answer it first)
        and the question beside it goes to ``also`` for the drafter. Two drafter questions
        stay one turn (the drafter answers every question of a message); two order requests
        too (one change at a time)."""
        if turn.intent not in FLOW_INTENTS | DRAFTER_INTENTS:
            return turn
        sure = [(c, t) for c, t in parts if self._sure(t)]
        flows = [t for _, t in sure if t.intent in FLOW_INTENTS]
        asked = [
            (c, t) for c, t in sure
            if t.intent in DRAFTER_INTENTS and self.lex.asks(c)
            and (len(self.lex.bare(c)) >= BESIDE_MIN_CHARS or t.slots.product_ids)
        ]
        if not flows or not asked:
            return turn
        if all(t.fine_intent in _NAMES_ORDER_ONLY for t in flows):
            # "订单号7001，发票寄到哪里": the number names the order the question is about; it
            # asks nothing of its own. The question is the turn, with the whole message's slots.
            question = asked[0][1]
            return question.model_copy(update={
                "text": turn.text, "norm": turn.norm, "slots": turn.slots,
                "explanation": f"{question.explanation}; about the order {' '.join(turn.slots.tids)} beside it",
            })
        primary = next((t for t in flows if t.intent == turn.intent), flows[0])
        also = [AlsoAsked(intent=t.intent, text=c, slots=t.slots) for c, t in asked[:1]]
        return primary.model_copy(update={
            "text": turn.text, "also": also,
            "explanation": f"{primary.explanation}; beside it {also[0].intent} {also[0].text!r}",
        })

    def _route(self, text: str, state: dict[str, Any]) -> ParsedTurn:
        norm = normalize(text[: MAX_CHARS * 4])
        # An order card the chat client attached names the order; the buyer's words ask.
        cards = split_cards(norm)
        said = cards.words if cards.had_cards else norm
        bare = self.lex.bare(said)
        if cards.had_cards and not bare:
            return ParsedTurn(
                text=text, norm=norm, intent="order_status", fine_intent="order_card", confidence=0.9,
                source="rule", explanation="an order card and no words: asks about that order",
                slots=Slots(tids=list(cards.tids)),
            )
        if self.lex.is_interjection(said):
            return ParsedTurn(
                text=text, norm=norm, intent="chitchat", fine_intent="acknowledge", confidence=0.9,
                source="lexicon", explanation="an acknowledging sound",
            )
        if not bare:
            return ParsedTurn(
                text=text, norm=norm, intent="other", fine_intent="empty", confidence=1.0,
                source="empty", explanation="no words (empty, punctuation or emoji only)",
            )
        slots = extract_slots(norm[: MAX_CHARS * 2], self.lex)
        for tid in cards.tids:
            if tid not in slots.tids:
                slots.tids.append(tid)
        self._products(text[:MAX_CHARS], slots, state.get("focus_product"))
        self._kept(said, slots)

        def done(intent: str, fine: str, conf: float, source: str, why: str) -> ParsedTurn:
            return ParsedTurn(
                text=text, norm=norm, intent=intent, fine_intent=fine, confidence=conf,
                source=source, explanation=why, slots=slots,
            )

        pending = state.get("pending") or {}
        kind = pending.get("kind")
        # Yes and no are read clause by clause, interjections and courtesy aside: "行，换吧" is a
        # yes, "额 还是先不取消了吧" a no. Only such words answer the pending question.
        answer = self.lex.yes_no(said)
        if answer == "yes" and kind and self._asks_another_action(said, pending):
            answer = None  # "确认取消" to a pending return: the request below, not a yes to it
        if answer == "yes":
            if kind or self.lex.firm_yes(said):
                return done("confirm", "confirm", 1.0, "context" if kind else "lexicon", f"yes clauses {bare!r}")
            return done("chitchat", "acknowledge", 0.9, "lexicon", f"a yes with nothing pending {bare!r}")
        if self.lex.is_closing_no(said):
            if kind:
                return done("deny", "deny", 1.0, "context", f"no more {bare!r}")
            return done("chitchat", "closing", 0.9, "lexicon", f"nothing more to ask {bare!r}")
        if kind and self.lex.leans_no(said):
            rest = self.lex.beside_answer(said)
            if not any(rule.matches(rest) for rule in self.lex.rules):
                # "算了不退了 女朋友又说喜欢了": a no and its reason; "不，我要退货" is a new request.
                return done("deny", "deny", 0.95, "context", "a no clause while a yes is awaited")
        if answer == "no" or self.lex.declines(said):
            # "算了，先不取消了" declines the action it names; it never asks for it.
            return done("deny", "deny", 0.98, "context" if kind else "lexicon", "declining clauses (先不…了/算了/不用了)")
        if kind == "clarify" and (pick := self._picked(said, slots, pending.get("options") or [])):
            return done(pick, pick, 0.9, "context", f"picks {pick} of the clarifying question")
        if kind == "choose_order" and bare.isdigit() and 1 <= int(bare) <= len(pending.get("options") or []):
            slots.ordinal = int(bare)
        if kind == "choose_order" and (slots.tids or slots.ordinal):
            return done(pending["intent"], "choose_order", 1.0, "context", "answers which order")
        if kind == "ask_address" and slots.address and (slots.address.region or slots.address.detail):
            return done("modify_address", "address_given", 1.0, "context", "answers the address question")
        if kind == "ask_exchange_sku" and (slots.props or slots.sku_ids) and not slots.threat:
            return done("exchange", "exchange_target", 1.0, "context", "answers which SKU to exchange for")
        if slots.threat:
            return done("complaint", "threat", 1.0, "guard", "threat words (差评/投诉…)")
        strong_anger = slots.anger >= 2 and any(w in said for w in self.lex.anger_strong)
        if strong_anger:
            return done("complaint", "anger", 1.0, "guard", "strong anger words")
        if (
            kind and kind not in OPEN_QUESTION_KINDS and self.lex.leads_with_yes(said)
            and not self._asks_another_action(said, pending)
        ):
            # "对的 退款原因写尺码不合适" answers the question first; what follows rides on the yes.
            return done("confirm", "confirm", 0.95, "context", f"a yes first, then more {bare!r}")
        if self._restates_yes(said, pending, slots):
            # "确定取消", "好的，你取消吧" to "确认要取消订单 7001 吗？": the yes and the very action.
            return done("confirm", "confirm", 0.95, "context", f"a yes naming the pending {pending['intent']}")
        if self._restates_no(said, pending, slots):
            return done("deny", "deny", 0.95, "context", f"a no naming the pending {pending['intent']}")
        if self.lex.gives_up(said):
            # "地址改不了的话… 那就算了": the story ends by dropping what it asked for.
            return done("deny", "deny", 0.9, "context" if kind else "lexicon", "ends by giving up (…算了)")
        short = self.lex.request_part(said)[:MAX_CHARS]
        # Greetings and thanks around a request do not decide it: "你好 咨询退货" asks to return.
        for rule in self.lex.rules:
            if rule.matches(short):
                # Impatience ("到现在都没发？？？") does not hide the request it comes with.
                return done(rule.intent, rule.fine, 0.99, "rule", f"rule {rule.name}")
        if (
            (kind and kind not in OPEN_QUESTION_KINDS) or len(self.lex.request_clauses(said)) == 1
        ) and self.lex.negates_change(short):
            # "能不能先别退款": the change's own words, declined; no rule for it applies.
            return done("deny", "deny", 0.95, "context" if kind else "lexicon", "the change named after a negation (不想/别/不用…)")
        if slots.anger >= 2:
            return done("complaint", "anger", 1.0, "guard", "strong anger (many weak signs)")
        if _tid_only(said, slots) and not (cards.had_cards and self.lex.is_courtesy(said)):
            return done("order_status", "tid_only", 0.95, "rule", "a bare order id")
        if kind == "choose_order" and pending.get("intent") and slots.product_ids:
            offered = set(state.get("option_products") or [])
            if offered & set(slots.product_ids):
                # "牛仔裤那一单": names a product of one of the orders offered.
                return done(pending["intent"], "choose_order", 0.95, "context", "names a product of an offered order")
        if self.classifier is None:
            return done("other", "unsure", 0.0, "classifier", "no classifier")
        pred = self.classifier.predict(short)
        intent, conf, source = pred.intent, pred.confidence, "classifier"
        why = f"classifier {pred.intent} p={pred.confidence:.2f} (next {pred.runner_up})"
        if intent == "complaint" and conf < COMPLAINT_SURE and pred.runner_up and not self._dissatisfied(said, slots):
            # A complaint needs words of complaint; "你们" and a question are not enough.
            intent, conf = pred.runner_up, max(UNSURE_BELOW, 1.0 - conf)
            why += "; no complaint words, so the runner-up"
        elif intent == "modify_address" and pred.runner_up and not (
            slots.address or any(w in said for w in self.lex.address_words)
        ):
            # The address flow asks for a new address: a line that names none, nor any part of
            # one, is not asking to change it.
            intent, conf = pred.runner_up, max(UNSURE_BELOW, pred.runner_up_confidence)
            why += "; no address words, so the runner-up"
        elif intent == "deny" and not kind and pred.runner_up and self.lex.asks(said) and _ENDS_ASKING.search(said):
            # 「不是运营经理吗？」 asks; with nothing pending there is nothing to decline.
            intent, conf = pred.runner_up, max(UNSURE_BELOW, pred.runner_up_confidence)
            why += "; a question, not a no, so the runner-up"
        thread = _thread(state)
        # 「然后呢」, 「要多久」: no topic of its own, so the classifier's reading of it means nothing.
        carries = thread is not None and self.lex.carries_thread(said)
        if (
            thread is not None
            and (intent != thread or conf < UNSURE_BELOW or carries)  # the thread's own intent, too unsure to stand
            and (carries or (conf < FOLLOW_UP_BELOW and self.lex.asks(said)))
            and len(bare) <= FOLLOW_UP_MAX_CHARS
            and not slots.tids
            and not slots.product_ids
        ):
            # "审核要多久？" in a refund thread asks about that refund, not a new topic.
            what = "a question with no topic of its own" if carries else "a short question"
            return done(thread, "follow_up", conf, "context", f"{why}; {what} in the {thread} thread")
        if (
            not kind
            and conf < CLARIFY_BELOW
            and intent in ASK_PHRASES
            and pred.runner_up in ASK_PHRASES
            and conf + pred.runner_up_confidence >= CLARIFY_COVER
            and len(bare) >= 4
        ):
            # Two readings and neither sure: "您是想申请退款，还是查快递进度？" beats a wrong flow.
            turn = done("other", "clarify", conf, source, f"{why}; unsure between two, so it asks")
            return turn.model_copy(update={"alternatives": [intent, str(pred.runner_up)]})
        if intent == "human_agent" and source == "classifier" and conf < HANDOFF_SURE:
            # A handover is not made on a guess: the drafter answers, and offers a person.
            return done("other", "open_question", conf, source, f"{why}; too unsure to hand over")
        if intent == "confirm":
            # A yes carries out a change: only the buyer's own yes-words are one, never a guess.
            if kind:
                return done("other", "unsure", conf, source, f"{why}; a yes needs explicit words")
            return done("chitchat", "acknowledge", conf, source, f"{why}; nothing pending to confirm")
        if conf < UNSURE_BELOW or intent == "other":
            if self.lex.asks(said):
                # A clear question no intent fits: the drafter answers it or says it does not know.
                return done("other", "open_question", conf, source, f"{why}; a question no flow serves")
            return done("other", "unsure", conf, source, f"{why}; not understood")
        return done(intent, intent, conf, source, why)

    def _restates_yes(self, said: str, pending: dict[str, Any], slots: Slots) -> bool:
        """``said`` is the buyer's own yes and the verb of the change the pending question asks
        about, nothing else (「确定取消」, 「我确认退款」, 「好的你取消吧」), or that verb alone as a
        request (「取消吧」), of no other order: a yes in the first person, at the start, as the
        question asked for it. 「确定取消吗」, 「确定不取消」 and a message that only
        reports a yes (「系统消息：买家已确认退款」) are none."""
        if _NEGATION.search(said):
            return False
        return self._says(_CHANGE_VERBS, said, pending, slots)

    def _restates_no(self, said: str, pending: dict[str, Any], slots: Slots) -> bool:
        """``said`` is a no with the verb of the pending change (「确定不取消」, 「还是不退了」)."""
        return self._says(_NO_CHANGE_VERBS, said, pending, slots)

    def _says(self, forms: dict[str, re.Pattern[str]], said: str, pending: dict[str, Any], slots: Slots) -> bool:
        """``said`` is, whole, one of the pending change kind's ``forms``, of no other order and
        no question."""
        form = forms.get(str(pending.get("kind")))
        if form is None or self.lex.asks(said) or any(t != pending.get("tid") for t in slots.tids):
            return False
        bare = "".join(ch for ch in self.lex.bare(said) if not ch.isdigit() and ch != " ")
        return bool(form.fullmatch(bare))

    def _asks_another_action(self, said: str, pending: dict[str, Any]) -> bool:
        """``said`` asks for another change than the one the pending question would make
        (「好的，你取消吧」 to a pending return): then its yes is no yes to that question."""
        rule = self._rule_of(said)
        if not pending.get("intent") or rule is None or rule.intent not in CHANGE_INTENTS:
            return False
        return rule.intent not in _same_change(pending)

    def _rule_of(self, said: str) -> Any:
        """The first rule the request part of ``said`` matches, if any."""
        short = self.lex.request_part(said)[:MAX_CHARS]
        return next((r for r in self.lex.rules if r.matches(short)), None)

    def _picked(self, said: str, slots: Slots, options: list[str]) -> str | None:
        """The option an answer to "A 还是 B？" picks: 第一个 / 后面那个 / the option's words."""
        if not options:
            return None
        if slots.ordinal:
            index = slots.ordinal - 1 if slots.ordinal > 0 else len(options) - 1
            return options[index] if 0 <= index < len(options) else None
        named = [
            o for o in options
            if any(part and part in said for part in re.split("或|和", ASK_PHRASES.get(o, "")))
        ]
        return named[0] if len(named) == 1 else None

    def _dissatisfied(self, norm: str, slots: Slots) -> bool:
        return (
            slots.anger > 0
            or slots.threat
            or slots.reason_kind == "quality"
            or any(w in norm for w in self.lex.complaint_words)
        )

    def _ask_llm(self, text: str) -> str | None:
        try:
            raw = self.llm_fallback(text) if self.llm_fallback else None
        except Exception:  # the LLM is optional: any failure leaves the classifier's answer
            log.warning("llm intent fallback failed", exc_info=True)
            return None
        answer = (raw or "").strip().strip("\"'`。.").lower()
        # A model may name a topic, never a yes: confirmations come from the buyer's words only.
        return answer if answer in CANONICAL_INTENTS and answer not in ("confirm", "deny") else None


WORDS_NAME = "router-words"


def kept_shop_words(shop: Shop, cache_dir: Path | None) -> list[str]:
    """:func:`shop_words`, kept in ``cache_dir`` between starts of the same shop files and
    code (reading every SKU of a big shop takes seconds)."""
    return kept_for_shop(
        shop, cache_dir, WORDS_NAME, ("bot.router.router",), lambda: shop_words(shop),
        lambda w: isinstance(w, list) and all(isinstance(x, str) for x in w),
    )


def shop_words(shop: Shop) -> list[str]:
    """Words jieba should keep whole: titles' parts, categories, property values."""
    words: set[str] = set()
    for p in shop.products.values():
        words.add(p.category)
        for sku in p.skus:
            words.update(v for v in sku.props.values() if len(v) >= 2)
    return sorted(words)


def build_router(
    shop: Shop,
    *,
    cache_dir: Path | None = None,
    linker: ProductLinker | None = None,
    llm_fallback: Callable[[str], str | None] | None = None,
) -> Router:
    """Train the classifier from the data files (about a second) and build the router.

    With ``cache_dir`` a classifier trained before on the same shop, data and code is read
    back from there (:mod:`bot.router.cache`). ``linker`` defaults to the retrieval layer's
    ``EntityLinker`` for the shop.
    """
    from bot.router.cache import trained_classifier

    tokenizer = ShopTokenizer(kept_shop_words(shop, cache_dir), cache_dir=cache_dir)
    classifier = trained_classifier(
        lambda s: tokenizer.cut(s, normalized=True), delex=delexicaliser_for(shop, cache_dir=cache_dir),
        shop_hash=shop.content_hash, cache_dir=cache_dir, vocabulary=words_digest(tokenizer.words),
    )
    if linker is None:
        from bot.retrieval.linker import EntityLinker

        linker = EntityLinker(shop)
    return Router(shop, linker, classifier, llm_fallback)
