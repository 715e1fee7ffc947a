"""The router's word lists and patterns, read from the data files in ``bot/router/data``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import yamlfiles
from bot.errors import ConfigError
from bot.router.intents import CANONICAL_INTENTS, CHANGE_INTENTS
from bot.text.normalize import normalize

DATA_DIR = Path(__file__).parent / "data"
_CLAUSE = re.compile(r"[,.!?~;:，。！？、…；：\s]+")
_REPEAT = re.compile(r"(.{1,4}?)\1+")
_ADVERSATIVE = ("不过", "但是", "可是")


def _collapse(text: str) -> str:
    """"算算" → "算", "不用不用" → "不用": a repeated word says it once."""
    return _REPEAT.sub(r"\1", text)


@dataclass(frozen=True)
class Rule:
    name: str
    intent: str
    fine: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None  # the rule does not apply when this also matches
    # A match right after which the rule does not apply: "不想" before "取消" declines it.
    not_after: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        if self.unless and self.unless.search(text):
            return False
        if self.not_after is None:
            return bool(self.pattern.search(text))
        return any(not self.not_after.search(text, 0, m.start()) for m in self.pattern.finditer(text))

    def negated(self, text: str) -> bool:
        """Whether the rule's words are in ``text`` after a negation (「能不能先别退款」)."""
        if self.not_after is None or (self.unless and self.unless.search(text)):
            return False
        return any(self.not_after.search(text, 0, m.start()) for m in self.pattern.finditer(text))


@dataclass(frozen=True)
class Lexicon:
    confirm_exact: frozenset[str]
    deny_exact: frozenset[str]
    decline_clause: re.Pattern[str]
    negated_if: re.Pattern[str]  # "不退款的话…", "别取消，否则…": a negation that states a condition
    filler_chars: str
    threat_words: tuple[str, ...]
    anger_strong: tuple[str, ...]
    anger_weak: tuple[str, ...]
    quality_words: tuple[str, ...]
    complaint_words: tuple[str, ...]
    address_words: tuple[str, ...]
    no_reason_words: tuple[str, ...]
    status_hints: dict[str, tuple[str, ...]]
    pronouns: tuple[str, ...]
    ordinals: dict[str, int]
    quantity_units: tuple[str, ...]
    thanks_words: tuple[str, ...]
    question_cues: tuple[str, ...]
    bye_words: tuple[str, ...]
    provinces: tuple[tuple[str, str], ...]  # (short, full), longest first
    rules: tuple[Rule, ...]
    courtesy_exact: frozenset[str] = frozenset()
    courtesy_prefix: re.Pattern[str] | None = None
    courtesy_suffix: re.Pattern[str] | None = None
    interjections: frozenset[str] = frozenset()
    closing_no: frozenset[str] = frozenset()
    firm_yes_words: tuple[str, ...] = ()
    give_up_clauses: frozenset[str] = frozenset()
    quality_pattern: re.Pattern[str] | None = None
    thread_question: re.Pattern[str] | None = None

    def clauses(self, norm: str) -> list[str]:
        """The clauses of ``norm`` (split at punctuation and spaces), empty ones dropped."""
        return [c for c in _CLAUSE.split(norm) if c]

    def is_courtesy(self, clause: str) -> bool:
        """A clause that asks nothing: a greeting, thanks, an address term or a filler sound."""
        b = _collapse(self.bare(clause))
        return not b or b in self.courtesy_exact or b in self.interjections

    def request_part(self, norm: str) -> str:
        """``norm`` without its courtesy clauses and leading/trailing courtesy words; ``norm``
        itself when nothing else is left (a pure greeting or thanks stays what it is)."""
        kept: list[str] = []
        changed = False
        for clause in self.clauses(norm):
            if self.is_courtesy(clause):
                changed = True
                continue
            core = clause
            if self.courtesy_prefix is not None:
                core = self.courtesy_prefix.sub("", core)
            if self.courtesy_suffix is not None:
                core = self.courtesy_suffix.sub("", core)
            core = core if len(self.bare(core)) >= 2 else clause
            changed = changed or core != clause
            kept.append(core)
        return ",".join(kept) if kept and changed else norm

    def request_clauses(self, norm: str) -> list[str]:
        """The clauses of ``norm`` that ask or tell something: courtesy clauses and words left out."""
        return [c for c in self.clauses(self.request_part(norm)) if not self.is_courtesy(c)]

    def _answer_clauses(self, norm: str) -> list[str]:
        out = []
        for clause in self.clauses(norm):
            b = _collapse(self.bare(clause))
            if self.courtesy_prefix is not None and b not in self.confirm_exact:
                stripped = self.courtesy_prefix.sub("", b)
                b = stripped or b
            if b:
                out.append(b)
        return out

    def _is_yes(self, b: str) -> bool:
        return b in self.confirm_exact

    def firm_yes(self, norm: str) -> bool:
        """A yes in words that confirm something ("确认", "确定", "同意"), as opposed to an
        acknowledgement ("好的", "嗯"): with nothing pending only the former is a confirmation."""
        return any(w in norm for w in self.firm_yes_words)

    def _is_no(self, b: str) -> bool:
        return b in self.deny_exact or bool(self.decline_clause.match(b))

    def yes_no(self, norm: str) -> str | None:
        """``"yes"`` when the message is only yes-clauses (and courtesy), ``"no"`` when it is
        only no-clauses, else None. "行，换吧" is a yes; "额 还是先不取消了吧" a no."""
        clauses = self._answer_clauses(norm)
        meaningful = [c for c in clauses if not (c in self.courtesy_exact or c in self.interjections) or self._is_yes(c)]
        if not meaningful:
            return None
        if any(c.startswith(_ADVERSATIVE) and self._is_no(c) for c in meaningful):
            return "no"  # "好，不过先别退": what follows 不过/但是 is the answer
        if all(self._is_yes(c) for c in meaningful):
            return "yes"
        if all(self._is_no(c) or c in self.courtesy_exact for c in meaningful) and any(
            self._is_no(c) for c in meaningful
        ):
            return "no"
        return None

    def leans_no(self, norm: str) -> bool:
        if self.yes_no(norm) == "no":
            return True
        """Some clause says no and none says yes ("算了不退了 女朋友又说喜欢了"): while a change
        waits for a yes, such a message changes nothing."""
        clauses = self._answer_clauses(norm)
        return any(self._is_no(c) for c in clauses) and not any(self._is_yes(c) for c in clauses)

    def beside_answer(self, norm: str) -> str:
        """The clauses of ``norm`` that are neither a yes, a no nor courtesy."""
        rest = []
        for clause in self.clauses(norm):
            b = _collapse(self.bare(clause))
            if not (self.is_courtesy(clause) or self._is_yes(b) or self._is_no(b)):
                rest.append(clause)
        return ",".join(rest)

    def has_yes_clause(self, norm: str) -> bool:
        """Some clause is a plain yes and none is a no ("好的，帮我退了吧")."""
        clauses = self._answer_clauses(norm)
        return any(self._is_yes(c) for c in clauses) and not any(self._is_no(c) for c in clauses)

    def leads_with_yes(self, norm: str) -> bool:
        """A plain yes first, then something told beside it and no question or no ("对的 退款原因
        写尺码不合适", "可以 我这边找不到申请的按钮"). A sound that only acknowledges ("嗯？什么意思")
        is not such a yes, and a doubt or a question after it ("好，你确定能退？") keeps it open."""
        clauses = [c for c in self._answer_clauses(norm) if c not in self.courtesy_exact or self._is_yes(c)]
        if len(clauses) < 2:
            return False
        first = clauses[0]
        if not self._is_yes(first) or first in self.courtesy_exact or first in self.interjections:
            return False
        if any(self._is_no(c) or c.startswith(_ADVERSATIVE) for c in clauses):
            return False
        return not self.doubts_after_first(norm)

    def doubts_after_first(self, norm: str) -> bool:
        """Whether something after the first clause asks or doubts ("好的，退款的话运费谁出",
        "好，你确定能退？"): a question to answer before anything is carried out."""
        trimmed = norm.strip(" ,.!?~，。！？、…")
        lead = _CLAUSE.search(trimmed)
        tail = trimmed[lead.start():] if lead else ""
        return any(cue in tail for cue in (*self.question_cues, "确定", "真的"))

    def is_interjection(self, norm: str) -> bool:
        """Only acknowledging sounds ("哦", "哦哦～", "哈哈")."""
        letters = "".join(ch for ch in norm if ch.isalnum())
        return letters in self.interjections

    def is_closing_no(self, norm: str) -> bool:
        """"没有了", "暂时没有了": nothing more to ask."""
        clauses = [c for c in self._answer_clauses(norm) if c not in self.courtesy_exact]
        return bool(clauses) and all(c in self.closing_no for c in clauses)

    def declines(self, norm: str) -> bool:
        """Whether every clause of ``norm`` says no ("算了算了，先不取消了", "不用了 谢谢")."""
        clauses = [_collapse(self.bare(c)) for c in _CLAUSE.split(norm)]
        clauses = [c for c in clauses if c]
        return bool(clauses) and all(
            c in self.deny_exact or self.decline_clause.match(c) for c in clauses
        )

    def negates_change(self, norm: str) -> bool:
        """Whether ``norm`` names a change only after a negation (「我不想退货了」, 「能不能先别取消」)
        and asks for nothing a rule knows (「不取消了 帮我催下发货」 asks to hurry the parcel)."""
        if self.negated_if.search(norm):
            return False  # "不退款的话我就…": a condition, not a no
        return any(r.negated(norm) for r in self.rules) and not any(r.matches(norm) for r in self.rules)

    def gives_up(self, norm: str) -> bool:
        """Whether the last clause that is not courtesy gives up ("地址改不了的话… 那算了")."""
        clauses = [c for c in self._answer_clauses(norm) if c not in self.courtesy_exact]
        return bool(clauses) and len(clauses) > 1 and _collapse(clauses[-1]) in self.give_up_clauses

    def asks(self, norm: str) -> bool:
        """Whether ``norm`` reads as a question in words (two or more Chinese characters and a
        question cue), as opposed to gibberish, symbols or a lone sound."""
        hanzi = sum(1 for ch in norm if "\u4e00" <= ch <= "\u9fff")
        distinct = len({ch for ch in norm if "\u4e00" <= ch <= "\u9fff"})
        return hanzi >= 3 and distinct >= 3 and any(c in norm for c in self.question_cues)

    def carries_thread(self, norm: str) -> bool:
        """Whether ``norm`` only asks how its thread goes on (「然后呢」, 「哦 要多久」, 「那需要怎么做？」):
        every clause that is not courtesy is a question with no topic of its own."""
        # An acknowledgement before it (「好了 然后呢」) is no topic either.
        clauses = [
            c for c in self._answer_clauses(norm)
            if c not in self.courtesy_exact and c not in self.confirm_exact and c not in self.interjections
        ]
        pattern = self.thread_question
        return pattern is not None and bool(clauses) and all(pattern.match(c) for c in clauses)

    def bare(self, norm: str) -> str:
        """``norm`` without punctuation, particles and symbols: what a bare yes/no looks like."""
        kept = [ch for ch in norm if ch not in self.filler_chars and (ch.isalnum() or ch == " ")]
        return "".join(kept).strip()


def _words(values: list[object]) -> tuple[str, ...]:
    return tuple(normalize(str(v)) for v in values if str(v).strip())


def _compile(pattern: object, name: str) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise ConfigError(f"lexicon.yaml {name}: bad pattern: {exc}") from exc


def _thread_question(raw: Any) -> re.Pattern[str]:
    """``thread_question``'s parts as one pattern: lead words, then 「然后」 and an ask or an ask
    alone, then tail particles."""
    try:
        lead, then, tail = f"(?:{raw['lead']})*", f"(?:{raw['then']})", f"(?:{raw['tail']})*"
        ask = "(?:" + "|".join(f"(?:{a})" for a in raw["ask"]) + ")"
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"lexicon.yaml thread_question: needs lead, then, ask (a list) and tail: {exc}") from exc
    return _compile(f"^{lead}(?:{then}{lead}{ask}?|{ask}){tail}$", "thread_question")


@lru_cache(maxsize=4)
def load_lexicon(data_dir: Path = DATA_DIR) -> Lexicon:
    """Read ``lexicon.yaml``, ``rules.yaml`` and ``provinces.tsv``; bad data raises ConfigError."""
    try:
        raw = yamlfiles.read(data_dir / "lexicon.yaml")
        raw_rules = yamlfiles.read(data_dir / "rules.yaml")
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"router data unreadable: {exc}") from exc
    negated = _compile(raw["negated_action"], "negated_action")
    rules = []
    for i, r in enumerate(raw_rules or []):
        if r.get("intent") not in CANONICAL_INTENTS:
            raise ConfigError(f"rules.yaml[{i}]: intent {r.get('intent')!r} is not canonical")
        try:
            pattern = re.compile(str(r["pattern"]))
            unless = re.compile(str(r["unless"])) if r.get("unless") else None
        except (KeyError, re.error) as exc:
            raise ConfigError(f"rules.yaml[{i}] ({r.get('name')}): bad pattern: {exc}") from exc
        not_after = negated if r["intent"] in CHANGE_INTENTS else None
        rules.append(Rule(str(r["name"]), r["intent"], str(r.get("fine") or r["intent"]), pattern, unless, not_after))
    provinces = []
    for line in (data_dir / "provinces.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            short, _, full = line.partition("\t")
            provinces.append((short.strip(), full.strip()))
    provinces.sort(key=lambda p: -len(p[0]))
    bare = lambda key: frozenset(
        "".join(ch for ch in normalize(str(w)) if ch not in str(raw["filler_chars"])).strip()
        for w in raw[key]
    )
    return Lexicon(
        confirm_exact=bare("confirm_exact"),
        deny_exact=bare("deny_exact"),
        decline_clause=_compile(raw["decline_clause"], "decline_clause"),
        negated_if=_compile(raw["negated_if"], "negated_if"),
        filler_chars=str(raw["filler_chars"]),
        threat_words=_words(raw["threat_words"]),
        anger_strong=_words(raw["anger_strong"]),
        anger_weak=_words(raw["anger_weak"]),
        quality_words=_words(raw["quality_words"]),
        complaint_words=_words(raw.get("complaint_words", [])),
        address_words=_words(raw["address_words"]),
        no_reason_words=_words(raw["no_reason_words"]),
        status_hints={k: _words(v) for k, v in raw["status_hints"].items()},
        pronouns=_words(raw["pronouns"]),
        ordinals={normalize(k): int(v) for k, v in raw["ordinals"].items()},
        quantity_units=_words(raw["quantity_units"]),
        thanks_words=_words(raw.get("thanks_words", [])),
        question_cues=_words(raw.get("question_cues", [])),
        bye_words=_words(raw.get("bye_words", [])),
        provinces=tuple(provinces),
        rules=tuple(rules),
        courtesy_exact=bare("courtesy_exact"),
        courtesy_prefix=_compile(raw["courtesy_prefix"], "courtesy_prefix"),
        courtesy_suffix=_compile(raw["courtesy_suffix"], "courtesy_suffix"),
        interjections=frozenset(normalize(str(w)) for w in raw["interjections"]),
        closing_no=bare("closing_no"),
        firm_yes_words=_words(raw["firm_yes_words"]),
        give_up_clauses=frozenset(_collapse(w) for w in bare("give_up_clauses")),
        quality_pattern=_compile(raw["quality_pattern"], "quality_pattern"),
        thread_question=_thread_question(raw["thread_question"]),
    )
