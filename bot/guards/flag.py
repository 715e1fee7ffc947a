"""A guard's finding on a reply: a stable ``code`` and a human-readable ``detail``."""

from __future__ import annotations

from dataclasses import dataclass

AD_LAW = "ad_law"
OFF_PLATFORM = "off_platform"
POLICY_PROMISE = "policy_promise"
UNSUPPORTED_NUMBER = "unsupported_number"
DATA_LEAK = "data_leak"
PROMPT_LEAK = "prompt_leak"


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"
