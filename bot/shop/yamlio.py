"""YAML reading that keeps money exact and remembers where every key stands.

Files are parsed once with libyaml (``yaml.CSafeLoader``) into data; the node tree that
gives line numbers is composed only for a file with a problem to report. A syntax error is
described by the pure-Python parser, whose messages say what it expected and what it found.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

import yaml

_CLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)


class ShopYamlLoader(yaml.SafeLoader):
    """SafeLoader whose floats become ``Decimal`` (168.00 stays 168.00, never 168.0000001)."""


class FastShopYamlLoader(_CLoader):  # type: ignore[misc, valid-type]
    """The same constructors on libyaml's parser."""


ShopYamlLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
FastShopYamlLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load(text: str) -> Any:
    """Parse YAML text into data. A syntax error is raised as the pure-Python parser
    reports it (the same message and line whichever parser is installed)."""
    try:
        return yaml.load(text, Loader=FastShopYamlLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as fast_error:
        try:
            yaml.load(text, Loader=ShopYamlLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            raise exc from None
        raise fast_error


def compose(text: str) -> yaml.Node | None:
    """The node tree of YAML text (for line numbers); None when it does not parse."""
    try:
        return yaml.compose(text, Loader=FastShopYamlLoader)
    except yaml.YAMLError:
        return None


def parse(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into data plus its node tree (for line numbers)."""
    return load(text), compose(text)


def line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the value at ``loc`` (a pydantic error location), as deep as it goes."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if str(k.value) == str(key)), None)
            if found is None:
                continue  # a discriminator tag or model name inside the location
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
        else:
            continue
        line = node.start_mark.line + 1
    return line
