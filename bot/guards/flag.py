"""A guard's finding on a reply: a stable ``code`` and a human-readable ``detail``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

AD_LAW = "ad_law"
OFF_PLATFORM = "off_platform"
POLICY_PROMISE = "policy_promise"
UNSUPPORTED_NUMBER = "unsupported_number"
DATA_LEAK = "data_leak"
PROMPT_LEAK = "prompt_leak"
LINK_OR_CONTACT = "link_or_contact"  # a URL, domain, QR code, account or contact handle

CODES = (AD_LAW, OFF_PLATFORM, POLICY_PROMISE, UNSUPPORTED_NUMBER, DATA_LEAK, PROMPT_LEAK, LINK_OR_CONTACT)
_WRITTEN = re.compile(rf"(?<![a-z_])({'|'.join(CODES)}): ([^；;]*)")
_NAMES = Path(__file__).parent / "data" / "flag_names.tsv"


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    @property
    def name(self) -> str:
        """The flag's Chinese name (``无依据的数字``), for people."""
        return _names().get(self.code, self.code)


@cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for line in _NAMES.read_text(encoding="utf-8").splitlines():
        code, _, name = line.partition("\t")
        if code and name and not code.startswith("#"):
            names[code.strip()] = name.strip()
    return names


def describe(flags: list[Flag]) -> str:
    """``无依据的数字（9.9）；链接或站外联系方式（www.x.cn）`` — the flags for a person to read."""
    return "；".join(f"{f.name}（{f.detail}）" if f.detail else f.name for f in flags)


def flags_in(text: str | None) -> list[Flag]:
    """The flags a recorded reason names, written as ``str(flag)`` and joined with ``；`` —
    e.g. the fallback reason ``guards failed twice: unsupported_number: 9.9；…``."""
    found: list[Flag] = []
    for m in _WRITTEN.finditer(text or ""):
        flag = Flag(m.group(1), m.group(2).strip())
        if flag not in found:
            found.append(flag)
    return found
