"""Error messages for TOML tables: one line naming the dotted key, the value and what is allowed.

The keeper edits scenario and layout files by hand, and a pydantic traceback tells him
nothing; these helpers turn the first pydantic error into a
:class:`~tankeco.errors.ScenarioError` (``tank.water_depth_cm = 50: deeper than the tank
allows ...``).  They know the schema only through the root model they are given, so the
layout files (:mod:`tankeco.hydraulics.layout_file`) use them too.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from tankeco.errors import ScenarioError
from tankeco.units import parse as units

#: Error type of the problems tankeco finds itself (units, cross-checks, params).
OWN_ERROR = "tankeco"

#: One segment of a dotted key: a name with an optional index (``outages[0]``).
SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


class _Missing:
    """Stands for a required key the file leaves out, so messages can show it."""

    def __repr__(self) -> str:
        return "(not given)"


MISSING: Any = _Missing()


def own_error(allowed: str, field: str | None = None, value: object = None) -> Exception:
    """A pydantic error carrying our message; ``field`` extends the location it is raised at.

    Model validators run on a whole table, so they say which of its keys is wrong.
    """
    return PydanticCustomError(
        OWN_ERROR, "{allowed}", {"allowed": allowed, "field": field, "value": value}
    )


def unwrap_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def is_optional(annotation: Any) -> bool:
    """True for ``X | None``: a key the file may leave out for the model to choose."""
    return typing.get_origin(annotation) in (types.UnionType, typing.Union) and type(
        None
    ) in typing.get_args(annotation)


def one_line(text: str) -> str:
    """``text`` with every run of white space (newlines too) made one space."""
    return " ".join(text.split())


def did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or '' if none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def dotted(loc: Sequence[str | int]) -> str:
    """('pump', 'outages', 0, 'start_d') -> 'pump.outages[0].start_d'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def loc_of(path: str) -> tuple[str | int, ...]:
    """'pump.outages[0].start_d' -> ('pump', 'outages', 0, 'start_d')."""
    loc: list[str | int] = []
    for part in path.split("."):
        m = SEGMENT.fullmatch(part)
        if m is None:
            loc.append(part)
            continue
        loc.append(m.group(1))
        if m.group(2) is not None:
            loc.append(int(m.group(2)))
    return tuple(loc)


def raw_at(data: Any, loc: Sequence[str | int]) -> Any:
    """The value the user gave at ``loc`` (before unit conversion), or MISSING."""
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def schema_at(
    root: type[BaseModel], loc: Sequence[str | int]
) -> tuple[type[BaseModel] | None, Any, Any]:
    """(owning table, FieldInfo, annotation) of the key at ``loc`` under ``root``; None where
    unknown."""
    annotation: Any = root
    owner: type[BaseModel] | None = None
    info: Any = None
    for part in loc:
        annotation = unwrap_optional(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(part, int):
            if origin is not list:
                return None, None, None
            annotation, owner, info = typing.get_args(annotation)[0], None, None
        elif origin is dict:
            annotation, owner, info = typing.get_args(annotation)[1], None, None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part)
            if info is None:
                return annotation, None, None
            owner, annotation = annotation, info.annotation
        else:
            return None, None, None
    return owner, info, annotation


def describe(loc: Sequence[str | int], annotation: Any) -> str:
    """What the key at ``loc`` holds, as the end of 'expected ...'."""
    inner = unwrap_optional(annotation)
    origin = typing.get_origin(inner)
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(inner))
    if inner is float:
        return units.expected(name)
    if inner is int:
        return "a whole number"
    if inner is bool:
        return "true or false"
    if inner is str:
        return "text in quotes"
    if origin is list:
        return f"an array of tables [[{dotted(loc)}]]"
    if origin is dict:
        return f"a table [{dotted(loc)}] of NAME = number"
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        keys = ", ".join(inner.model_fields)
        if loc and isinstance(loc[-1], int):
            return f"an [[{dotted(loc[:-1])}]] table with keys {keys}"
        return f"a table [{dotted(loc)}] with keys {keys}"
    return "a valid value"


def range_text(info: Any, key: str) -> str:
    """The whole allowed range of a field ('allowed 0 to 1'), whichever bound was broken."""
    lo = hi = None
    lo_open = hi_open = False
    for m in getattr(info, "metadata", ()):
        if isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Ge):
            lo, lo_open = m.ge, False
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
        elif isinstance(m, at.Le):
            hi, hi_open = m.le, False
    unit = units.key_unit(key) or ""
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        text = {
            (False, False): f"allowed {lo:g} to {hi:g}{u}",
            (False, True): f"allowed {lo:g} to less than {hi:g}{u}",
            (True, False): f"allowed more than {lo:g}, up to {hi:g}{u}",
            (True, True): f"allowed more than {lo:g} and less than {hi:g}{u}",
        }[(lo_open, hi_open)]
    elif lo is not None:
        text = f"allowed more than {lo:g}{u}" if lo_open else f"allowed {lo:g}{u} or more"
    elif hi is not None:
        text = f"allowed less than {hi:g}{u}" if hi_open else f"allowed at most {hi:g}{u}"
    else:
        return "out of range"
    if unit == "" and units.allowed_units(key) == "%":
        text += " (or a percentage such as '25%')"
    return text


RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def scenario_error(
    exc: ValidationError, data: Mapping[str, Any], root: type[BaseModel]
) -> ScenarioError:
    """The first pydantic error of validating ``data`` as ``root``, as a one-line
    :class:`ScenarioError`."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given: Any = err.get("input", MISSING)
    if kind == OWN_ERROR:
        if ctx.get("field"):
            loc = loc + loc_of(ctx["field"])
            given = ctx.get("value", MISSING)
        allowed = ctx["allowed"]
    else:
        owner, info, annotation = schema_at(root, loc)
        key_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
        if kind == "extra_forbidden":
            fields = list(owner.model_fields) if owner is not None else []
            what = "section" if len(loc) == 1 else "key"
            hint = did_you_mean(str(loc[-1]), fields)
            allowed = f"unknown {what}{hint}; allowed: " + ", ".join(fields)
        elif kind == "missing":
            allowed = f"required; expected {describe(loc, annotation)}"
        elif kind in RANGE_ERRORS:
            allowed = range_text(info, key_name)
            converted = err.get("input")
            raw = raw_at(data, loc)
            if isinstance(raw, str) and isinstance(converted, float):
                unit = units.key_unit(key_name)
                allowed += f" (got {converted:g}{' ' + unit if unit else ''})"
        else:
            allowed = f"expected {describe(loc, annotation)}"
    raw = raw_at(data, loc)
    if raw is not MISSING:
        given = raw
    if kind == "missing":
        given = MISSING
    more = len(errors) - 1
    if more:
        allowed += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(dotted(loc), given, one_line(allowed))
