"""Reply templates of the flows, read from ``prompts/flows/*.yaml``.

Each entry is ``name: {variables: [...], text: "..."}``. The text may use only declared
variables (checked at load); rendering without a declared variable raises ``ConfigError``
naming it. ``term``, ``bot`` and ``shop`` come from the shop's persona.

A buyer never reads an internal id: when a record id passed in (``refund_id``,
``ticket_id``) is one the id provider made (a prefix and a long hex run) rather than one a
person can read out (``R3``), the template's ``<name>_noid`` variant is used where it exists.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from bot import yamlfiles
from bot.errors import ConfigError
from bot.ids import internal_id
from bot.shop.models import Shop

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "prompts" / "flows"
RECORD_IDS = ("refund_id", "ticket_id")
class FlowTemplates:
    def __init__(self, shop: Shop, directory: Path = DEFAULT_DIR) -> None:
        if not directory.is_dir():
            raise ConfigError(f"flow templates directory not found: {directory}")
        self._persona = {
            "term": shop.info.persona.address_term,
            "bot": shop.info.persona.name,
            "shop": shop.info.name,
        }
        self._templates: dict[str, tuple[frozenset[str], str]] = {}
        for path in sorted(directory.glob("*.yaml")):
            raw = yamlfiles.read(path) or {}
            for name, entry in raw.items():
                if name in self._templates:
                    raise ConfigError(f"{path.name}: template {name!r} defined twice")
                declared = frozenset(entry.get("variables") or [])
                text = entry.get("text")
                if not isinstance(text, str):
                    raise ConfigError(f"{path.name}: template {name!r} has no text")
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
                undeclared = used - declared
                if undeclared:
                    raise ConfigError(
                        f"{path.name}: template {name!r} uses undeclared {sorted(undeclared)}"
                    )
                self._templates[name] = (declared, text)

    def __contains__(self, name: str) -> bool:
        return name in self._templates

    def render(self, template: str, /, **values: Any) -> str:
        if template not in self._templates:
            raise ConfigError(f"no flow template named {template!r}")
        plain = f"{template}_noid"
        if plain in self._templates and any(internal_id(values.get(k)) for k in RECORD_IDS):
            template = plain
        declared, text = self._templates[template]
        merged = {**self._persona, **values}
        missing = sorted(declared - merged.keys())
        if missing:
            raise ConfigError(f"template {template!r} is missing variable(s): {', '.join(missing)}")
        return text.format(**{k: merged[k] for k in declared})
