"""The questions of one buyer message: 「面膜可以天天敷吗？敷完要不要洗脸」 asks two things, and
each gets its own answer.

The message is cut into clauses (:meth:`Lexicon.clauses`, courtesy dropped by
:meth:`Lexicon.request_part`); a clause that asks nothing ("我在拉萨", "懒得再买卸妆油") joins the
question after it, or the one before when it comes last. Each question is given the kind of
answer it wants (price, stock, shipping …) from the words in ``data/asks.yaml``; the router's
intent decides the first question's kind unless the words clearly say otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bot import yamlfiles
from bot.drafting.matching import DATA
from bot.router.lexicon import Lexicon, load_lexicon
from bot.text.normalize import normalize

# The router's canonical intents and the kind of answer each asks for.
INTENT_KINDS = {
    "price_promotion": "price",
    "stock": "stock",
    "size_advice": "size",
    "shipping_policy": "shipping",
    "recommendation": "recommend",
    "product_info": "info",
}
# Kinds whose later questions fold into an earlier one of the same kind (or of these), when
# they name nothing new: one basket, one price answer.
_FOLDING = {"price": {"price", "promotion", "cheaper"}, "cheaper": {"cheaper"}, "recommend": {"recommend"}}
MAX_QUESTIONS = 4
# Wordings that go on about the offer the question before named.
_OFFER_MODES = frozenset({"scope", "where", "ends", "wait"})


@dataclass(frozen=True)
class Words:
    """Word lists of ``data/asks.yaml``: each a tuple of plain words and compiled patterns."""

    kinds: dict[str, tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]]
    modes: dict[str, tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]]
    tails: tuple[str, ...]
    cues: tuple[str, ...]

    @staticmethod
    def _has(text: str, entry: tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]) -> bool:
        words, patterns = entry
        return any(w in text for w in words) or any(p.search(text) for p in patterns)

    def kinds_of(self, text: str) -> tuple[str, ...]:
        return tuple(k for k, entry in self.kinds.items() if self._has(text, entry))

    def modes_of(self, text: str) -> frozenset[str]:
        return frozenset(m for m, entry in self.modes.items() if self._has(text, entry))


def _entry(values: list[object]) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    words, patterns = [], []
    for v in values or []:
        s = str(v)
        if s.startswith("re:"):
            patterns.append(re.compile(s[3:]))
        elif s.strip():
            words.append(normalize(s).replace(" ", ""))
    return tuple(words), tuple(patterns)


@lru_cache(maxsize=1)
def words() -> Words:
    raw = yamlfiles.read(DATA / "asks.yaml") or {}
    return Words(
        kinds={str(k): _entry(v) for k, v in (raw.get("kinds") or {}).items()},
        modes={str(k): _entry(v) for k, v in (raw.get("modes") or {}).items()},
        tails=tuple(normalize(str(t)) for t in raw.get("tails") or []),
        cues=tuple(normalize(str(c)) for c in raw.get("cues") or []),
    )


@dataclass(frozen=True)
class Question:
    """One question of a message: its words (normalised, the buyer's), the kind of answer it
    wants, and how it is worded (``modes``: ends, wait, scope, where, which, options, each)."""

    text: str
    kind: str
    kinds: tuple[str, ...] = ()
    modes: frozenset[str] = field(default_factory=frozenset)
    core: str = ""  # the clause that asks (「能货到付款不」 of 「能货到付款不 我不会用支付宝」)

    @property
    def flat(self) -> str:
        return self.text.replace(" ", "").replace(",", "")


def _asks(clause: str, w: Words, lex: Lexicon) -> bool:
    bare = clause.replace(" ", "")
    if not bare:
        return False
    if any(bare.endswith(t) for t in w.tails) or any(c in bare for c in w.cues):
        return True
    if any(c in bare for c in lex.question_cues):
        return True
    return bool(w.kinds_of(bare))


def split(message: str, intent: str, *, lexicon: Lexicon | None = None) -> list[Question]:
    """The questions of ``message``, first asked first (at most :data:`MAX_QUESTIONS`; the rest
    join the last). A message that asks nothing recognisable is one question. With the
    router's own lexicon a message is read once: a conversation's earlier lines come back
    every turn (questions are frozen, so callers share them)."""
    if lexicon is None:
        return list(_split_once(message, intent))
    return _split(message, intent, lexicon)


@lru_cache(maxsize=4096)
def _split_once(message: str, intent: str) -> tuple[Question, ...]:
    return tuple(_split(message, intent, load_lexicon()))


def _split(message: str, intent: str, lex: Lexicon) -> list[Question]:
    w = words()
    norm = normalize(message)
    clauses = lex.clauses(lex.request_part(norm)) or [norm]
    groups: list[list[str]] = []
    cores: list[str] = []
    pending: list[str] = []
    for clause in clauses:
        pending.append(clause)
        if _asks(clause, w, lex):
            groups.append(pending)
            cores.append(clause)
            pending = []
    if pending:
        if groups:
            groups[-1].extend(pending)
        else:
            groups.append(pending)
            cores.append(" ".join(pending))
    if len(groups) > MAX_QUESTIONS:
        groups = groups[: MAX_QUESTIONS - 1] + [[c for g in groups[MAX_QUESTIONS - 1 :] for c in g]]
        cores = cores[: MAX_QUESTIONS - 1] + [" ".join(cores[MAX_QUESTIONS - 1 :])]
    routed = INTENT_KINDS.get(intent, "info")
    out: list[Question] = []
    for i, group in enumerate(groups):
        text = " ".join(group)
        bare = text.replace(" ", "")
        kinds = w.kinds_of(bare)
        if i == 0:
            # The router read the whole message; its intent stands unless the words of this
            # question name other kinds and not its own.
            kind = routed if (not kinds or routed in kinds or (routed != "info" and _weak(kinds))) else kinds[0]
        elif kinds:
            kind = kinds[0]
        elif out and out[-1].kind in ("price", "promotion") and w.modes_of(bare) & _OFFER_MODES:
            kind = out[-1].kind  # 「199减30的券在哪领 买口红能用吗」: still about that offer
        else:
            kind = "info"
        out.append(Question(text=text, kind=kind, kinds=kinds, modes=w.modes_of(bare), core=cores[i]))
    return out


def _weak(kinds: tuple[str, ...]) -> bool:
    """Kinds that a routed intent outranks: words that also occur in other questions."""
    return set(kinds) <= {"promotion", "recommend"}


def fold(questions: list[Question], names_product: list[bool]) -> list[Question]:
    """Join a question to the one before when it asks the same kind of thing and names no
    product of its own (「L码纸尿裤拍两包多少钱？差多少能满199减20」 is one price question)."""
    out: list[Question] = []
    keep: list[bool] = []
    for q, named in zip(questions, names_product):
        if out and not named and q.kind in _FOLDING.get(out[-1].kind, set()):
            prev = out[-1]
            out[-1] = Question(
                text=f"{prev.text} {q.text}", kind=prev.kind, kinds=tuple(dict.fromkeys(prev.kinds + q.kinds)),
                modes=prev.modes | q.modes, core=f"{prev.core} {q.core}",
            )
            continue
        out.append(q)
        keep.append(named)
    return out
