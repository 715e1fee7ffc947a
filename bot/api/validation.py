"""Request validation errors in Chinese, naming the field and never echoing the input.

FastAPI reports a bad request as a list of pydantic errors in English, each carrying the
rejected input. The input is left out here: it may be what made the request bad (a lone
surrogate cannot even be written as UTF-8, ``1e999`` is not valid JSON once read back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.api.schemas import UNSTORABLE

# pydantic error type -> message; ``{name}`` takes the value of that key of the error's ctx.
MESSAGES: dict[str, str] = {
    "missing": "不能为空",
    "extra_forbidden": "不是可接受的字段",
    "string_type": "应为字符串",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "应为有效的 UTF-8 文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数字超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "数字超出范围或不是有效数字",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "只能是 {expected}",
    "enum": "只能是 {expected}",
    "datetime_type": "应为日期时间，例如 2026-11-21T10:00:00+08:00",
    "datetime_parsing": "应为日期时间，例如 2026-11-21T10:00:00+08:00",
    "datetime_from_date_parsing": "应为日期时间，例如 2026-11-21T10:00:00+08:00",
    "datetime_object_invalid": "应为日期时间，例如 2026-11-21T10:00:00+08:00",
    "timezone_aware": "须带时区，例如 +08:00",
    "date_type": "应为日期，例如 2026-11-21",
    "date_parsing": "应为日期，例如 2026-11-21",
    "date_from_datetime_parsing": "应为日期，例如 2026-11-21",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    **UNSTORABLE,
}
FALLBACK = "取值不合法"
PLACES = {"body": "请求体", "query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}
MAX_LISTED = 5


@dataclass(frozen=True)
class Problem:
    loc: tuple[str | int, ...]
    field: str
    msg: str
    type: str

    def public(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "field": self.field, "msg": self.msg, "type": self.type}

    def sentence(self) -> str:
        gap = " " if self.field[-1:].isascii() else ""
        return f"{self.field}{gap}{self.msg}"


def problems(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    return [_problem(e) for e in errors]


def summary(found: Sequence[Problem]) -> str:
    """One sentence for ``detail``: "请求参数有误：text 不能为空；score 不能大于 5"."""
    if not found:
        return "请求参数有误"
    listed = "；".join(p.sentence() for p in found[:MAX_LISTED])
    more = f"等 {len(found)} 处" if len(found) > MAX_LISTED else ""
    return f"请求参数有误：{listed}{more}"


def _problem(error: Mapping[str, Any]) -> Problem:
    kind = str(error.get("type", ""))
    loc = tuple(_clean(p) if isinstance(p, str) else p for p in error.get("loc", ()))
    msg = _message(kind, error.get("ctx") or {})
    if kind == "json_invalid" and len(loc) > 1 and isinstance(loc[1], int):
        msg += f"（第 {loc[1] + 1} 个字符处）"
    return Problem(loc=loc, field=_field(loc, kind), msg=msg, type=kind)


def _field(loc: tuple[str | int, ...], kind: str) -> str:
    place, rest = (loc[0], loc[1:]) if loc else ("body", ())
    if kind == "json_invalid":  # loc holds the character offset, not a field
        rest = ()
    names = [str(p) for p in rest]
    if not names:
        return PLACES.get(str(place), str(place))
    return ".".join(names)


def _message(kind: str, ctx: Mapping[str, Any]) -> str:
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return MESSAGES["missing"]
    template = MESSAGES.get(kind)
    if template is None:
        return FALLBACK
    values = {k: _ctx_value(k, v) for k, v in ctx.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # pydantic left out a value the template names
        return FALLBACK


def _ctx_value(key: str, value: Any) -> str:
    text = _clean(str(value), 200)
    if key == "expected":  # "'pending', 'accepted' or 'edited'"
        text = text.replace("'", "").replace(" or ", " / ").replace(", ", " / ")
    return text


def _clean(text: str, limit: int = 64) -> str:
    """Text safe to send back: cut to ``limit`` characters, lone surrogates (as in the name of
    an unknown field) as U+FFFD."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
