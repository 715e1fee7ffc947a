"""Prompts and reply templates are files in ``prompts/`` that declare their variables.

A prompt is a Markdown file with YAML front matter::

    ---
    variables: [persona_name, shop_name]
    ---
    你是{shop_name}的客服{persona_name}……

``prompts/templates.yaml`` holds the template drafter's phrases, each with its variables::

    stock_in: {variables: [item, stock], text: "{item}有货，库存{stock}件"}

``prompts/brief.yaml`` holds, in the same form, the lines in which the language model is told
the facts (:mod:`bot.drafting.brief`). Their entries are named ``t.KEY`` and ``b.KEY``.

Placeholders use ``str.format`` syntax (``{{`` for a literal brace). At start-up
:meth:`PromptSet.require` checks that every prompt the code renders exists and declares
exactly the variables the code passes; any mismatch raises :class:`ConfigError` naming the
prompt and the variable.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import yamlfiles
from bot.config import PROJECT_ROOT
from bot.errors import ConfigError

PROMPTS_DIR = PROJECT_ROOT / "prompts"
TEMPLATES_FILE = "templates.yaml"
BRIEF_FILE = "brief.yaml"
# Files of phrases and the prefix of their entries' names.
PHRASE_FILES = {TEMPLATES_FILE: "t", BRIEF_FILE: "b"}
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    variables: frozenset[str]
    source: str

    def render(self, **values: Any) -> str:
        missing = self.variables - values.keys()
        if missing:
            raise ConfigError(f"{self.source}: variable {sorted(missing)[0]!r} was not given")
        unknown = values.keys() - self.variables
        if unknown:
            raise ConfigError(f"{self.source}: variable {sorted(unknown)[0]!r} is not declared")
        return self.text.format(**values)


def _placeholders(text: str, source: str) -> set[str]:
    names: set[str] = set()
    try:
        for _, field, _, _ in _FORMATTER.parse(text):
            if field is None:
                continue
            name = field.split(".")[0].split("[")[0]
            if not name.isidentifier():
                raise ConfigError(f"{source}: placeholder {{{field}}} is not a variable name")
            names.add(name)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return names


def _make(name: str, text: str, declared: Any, source: str) -> Prompt:
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise ConfigError(f"{source}: 'variables' must be a list of names")
    used = _placeholders(text, source)
    undeclared = used - set(declared)
    if undeclared:
        raise ConfigError(f"{source}: variable {sorted(undeclared)[0]!r} is used but not declared")
    unused = set(declared) - used
    if unused:
        raise ConfigError(f"{source}: variable {sorted(unused)[0]!r} is declared but not used")
    return Prompt(name, text.strip(), frozenset(declared), source)


def _front_matter(path: Path) -> tuple[dict[str, Any], str]:
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---"):
        raise ConfigError(f"{path.name}: a prompt starts with front matter declaring its variables")
    _, head, body = raw.split("---", 2)
    meta = yamlfiles.parse(head) or {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{path.name}: front matter must be a mapping")
    return meta, body


def _phrases(path: Path, prefix: str) -> dict[str, Prompt]:
    """The entries of a phrase file (absent: none), named ``prefix.KEY``."""
    if not path.exists():
        return {}
    data = yamlfiles.read(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: must map template names to entries")
    out: dict[str, Prompt] = {}
    for key, entry in data.items():
        source = f"{path.name}:{key}"
        if not isinstance(entry, dict) or "text" not in entry:
            raise ConfigError(f"{source}: needs 'text' and 'variables'")
        name = f"{prefix}.{key}"
        out[name] = _make(name, str(entry["text"]), entry.get("variables", []), source)
    return out


class PromptSet:
    """Every prompt of a directory (``*.md``) plus its ``templates.yaml`` entries."""

    def __init__(self, prompts: Mapping[str, Prompt]) -> None:
        self._prompts = dict(prompts)

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR) -> PromptSet:
        if not directory.is_dir():
            raise ConfigError(f"prompts directory {directory} does not exist")
        prompts: dict[str, Prompt] = {}
        for path in sorted(directory.glob("*.md")):
            meta, body = _front_matter(path)
            prompts[path.stem] = _make(path.stem, body, meta.get("variables", []), path.name)
        for filename, prefix in PHRASE_FILES.items():
            prompts.update(_phrases(directory / filename, prefix))
        return cls(prompts)

    def require(self, name: str, variables: Iterable[str]) -> None:
        """Fail unless prompt ``name`` exists and declares exactly ``variables``."""
        prompt = self._prompts.get(name)
        if prompt is None:
            raise ConfigError(f"prompt {name!r} is missing from the prompts directory")
        wanted = set(variables)
        missing = wanted - prompt.variables
        if missing:
            raise ConfigError(f"{prompt.source}: variable {sorted(missing)[0]!r} is not declared")
        unknown = prompt.variables - wanted
        if unknown:
            raise ConfigError(f"{prompt.source}: unknown variable {sorted(unknown)[0]!r}")

    def render(self, name: str, **values: Any) -> str:
        prompt = self._prompts.get(name)
        if prompt is None:
            raise ConfigError(f"prompt {name!r} is missing from the prompts directory")
        return prompt.render(**values)

    def __contains__(self, name: object) -> bool:
        return name in self._prompts

    def names(self) -> list[str]:
        return sorted(self._prompts)
