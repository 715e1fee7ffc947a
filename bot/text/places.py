"""Places buyers name: provincial regions by name or by one of their larger cities.

General geography, not shop data: ``data/cities.tsv`` maps cities to their region, and the
provinces come from the router's ``provinces.tsv``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.text.normalize import normalize

DATA = Path(__file__).parent / "data"


def _flat(text: str) -> str:
    return "".join(filter(str.isalnum, text.lower()))


@lru_cache(maxsize=1)
def _cities() -> tuple[tuple[str, str], ...]:
    out = []
    for line in (DATA / "cities.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            city, _, region = line.partition("\t")
            out.append((normalize(city.strip()), region.strip()))
    return tuple(out)


def regions_in(text: str) -> list[str]:
    """Provincial regions ``text`` names, by name or by one of their cities (拉萨 → 西藏)."""
    from bot.router.lexicon import load_lexicon

    norm = _flat(normalize(text))
    found: list[str] = []
    for short, full in load_lexicon().provinces:
        if short and (short in norm or _flat(full) in norm) and short not in found:
            found.append(short)
    for city, region in _cities():
        if city in norm and region not in found:
            found.append(region)
    return found
