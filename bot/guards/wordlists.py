"""Word lists of the guards, read from ``bot/guards/data/*.txt`` (one term a line, ``#`` comments)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from bot.text.normalize import normalize

DATA = Path(__file__).parent / "data"

# A term preceded by one of these (within a few characters) is a refusal or a warning,
# e.g. "请勿私下转账", "无法给您补偿" — not the thing the guard looks for.
NEGATIONS = ("不要", "不会", "不能", "不可", "不支持", "不提供", "无法", "没法", "没有", "请勿", "切勿", "勿", "别", "不")
_NEG_WINDOW = 4


@cache
def load_terms(name: str) -> tuple[str, ...]:
    """Normalised terms of ``data/<name>.txt``, longest first."""
    path = DATA / f"{name}.txt"
    terms = {
        normalize(line.split("#", 1)[0].strip())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    }
    return tuple(sorted((t for t in terms if t), key=lambda t: (-len(t), t)))


class TermMatcher:
    """Finds the terms of one list in normalised text with a single compiled regex."""

    def __init__(self, terms: tuple[str, ...], *, allow: tuple[str, ...] = ()) -> None:
        if not terms:
            raise ValueError("a TermMatcher needs at least one term")
        self._pattern = re.compile("|".join(_term_regex(t) for t in terms))
        self._allow = re.compile("|".join(re.escape(a) for a in allow)) if allow else None

    def find(self, normalized: str, *, skip_negated: bool = False) -> list[str]:
        found: list[str] = []
        for _, term in self.positions(normalized, skip_negated=skip_negated):
            if term not in found:
                found.append(term)
        return found

    def positions(self, normalized: str, *, skip_negated: bool = False) -> list[tuple[int, str]]:
        """Every occurrence of a term, with where it starts."""
        text = self._allow.sub("※", normalized) if self._allow else normalized
        return [
            (m.start(), m.group(0))
            for m in self._pattern.finditer(text)
            if not (skip_negated and _negated(text, m.start()))
        ]


def _term_regex(term: str) -> str:
    # ASCII terms ("qq", "vx") must stand alone, or "vxl" and sku codes would match.
    escaped = re.escape(term)
    if term.isascii():
        return rf"(?<![a-z0-9]){escaped}(?![a-z0-9])"
    return escaped


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - _NEG_WINDOW) : start]
    return any(neg in before for neg in NEGATIONS)


@cache
def matcher(name: str, allow: str | None = None) -> TermMatcher:
    return TermMatcher(load_terms(name), allow=load_terms(allow) if allow else ())


_LIST_REF = re.compile(r"\{list:([a-z_]+)\}")


@cache
def load_patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """Regular expressions of ``data/<name>.txt``, one a line (a line starting with ``#`` is
    a comment; ``#`` elsewhere is part of the pattern). ``{list:<other>}`` stands for the
    terms of ``data/<other>.txt`` as an alternation."""
    path = DATA / f"{name}.txt"
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        source = _LIST_REF.sub(lambda m: "(?:" + "|".join(re.escape(t) for t in load_terms(m.group(1))) + ")", line)
        try:
            patterns.append(re.compile(source))
        except re.error as exc:
            raise ValueError(f"{path.name}:{number}: {exc}") from exc
    return tuple(patterns)

