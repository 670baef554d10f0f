"""Reading scenarios: a TOML file (or the embedded seed tank), ``--set`` overrides, validation.

``load_scenario()`` reads a file, applies overrides and validates everything into a frozen
:class:`~tankeco.scenario.schema.Scenario`.  Whatever is wrong comes back as one
:class:`~tankeco.errors.ScenarioError` naming the dotted key (``animals[0].kind``), the
value given and what is allowed; a file that cannot be read or is not TOML is a
:class:`~tankeco.errors.UserError`.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tankeco.errors import UserError
from tankeco.scenario.messages import one_line, scenario_error
from tankeco.scenario.overrides import deep_copy, override_raw
from tankeco.scenario.schema import Scenario

#: File name of the embedded default scenario (the keeper's tank) in ``tankeco/data``.
DEFAULT_SCENARIO = "seed_tank.toml"


def default_scenario_text() -> str:
    """The embedded seed-tank TOML, for ``load_scenario(None)`` and for copying."""
    return (importlib.resources.files("tankeco") / "data" / DEFAULT_SCENARIO).read_text(
        encoding="utf-8"
    )


def load_scenario(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override and validate a scenario file; ``None`` means the embedded seed tank.

    Raises :class:`UserError` for a file that cannot be read or is not TOML and
    :class:`ScenarioError` for anything the schema refuses.
    """
    if path is None:
        return parse_scenario(
            default_scenario_text(), source=f"<embedded {DEFAULT_SCENARIO}>", overrides=overrides
        )
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such scenario file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a scenario .toml file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        # An empty file used to run as the seed tank with no animals: a different tank.
        raise UserError(
            f"{path}: the scenario file is empty; allowed: a scenario TOML (copy"
            " sims/seed_tank.toml), or no file for the embedded seed tank"
        )
    scenario = parse_scenario(text, source=str(path), overrides=overrides)
    return _anchor_layout(scenario, path.parent)


def _anchor_layout(scenario: Scenario, base: Path) -> Scenario:
    """Make a relative ``filter.layout`` path relative to the scenario file's folder."""
    name = scenario.filter.layout
    if name is None or Path(name).is_absolute() or not name.endswith(".toml"):
        return scenario
    candidate = (base / name).resolve()
    if not candidate.exists() and Path(name).exists():
        candidate = Path(name).resolve()
    return scenario.model_copy(
        update={"filter": scenario.filter.model_copy(update={"layout": str(candidate)})}
    )


def parse_scenario(text: str, source: str = "<text>", overrides: Sequence[str] = ()) -> Scenario:
    """Validate scenario TOML given as text; ``source`` names it in syntax errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: not valid TOML: {one_line(str(exc))}") from None
    return validate_scenario(override_raw(data, overrides))


def validate_scenario(data: Mapping[str, Any]) -> Scenario:
    """A :class:`Scenario` from plain data (parsed TOML), with our one-line errors."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(exc, data, Scenario) from None


def apply_overrides(base: Scenario | Mapping[str, Any], overrides: Sequence[str]) -> Scenario:
    """A new scenario: ``base`` with ``"section.key=value"`` overrides applied.

    Keys are checked against the schema before anything is set, so a typo is reported
    with the keys that exist instead of being set and then refused.
    """
    if isinstance(base, Scenario):
        data: dict[str, Any] = base.model_dump(exclude_none=True)
    else:
        data = deep_copy(base)
    return validate_scenario(override_raw(data, overrides))
