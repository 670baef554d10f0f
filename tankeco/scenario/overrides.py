"""The ``--set`` language: ``SECTION.KEY=VALUE`` overrides applied to parsed TOML.

``tank.length_cm=80``, ``animals[1].count=2``, ``params.mu_max_aob_d=1.2``,
``tap.no3_n_mg_l=40 ppm NO3`` (units need no quotes), ``pump.outages=[{start_d=10,
duration_h=6}]``.  The schema, not the data, says which keys exist, so a typo is refused
with the keys that exist before anything is set; values are validated afterwards with
the rest of the scenario, so errors show the value as given.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from tankeco.errors import ScenarioError
from tankeco.scenario.messages import SEGMENT, did_you_mean, unwrap_optional
from tankeco.scenario.schema import Scenario

#: What ``--set`` expects, for messages.
SET_HELP = "expected SECTION.KEY=VALUE, e.g. tank.length_cm=60, animals[0].count=2"


def deep_copy(value: Any) -> Any:
    """A copy of parsed TOML that overrides can change without touching the original."""
    if isinstance(value, Mapping):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep_copy(v) for v in value]
    return value


def override_raw(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply overrides to parsed TOML (before validation, so errors show given values)."""
    result: dict[str, Any] = deep_copy(data)
    for text in overrides:
        _apply_one(result, text)
    return result


def _parse_path(text: str) -> tuple[str, list[tuple[str, int | None]], str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    segments: list[tuple[str, int | None]] = []
    for part in key.split("."):
        m = SEGMENT.fullmatch(part)
        if m is None:
            segments = []
            break
        segments.append((m.group(1), None if m.group(2) is None else int(m.group(2))))
    if not sep or not segments:
        raise ScenarioError("--set", text, SET_HELP)
    return key, segments, value


def _parse_value(text: str, annotation: Any) -> Any:
    """TOML value if it is one, else the text itself; text fields always keep the text.

    So ``scenario.name=2024`` is the name "2024", and ``tap.no3_n_mg_l=40 ppm NO3`` needs
    no quotes on the command line.
    """
    wants_text = (
        unwrap_optional(annotation) is str
        or typing.get_origin(unwrap_optional(annotation)) is Literal
    )
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    if set(parsed) != {"v"} or (wants_text and not isinstance(parsed["v"], str)):
        return text
    return parsed["v"]


def _apply_one(data: dict[str, Any], text: str) -> None:
    """Set one ``path=value`` in parsed TOML, walking the schema alongside the data.

    The schema, not the data, says which keys exist: a file may leave a whole table out
    and still have it overridden, while a typo is refused with the keys that exist.
    """
    key, segments, value_text = _parse_path(text)
    table: type[BaseModel] | None = Scenario  # None while inside [params]
    node: dict[str, Any] = data
    here = ""
    for i, (name, index) in enumerate(segments):
        last = i == len(segments) - 1
        here = f"{here}.{name}" if here else name
        if table is None:  # params: any name, checked against tankeco.scenario.params later
            if index is not None or not last:
                raise ScenarioError(key, value_text, "expected params.NAME=NUMBER")
            annotation: Any = float
        elif name in table.model_fields:
            annotation = unwrap_optional(table.model_fields[name].annotation)
        else:
            what = "section" if i == 0 else "key"
            fields = table.model_fields
            raise ScenarioError(
                key,
                value_text,
                f"unknown {what}{did_you_mean(name, fields)}; allowed: {', '.join(fields)}",
            )
        container: Any = node
        slot: str | int = name
        if index is not None:
            if typing.get_origin(annotation) is not list:
                raise ScenarioError(key, value_text, f"{here} is not a list; drop the [{index}]")
            items = node.get(name)
            count = len(items) if isinstance(items, list) else 0
            if index >= count:
                have = f"indices 0 to {count - 1}" if count else "no items"
                raise ScenarioError(
                    key, value_text, f"no item {index}: {here} has {have} in this scenario"
                )
            container, slot = items, index
            here = f"{here}[{index}]"
            annotation = typing.get_args(annotation)[0]
        if last:
            container[slot] = _parse_value(value_text, annotation)
            return
        if typing.get_origin(annotation) is list:
            raise ScenarioError(key, value_text, f"{here} is a list; write {here}[0]...")
        in_params = typing.get_origin(annotation) is dict
        if not (in_params or (isinstance(annotation, type) and issubclass(annotation, BaseModel))):
            raise ScenarioError(key, value_text, f"{here} is a value, not a table")
        child = container[slot] if slot in container or isinstance(slot, int) else None
        if child is None:
            child = container[slot] = {}
        elif not isinstance(child, dict):
            raise ScenarioError(here, child, f"expected a table to set {key} in")
        node = child
        table = None if in_params else annotation
