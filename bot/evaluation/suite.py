"""Transcript suites (transcript-format.md): the models and the loader.

A suite that breaks the format is never half-run: :func:`load_suites` reads every file
first and raises :class:`SuiteInvalid` naming each file, case and key at fault. Intent and
action names are checked against the canonical lists, so a typo is an error rather than a
turn that can never pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError, ShopInvalid
from bot.evaluation.vocabulary import canonical
from bot.shop import Shop, load_shop
from bot.shop import yamlio
from bot.shop.models import Order
from bot.workbench.actions import STAFF_ACTIONS, StaffAction

SUITE_SUFFIXES = (".yaml", ".yml")
REPLY_KEYS = ("reply_contains", "reply_any", "reply_not_contains")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


def _as_list(value: Any) -> Any:
    """A single string stands for a one-element list (``intent: refund``)."""
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    return value


class Expect(_Strict):
    """What one turn must do; every key is optional."""

    intent: list[str] | None = None
    action: list[str] | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_any: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    handoff: bool | None = None
    outbound_contains: list[str] = Field(default_factory=list)
    outbound_any: list[str] = Field(default_factory=list)
    outbound_not_contains: list[str] = Field(default_factory=list)
    outbound: Literal["none"] | None = None  # nothing was sent unprompted since the last turn

    @field_validator("intent", "action", "reply_contains", "reply_any", "reply_not_contains",
                     "outbound_contains", "outbound_any", "outbound_not_contains", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("intent")
    @classmethod
    def _known_intents(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            known = canonical().intents
            if not value:
                raise ValueError("an empty list of intents can never match")
            for name in value:
                if name not in known:
                    raise ValueError(f"unknown intent {name!r} (known: {', '.join(known)})")
        return value

    @field_validator("action")
    @classmethod
    def _known_actions(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            known = (*canonical().expectable_actions, *STAFF_ACTIONS)
            if not value:
                raise ValueError("an empty list of actions can never match")
            for name in value:
                if name not in known:
                    raise ValueError(f"unknown action {name!r} (known: {', '.join(known)})")
        return value

    @field_validator("reply_contains", "reply_any", "reply_not_contains",
                     "outbound_contains", "outbound_any", "outbound_not_contains")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("a blank string matches every reply")
        return value

    def is_empty(self) -> bool:
        return self == Expect()

    def expects_outbound(self) -> bool:
        return bool(self.outbound_contains or self.outbound_any or self.outbound_not_contains or self.outbound)

    @model_validator(mode="after")
    def _outbound_none_alone(self) -> Expect:
        if self.outbound == "none" and (self.outbound_contains or self.outbound_any):
            raise ValueError("outbound: none cannot also expect outbound messages")
        return self


TurnKind = Literal["user", "wait", "staff"]
_WAIT = re.compile(r"^(?:\d+[smhd])+$")
_WAIT_PART = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_OUTBOUND_KEYS = frozenset({"outbound_contains", "outbound_any", "outbound_not_contains", "outbound"})
_STAFF_KEYS = frozenset({"action", *REPLY_KEYS, *_OUTBOUND_KEYS})


def parse_wait(text: str) -> timedelta:
    """``45m``, ``3d``, ``1h30m`` → a timedelta (units s, m, h, d)."""
    flat = str(text).replace(" ", "")
    if not _WAIT.match(flat):
        raise ValueError(f"wait {text!r} is not a duration like 45m, 2h, 3d or 1h30m (units s, m, h, d)")
    delta = timedelta()
    for amount, unit in _WAIT_PART.findall(flat):
        delta += timedelta(**{_UNIT[unit]: int(amount)})
    if delta <= timedelta():
        raise ValueError("wait must move the clock forward")
    return delta


class Turn(_Strict):
    """One turn: a buyer message (``user``), the clock moving on (``wait``) or a workbench
    action of the shop's staff (``staff``)."""

    user: str | None = None  # may be empty: how the bot takes a blank message is worth testing too
    wait: str | None = None
    staff: StaffAction | None = None
    expect: Expect = Field(default_factory=Expect)

    @field_validator("wait", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError(f"wait {value!r} needs a unit: s, m, h or d (e.g. 45m)")
        parse_wait(value)
        return value.strip()

    @model_validator(mode="after")
    def _one_kind(self) -> Turn:
        given = [k for k in ("user", "wait", "staff") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a turn is exactly one of user, wait or staff")
        used = set(self.expect.model_dump(exclude_defaults=True))
        if self.kind == "wait" and used - _OUTBOUND_KEYS:
            bad = ", ".join(sorted(used - _OUTBOUND_KEYS))
            raise ValueError(f"a wait turn can only expect outbound messages, not {bad}")
        staff_actions = set(STAFF_ACTIONS)
        if self.kind == "staff":
            if used - _STAFF_KEYS:
                bad = ", ".join(sorted(used - _STAFF_KEYS))
                raise ValueError(f"a staff turn can expect action, reply and outbound keys, not {bad}")
            wrong = set(self.expect.action or []) - staff_actions - {canonical().no_action}
            if wrong:
                raise ValueError(f"a staff turn's action is a staff action or none, not {', '.join(sorted(wrong))}")
        elif self.kind == "user" and set(self.expect.action or []) & staff_actions:
            raise ValueError("a buyer turn cannot expect a staff action")
        return self

    @property
    def kind(self) -> TurnKind:
        if self.wait is not None:
            return "wait"
        return "staff" if self.staff is not None else "user"

    @property
    def wait_delta(self) -> timedelta:
        assert self.wait is not None
        return parse_wait(self.wait)

    @property
    def label(self) -> str:
        """How the turn reads in a report."""
        if self.wait is not None:
            return f"wait: {self.wait}"
        if self.staff is not None:
            return f"staff: {self.staff.action} {self.staff.tid}"
        return self.user or ""


class FinalState(_Strict):
    """Partial orders keyed by tid, in the ``orders.yaml`` schema."""

    orders: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("orders", mode="before")
    @classmethod
    def _tid_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


class Case(_Strict):
    id: str = Field(min_length=1)
    buyer: str = Field(min_length=1)
    now: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    turns: list[Turn] = Field(min_length=1)
    final_state: FinalState | None = None


class SuiteFile(_Strict):
    suite: str = Field(min_length=1)
    shop: str = Field(min_length=1)
    now: datetime | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedCase:
    """A case ready to run: its clock resolved to an aware datetime."""

    case: Case
    now: datetime

    @property
    def id(self) -> str:
        return self.case.id


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    shop: Shop
    cases: tuple[LoadedCase, ...]


@dataclass(frozen=True)
class SuiteProblem:
    """One thing wrong with a suite: the file, the case (if any), the key and what is wrong."""

    file: str
    message: str
    case: str | None = None
    key: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.case is not None:
            parts.append(f"case {self.case!r}")
        if self.key:
            parts.append(self.key)
        return " ".join(parts) + f": {self.message}"


class SuiteInvalid(ConfigError):
    """One or more suites break the transcript format; nothing was run."""

    def __init__(self, problems: list[SuiteProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def find_suite_files(paths: Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """Suite files named directly (``True``) or found recursively in the folders named."""
    found: dict[Path, bool] = {}
    problems: list[SuiteProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.suffix in SUITE_SUFFIXES and p.is_file():
                    found.setdefault(p.resolve(), False)
        elif path.is_file():
            found[path.resolve()] = True
        else:
            problems.append(SuiteProblem(str(path), "no such file or folder"))
    if problems:
        raise SuiteInvalid(problems)
    if not found:
        raise SuiteInvalid([SuiteProblem(", ".join(str(p) for p in paths), "no suite files found")])
    return list(found.items())


def _looks_like_suite(data: Any) -> bool:
    """A file found in a folder is a suite when it has ``suite`` or ``cases``; other YAML
    there (e.g. a labelled retrieval set) is left alone. A file named directly must be one."""
    return isinstance(data, dict) and ("suite" in data or "cases" in data)


def load_suites(
    paths: Iterable[str | Path],
    *,
    shop_override: str | Path | None = None,
    skipped: list[Path] | None = None,
) -> list[Suite]:
    """Load every suite under ``paths`` or raise :class:`SuiteInvalid` listing all problems.

    ``shop_override`` runs every suite against that shop directory instead of its own.
    YAML files in the folders that are not suites are appended to ``skipped``.
    """
    paths = list(paths)
    files = find_suite_files(paths)
    shops = _ShopCache()
    suites: list[Suite] = []
    problems: list[SuiteProblem] = []
    for file, explicit in files:
        suite, found = _load_one(file, shops, shop_override, explicit)
        problems.extend(found)
        if suite is not None:
            suites.append(suite)
        elif not found and skipped is not None:
            skipped.append(file)
    if problems:
        raise SuiteInvalid(problems)
    if not suites:
        raise SuiteInvalid([SuiteProblem(", ".join(str(p) for p in paths), "no suite files found")])
    return suites


def load_suite(path: str | Path, *, shop_override: str | Path | None = None) -> Suite:
    return load_suites([path], shop_override=shop_override)[0]


class _ShopCache:
    def __init__(self) -> None:
        self._shops: dict[Path, Shop | ShopInvalid] = {}

    def get(self, root: Path) -> Shop | ShopInvalid:
        root = root.resolve()
        if root not in self._shops:
            try:
                self._shops[root] = load_shop(root)
            except ShopInvalid as exc:
                self._shops[root] = exc
        return self._shops[root]


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_one(
    file: Path, shops: _ShopCache, shop_override: str | Path | None, explicit: bool = True
) -> tuple[Suite | None, list[SuiteProblem]]:
    name = _display(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SuiteProblem(name, f"cannot read: {exc}")]
    try:
        data, node = yamlio.parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [
            SuiteProblem(
                name,
                f"YAML syntax error: {getattr(exc, 'problem', None) or exc}",
                line=mark.line + 1 if mark is not None else None,
            )
        ]
    if not explicit and not _looks_like_suite(data):
        return None, []
    if not isinstance(data, dict):
        return None, [SuiteProblem(name, "a suite is a mapping with suite, shop, now and cases")]
    try:
        parsed = SuiteFile.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(name, data, node, err) for err in exc.errors()]

    problems: list[SuiteProblem] = []
    seen: set[str] = set()
    for i, case in enumerate(parsed.cases):
        if case.id in seen:
            problems.append(
                SuiteProblem(name, "case id is used twice in this suite", case.id, f"cases.{i}.id",
                             yamlio.line_of(node, ["cases", i, "id"]))
            )
        seen.add(case.id)
        for tid, partial in (case.final_state.orders if case.final_state else {}).items():
            for key, message in _partial_order_problems(partial):
                loc = ["cases", i, "final_state", "orders", tid, *key.split(".")]
                problems.append(
                    SuiteProblem(name, message, case.id, ".".join(str(p) for p in loc),
                                 yamlio.line_of(node, loc))
                )

    shop_dir = Path(shop_override) if shop_override else (file.parent / parsed.shop)
    loaded = shops.get(shop_dir)
    if isinstance(loaded, ShopInvalid):
        detail = "; ".join(str(p) for p in loaded.problems[:3])
        problems.append(SuiteProblem(name, f"shop {shop_dir} cannot be loaded: {detail}", key="shop",
                                     line=yamlio.line_of(node, ["shop"])))
        return None, problems
    shop = loaded

    cases: list[LoadedCase] = []
    tids = {o.tid for o in shop.orders}
    for i, case in enumerate(parsed.cases):
        where = lambda *loc: yamlio.line_of(node, ["cases", i, *loc])  # noqa: E731
        if case.buyer not in shop.buyers:
            problems.append(SuiteProblem(name, f"buyer {case.buyer!r} is not in {shop.info.name}'s orders.yaml",
                                         case.id, f"cases.{i}.buyer", where("buyer")))
        for tid in case.final_state.orders if case.final_state else {}:
            if tid not in tids:
                problems.append(SuiteProblem(name, f"order {tid!r} is not in {shop.info.name}'s orders.yaml",
                                             case.id, f"cases.{i}.final_state.orders.{tid}",
                                             where("final_state", "orders", tid)))
        now = case.now or parsed.now
        if now is None:
            problems.append(SuiteProblem(name, "no clock: give now for the suite or the case",
                                         case.id, f"cases.{i}.now", where()))
            continue
        if now.tzinfo is None:
            now = now.replace(tzinfo=shop.tz)
        cases.append(LoadedCase(case=case, now=now))
    if problems:
        return None, problems
    return Suite(name=parsed.suite, path=file, shop=shop, cases=tuple(cases)), []


def _problem(file: str, data: dict[str, Any], node: yaml.Node | None, err: Any) -> SuiteProblem:
    loc = list(err["loc"])
    case_id: str | None = None
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        raw_cases = data.get("cases")
        if isinstance(raw_cases, list) and loc[1] < len(raw_cases) and isinstance(raw_cases[loc[1]], dict):
            raw_id = raw_cases[loc[1]].get("id")
            case_id = str(raw_id) if raw_id is not None else f"#{loc[1] + 1}"
    # pydantic adds the validator's list index for list[str] fields; keep the key readable
    key = ".".join(str(p) for p in loc) or "(top level)"
    return SuiteProblem(file, _message(err), case_id, key, yamlio.line_of(node, loc))


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not in the transcript format)"
    if err["type"] == "missing":
        return "required key is missing"
    return str(err["msg"]).removeprefix("Value error, ")


def _partial_order_problems(partial: Any) -> list[tuple[str, str]]:
    """Keys of an expected partial order that the ``orders.yaml`` schema does not have."""
    return list(_walk_partial(Order, partial, ""))


def _walk_partial(model: type[BaseModel], value: Any, prefix: str) -> Iterable[tuple[str, str]]:
    if not isinstance(value, dict):
        yield prefix.rstrip(".") or "(order)", f"expected a mapping of {model.__name__} keys"
        return
    for key, sub in value.items():
        field = model.model_fields.get(str(key))
        path = f"{prefix}{key}"
        if field is None:
            yield path, f"unknown key of {model.__name__} (not in the orders.yaml schema)"
            continue
        yield from _walk_annotation(field.annotation, sub, path)


def _walk_annotation(annotation: Any, value: Any, path: str) -> Iterable[tuple[str, str]]:
    if value is None:
        return
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is Literal:
        if str(value) not in {str(a) for a in get_args(annotation)}:
            yield path, f"{value!r} is not one of {', '.join(map(str, get_args(annotation)))}"
        return
    if origin in (list, Sequence):
        if not isinstance(value, list):
            yield path, "expected a list"
            return
        for j, item in enumerate(value):
            yield from _walk_annotation(args[0], item, f"{path}.{j}")
        return
    if args and origin is not None and origin is not list:
        # Optional[X] / Annotated[X, ...]: check against the first concrete type
        for arg in args:
            if get_origin(arg) is Literal or (isinstance(arg, type) and issubclass(arg, BaseModel)) or get_origin(arg) is list:
                yield from _walk_annotation(arg, value, path)
                return
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _walk_partial(annotation, value, f"{path}.")
