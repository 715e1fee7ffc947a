"""The project's own YAML data files (lexicons, rules, prompts' phrases, report definitions):
parsed with libyaml (``yaml.CSafeLoader``, several times quicker than the pure-Python parser
every start would otherwise run over them). A syntax error is raised as the pure-Python
parser reports it, with the same message and line whichever parser is installed.

A shop's files are read by :mod:`bot.shop.yamlio`, which keeps money exact and key positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_CLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_CLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as fast_error:
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise exc from None
        raise fast_error


def read(path: Path) -> Any:
    """The data of a UTF-8 YAML file."""
    return parse(path.read_text(encoding="utf-8"))
