"""YAML reading that keeps money exact and remembers where every key stands."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

import yaml


class ShopYamlLoader(yaml.SafeLoader):
    """SafeLoader whose floats become ``Decimal`` (168.00 stays 168.00, never 168.0000001)."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)


ShopYamlLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def parse(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into data plus its node tree (for line numbers)."""
    node = yaml.compose(text, Loader=ShopYamlLoader)
    data = yaml.load(text, Loader=ShopYamlLoader)  # noqa: S506 - SafeLoader subclass
    return data, node


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
