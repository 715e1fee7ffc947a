"""Masking for exported chat logs: what :func:`bot.guards.pii.mask_pii` masks before text
goes to a model (phones, ID and bank cards, e-mail, street addresses), and the buyer's
names — the nick and every recipient name on the buyer's orders."""

from __future__ import annotations

from collections.abc import Iterable

from bot.guards.pii import mask_pii


def mask_name(name: str) -> str:
    """``王芳`` → ``王*``; ``棉花糖不甜`` → ``棉****``."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*"


class Masker:
    """Masks personal data of one buyer in any text."""

    def __init__(self, names: Iterable[str]) -> None:
        # Longest first, so a name inside another is not half-masked.
        self._names = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = mask_pii(text)
        for name in self._names:
            text = text.replace(name, mask_name(name))
        return text
