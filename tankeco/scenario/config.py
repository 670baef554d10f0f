"""The scenario: one tank, its stock, its care routine and the run settings, from TOML.

``load_scenario()`` reads a TOML file (or the embedded seed tank), applies ``--set``
overrides and validates everything into a frozen :class:`Scenario`.  Whatever is wrong
comes back as one :class:`~tankeco.errors.ScenarioError` naming the dotted key
(``animals[0].kind``), the value given and what is allowed, because the keeper edits these
files by hand and a pydantic traceback tells him nothing.

Numbers are in the unit their key names; text such as ``"40 ppm NO3"`` is converted at
this edge by :mod:`tankeco.units.parse`, so nothing downstream ever handles a unit.
"""

from __future__ import annotations

import difflib
import importlib.resources
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types as at
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tankeco.errors import ScenarioError, UserError
from tankeco.scenario import params as model_params
from tankeco.units import parse as units

#: File name of the embedded default scenario (the keeper's tank) in ``tankeco/data``.
DEFAULT_SCENARIO = "seed_tank.toml"

#: Error type of the problems this module finds itself (units, cross-checks, params).
_OWN_ERROR = "tankeco"

AnimalKind = Literal["turtle", "fish"]
TimeOfDay = Annotated[float, Field(ge=0, lt=24)]


class _Missing:
    """Stands for a required key the file leaves out, so messages can show it."""

    def __repr__(self) -> str:
        return "(not given)"


MISSING: Any = _Missing()


def _own_error(allowed: str, field: str | None = None, value: object = None) -> Exception:
    """A pydantic error carrying our message; ``field`` extends the location it is raised at.

    Model validators run on a whole table, so they say which of its keys is wrong.
    """
    return PydanticCustomError(
        _OWN_ERROR, "{allowed}", {"allowed": allowed, "field": field, "value": value}
    )


def _unwrap_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (types.UnionType, typing.Union) and type(
        None
    ) in typing.get_args(annotation)


class _Table(BaseModel):
    """Base of every TOML table: unknown keys are errors, values are frozen and strict.

    Strict, because lax coercion would turn ``enabled = "no"`` into something; the one
    leniency we want, units on numbers, is done explicitly by ``_numbers_with_units``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_with_units(cls, value: Any, info: ValidationInfo) -> Any:
        """Convert every float field through :func:`tankeco.units.parse.parse_quantity`.

        Integer fields accept whole floats (``count = 2.0``) but not booleans.
        """
        name = info.field_name
        assert name is not None
        annotation = cls.model_fields[name].annotation
        if value is None and _is_optional(annotation):
            return value
        kind = _unwrap_optional(annotation)
        if kind is float:
            try:
                return units.parse_quantity(name, value)
            except ScenarioError as exc:
                raise _own_error(exc.allowed) from None
        if kind is int:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise _own_error("expected a whole number")
        return value


class ScenarioInfo(_Table):
    """``[scenario]``: what this file describes."""

    name: str = "seed tank"
    description: str = ""


class Tank(_Table):
    """``[tank]``: inner dimensions; the water depth is measured above the bed surface."""

    length_cm: float = Field(60.0, gt=0)
    width_cm: float = Field(40.0, gt=0)
    height_cm: float = Field(40.0, gt=0)
    water_depth_cm: float = Field(25.0, gt=0)
    evaporation_mm_d: float = Field(2.0, ge=0)


class Bed(_Table):
    """``[bed]``: the ceramsite bed that is the biofilter."""

    depth_cm: float = Field(8.0, gt=0)
    grain_min_mm: float = Field(5.0, gt=0)
    grain_max_mm: float = Field(15.0, gt=0)
    porosity: float = Field(0.45, gt=0, lt=1)
    specific_surface_m2_m3: float | None = Field(None, gt=0)
    zones: int = Field(8, ge=1, le=64)

    @model_validator(mode="after")
    def _grains_ordered(self) -> Bed:
        if self.grain_max_mm < self.grain_min_mm:
            raise _own_error(
                f"allowed at least grain_min_mm ({self.grain_min_mm:g} mm)",
                "grain_max_mm",
                self.grain_max_mm,
            )
        return self

    @property
    def specific_surface_effective_m2_m3(self) -> float:
        """Biofilm area per bed volume: as given, else the geometric 6(1-eps)/d.

        d is the mean of the grain range.  The geometric value counts only the outside of
        the pebbles; makers' figures including internal pores are far higher and are an
        upper bound (docs/references.md, expanded clay), hence it is the default.
        """
        if self.specific_surface_m2_m3 is not None:
            return self.specific_surface_m2_m3
        mean_grain_m = (self.grain_min_mm + self.grain_max_mm) / 2.0 / 1000.0
        return 6.0 * (1.0 - self.porosity) / mean_grain_m


class Animal(_Table):
    """``[[animals]]``: a group of animals of one kind and size."""

    kind: AnimalKind
    count: int = Field(ge=0)
    body_mass_g: float = Field(gt=0)
    name: str | None = None


class Feed(_Table):
    """``[[feeds]]``: one feeding routine; the amount is dry feed for the whole group."""

    name: str
    eaten_by: AnimalKind
    amount_g: float = Field(gt=0)
    protein_fraction: float = Field(ge=0, le=1)
    interval_d: float = Field(gt=0)
    time_of_day_h: TimeOfDay = 9.0
    uneaten_fraction: float = Field(0.1, ge=0, le=1)
    first_day_d: float = Field(0.0, ge=0)


class Lights(_Table):
    """``[lights]``: photoperiod, hours of the day."""

    on_h: TimeOfDay = 8.0
    off_h: TimeOfDay = 20.0

    @model_validator(mode="after")
    def _on_differs_from_off(self) -> Lights:
        if self.on_h == self.off_h:
            raise _own_error(
                f"allowed any hour but on_h ({self.on_h:g} h): the lights would never switch",
                "off_h",
                self.off_h,
            )
        return self


class Plants(_Table):
    """``[plants]``: a nitrogen sink; 0 uptake means no plants."""

    uptake_max_mg_n_d: float = Field(0.0, ge=0)
    description: str = ""


class Temperature(_Table):
    """``[temperature]``: heater setpoint."""

    setpoint_c: float = Field(25.0, ge=0, le=40)


class Tap(_Table):
    """``[tap]``: the water used for changes and top-ups."""

    tan_mg_l: float = Field(0.0, ge=0)
    no2_n_mg_l: float = Field(0.0, ge=0)
    no3_n_mg_l: float = Field(2.0, ge=0)
    alk_mg_l_caco3: float = Field(100.0, ge=0)
    ph: float = Field(7.5, ge=4, le=10)


class WaterChanges(_Table):
    """``[water_changes]``: partial changes of the water column with tap water."""

    enabled: bool = True
    fraction: float = Field(0.25, gt=0, le=1)
    interval_d: float = Field(7.0, gt=0)
    first_day_d: float = Field(7.0, ge=0)
    time_of_day_h: TimeOfDay = 10.0


class TopUp(_Table):
    """``[top_up]``: replacing evaporated water with tap water."""

    enabled: bool = True
    interval_d: float = Field(1.0, gt=0)
    time_of_day_h: TimeOfDay = 9.0


class Dosing(_Table):
    """``[dosing]``: ammonia dosing (fishless cycling): top TAN up to the target whenever
    it is below the threshold at the check."""

    enabled: bool = False
    target_tan_mg_l: float = Field(2.0, gt=0)
    threshold_tan_mg_l: float = Field(0.25, ge=0)
    interval_d: float = Field(1.0, gt=0)
    time_of_day_h: TimeOfDay = 9.0
    #: household ammonia (NH4OH) adds one equivalent of alkalinity per mole N as it turns
    #: into NH4+; ammonium chloride adds none.
    chemical: Literal["ammonia_solution", "ammonium_chloride"] = "ammonia_solution"

    @model_validator(mode="after")
    def _threshold_below_target(self) -> Dosing:
        if self.threshold_tan_mg_l >= self.target_tan_mg_l:
            raise _own_error(
                f"allowed less than target_tan_mg_l ({self.target_tan_mg_l:g} mg N/L)",
                "threshold_tan_mg_l",
                self.threshold_tan_mg_l,
            )
        return self


class Buffer(_Table):
    """``[buffer]``: baking soda (NaHCO3) whenever alkalinity has fallen below a minimum at
    the check, back up to the target - what keepers do when KH drops."""

    enabled: bool = False
    min_alk_mg_l_caco3: float = Field(60.0, ge=0)
    target_alk_mg_l_caco3: float = Field(100.0, gt=0)
    interval_d: float = Field(1.0, gt=0)
    time_of_day_h: TimeOfDay = 9.0

    @model_validator(mode="after")
    def _min_below_target(self) -> Buffer:
        if self.min_alk_mg_l_caco3 >= self.target_alk_mg_l_caco3:
            raise _own_error(
                f"allowed less than target_alk_mg_l_caco3 ({self.target_alk_mg_l_caco3:g})",
                "min_alk_mg_l_caco3",
                self.min_alk_mg_l_caco3,
            )
        return self


class Filter(_Table):
    """``[filter]``: the perforated pipes under the bed and which way the water moves.

    ``layout`` names a layout file (``sims/layouts/*.toml``; a path relative to the
    scenario file, or the name of a layout shipped with tankeco such as
    ``"seed_same_path"``).  With a layout, the pump's flow and its split over the bed
    zones come from the solved pipe network, re-solved every ``resolve_interval_d`` as
    retained solids clog the bed; without one, ``pump.flow_l_h`` is split evenly.
    ``direction`` "up" is the reverse-flow filter (water rises through the bed; waste
    settles on the surface by area); "down" the conventional one (waste is carried into
    the bed with the flow).
    """

    layout: str | None = None
    direction: Literal["up", "down"] = "up"
    resolve_interval_d: float = Field(1.0, gt=0)


class Start(_Table):
    """``[start]``: the state on day 0; concentrations left out are chosen by the model."""

    state: Literal["new", "mature"] = "mature"
    tan_mg_l: float | None = Field(None, ge=0)
    no2_n_mg_l: float | None = Field(None, ge=0)
    no3_n_mg_l: float | None = Field(None, ge=0)
    #: alkalinity of the water on day 0 (default: the tap water's); DIC follows at tap pH
    alk_mg_l_caco3: float | None = Field(None, ge=0)


class Outage(_Table):
    """``[[pump.outages]]``: a planned pump stop."""

    start_d: float = Field(ge=0)
    duration_h: float = Field(gt=0)


class RandomOutages(_Table):
    """``[pump.random_outages]``: failures drawn with mean time between and to repair."""

    mtbf_d: float = Field(gt=0)
    mttr_h: float = Field(gt=0)
    seed: int = Field(0, ge=0)


class Pump(_Table):
    """``[pump]``: the pump feeding the under-bed pipes, and when it stops."""

    flow_l_h: float = Field(1000.0, ge=0)
    outages: list[Outage] = Field(default_factory=list)
    random_outages: RandomOutages | None = None


class Output(_Table):
    """``[output]``: sampling of the results."""

    step_h: float = Field(1.0, gt=0)


class Simulation(_Table):
    """``[simulation]``: length of the run and the seed of every random draw."""

    days: float = Field(90.0, gt=0, le=3650)
    seed: int = Field(0, ge=0)


class Scenario(_Table):
    """One validated scenario.  Frozen: derive variants with :func:`apply_overrides`."""

    scenario: ScenarioInfo = Field(default_factory=ScenarioInfo)
    tank: Tank = Field(default_factory=Tank)
    bed: Bed = Field(default_factory=Bed)
    animals: list[Animal] = Field(default_factory=list)
    feeds: list[Feed] = Field(default_factory=list)
    lights: Lights = Field(default_factory=Lights)
    plants: Plants = Field(default_factory=Plants)
    temperature: Temperature = Field(default_factory=Temperature)
    tap: Tap = Field(default_factory=Tap)
    water_changes: WaterChanges = Field(default_factory=WaterChanges)
    top_up: TopUp = Field(default_factory=TopUp)
    dosing: Dosing = Field(default_factory=Dosing)
    buffer: Buffer = Field(default_factory=Buffer)
    start: Start = Field(default_factory=Start)
    filter: Filter = Field(default_factory=Filter)
    pump: Pump = Field(default_factory=Pump)
    output: Output = Field(default_factory=Output)
    simulation: Simulation = Field(default_factory=Simulation)
    #: Model-parameter overrides only (name -> value); :attr:`parameters` has them all.
    params: dict[str, float] = Field(default_factory=dict)

    @field_validator("params", mode="before")
    @classmethod
    def _known_params(cls, value: Any) -> Any:
        """Check names and ranges against :mod:`tankeco.scenario.params` (the parameter table)."""
        if not isinstance(value, Mapping):
            return value
        try:
            model_params.resolve(value)
        except ScenarioError as exc:
            name = exc.key.removeprefix("params.")
            allowed = exc.allowed
            if allowed.startswith("a number"):
                allowed = "expected " + allowed
            if name not in model_params.PARAMETERS:
                allowed = "unknown parameter" + _did_you_mean(name, model_params.PARAMETERS)
                allowed += "; 'tankeco params' lists them"
            raise _own_error(allowed, name, exc.value) from None
        return {name: float(v) for name, v in value.items()}

    @model_validator(mode="after")
    def _fits_in_tank(self) -> Scenario:
        room_cm = self.tank.height_cm - self.bed.depth_cm
        if room_cm <= 0:
            raise _own_error(
                f"allowed less than tank.height_cm ({self.tank.height_cm:g} cm)",
                "bed.depth_cm",
                self.bed.depth_cm,
            )
        if self.tank.water_depth_cm > room_cm:
            raise _own_error(
                f"deeper than the tank allows (at most {room_cm:g} cm above the "
                f"{self.bed.depth_cm:g} cm bed in a {self.tank.height_cm:g} cm tall tank)",
                "tank.water_depth_cm",
                self.tank.water_depth_cm,
            )
        return self

    # --- derived quantities ---------------------------------------------------------
    @property
    def bed_area_m2(self) -> float:
        """Footprint of the tank, which the bed covers wall to wall."""
        return self.tank.length_cm * self.tank.width_cm / 1e4

    @property
    def water_volume_l(self) -> float:
        """Free water column above the bed surface (what a water change draws from)."""
        return self.tank.length_cm * self.tank.width_cm * self.tank.water_depth_cm / 1000.0

    @property
    def bed_volume_l(self) -> float:
        """Bulk volume of the bed, pebbles and pores together."""
        return self.tank.length_cm * self.tank.width_cm * self.bed.depth_cm / 1000.0

    @property
    def pore_volume_l(self) -> float:
        """Water held between the pebbles."""
        return self.bed_volume_l * self.bed.porosity

    @property
    def total_water_l(self) -> float:
        """Water column plus pore water: the volume the nitrogen is spread through."""
        return self.water_volume_l + self.pore_volume_l

    @property
    def parameters(self) -> dict[str, float]:
        """Every model parameter: the defaults of :mod:`tankeco.scenario.params` with ``params``."""
        return model_params.resolve(self.params)

    def to_toml(self) -> str:
        """This scenario as TOML that :func:`parse_scenario` reads back equal.

        Every value is written (defaults too), so the file documents the whole run.
        """
        return _to_toml(self)


# --- reading --------------------------------------------------------------------------


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
        raise UserError(f"{source}: not valid TOML: {_one_line(str(exc))}") from None
    return validate_scenario(_override_raw(data, overrides))


def validate_scenario(data: Mapping[str, Any]) -> Scenario:
    """A :class:`Scenario` from plain data (parsed TOML), with our one-line errors."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _scenario_error(exc, data) from None


def apply_overrides(base: Scenario | Mapping[str, Any], overrides: Sequence[str]) -> Scenario:
    """A new scenario: ``base`` with ``"section.key=value"`` overrides applied.

    Keys are checked against the schema before anything is set, so a typo is reported
    with the keys that exist instead of being set and then refused.
    """
    if isinstance(base, Scenario):
        data: dict[str, Any] = base.model_dump(exclude_none=True)
    else:
        data = _deep_copy(base)
    return validate_scenario(_override_raw(data, overrides))


# --- overrides ------------------------------------------------------------------------

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
_SET_HELP = "expected SECTION.KEY=VALUE, e.g. tank.length_cm=60, animals[0].count=2"


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v) for v in value]
    return value


def _override_raw(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply overrides to parsed TOML (before validation, so errors show given values)."""
    result: dict[str, Any] = _deep_copy(data)
    for text in overrides:
        _apply_one(result, text)
    return result


def _parse_path(text: str) -> tuple[str, list[tuple[str, int | None]], str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    segments: list[tuple[str, int | None]] = []
    for part in key.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            segments = []
            break
        segments.append((m.group(1), None if m.group(2) is None else int(m.group(2))))
    if not sep or not segments:
        raise ScenarioError("--set", text, _SET_HELP)
    return key, segments, value


def _parse_value(text: str, annotation: Any) -> Any:
    """TOML value if it is one, else the text itself; text fields always keep the text.

    So ``scenario.name=2024`` is the name "2024", and ``tap.no3_n_mg_l=40 ppm NO3`` needs
    no quotes on the command line.
    """
    wants_text = (
        _unwrap_optional(annotation) is str
        or typing.get_origin(_unwrap_optional(annotation)) is Literal
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
            annotation = _unwrap_optional(table.model_fields[name].annotation)
        else:
            what = "section" if i == 0 else "key"
            fields = table.model_fields
            raise ScenarioError(
                key,
                value_text,
                f"unknown {what}{_did_you_mean(name, fields)}; allowed: {', '.join(fields)}",
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


# --- errors ---------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _loc_of(path: str) -> tuple[str | int, ...]:
    """'pump.outages[0].start_d' -> ('pump', 'outages', 0, 'start_d')."""
    loc: list[str | int] = []
    for part in path.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            loc.append(part)
            continue
        loc.append(m.group(1))
        if m.group(2) is not None:
            loc.append(int(m.group(2)))
    return tuple(loc)


def _raw_at(data: Any, loc: Sequence[str | int]) -> Any:
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


def _schema_at(loc: Sequence[str | int]) -> tuple[type[BaseModel] | None, Any, Any]:
    """(owning table, FieldInfo, annotation) of the key at ``loc``; None where unknown."""
    annotation: Any = Scenario
    owner: type[BaseModel] | None = None
    info: Any = None
    for part in loc:
        annotation = _unwrap_optional(annotation)
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


def _describe(loc: Sequence[str | int], annotation: Any) -> str:
    """What the key at ``loc`` holds, as the end of 'expected ...'."""
    inner = _unwrap_optional(annotation)
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
        return f"an array of tables [[{_dotted(loc)}]]"
    if origin is dict:
        return f"a table [{_dotted(loc)}] of NAME = number"
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        keys = ", ".join(inner.model_fields)
        if loc and isinstance(loc[-1], int):
            return f"an [[{_dotted(loc[:-1])}]] table with keys {keys}"
        return f"a table [{_dotted(loc)}] with keys {keys}"
    return "a valid value"


def _range(info: Any, key: str) -> str:
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


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _scenario_error(exc: ValidationError, data: Mapping[str, Any]) -> ScenarioError:
    """The first pydantic error as a one-line :class:`ScenarioError`."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given: Any = err.get("input", MISSING)
    if kind == _OWN_ERROR:
        if ctx.get("field"):
            loc = loc + _loc_of(ctx["field"])
            given = ctx.get("value", MISSING)
        allowed = ctx["allowed"]
    else:
        owner, info, annotation = _schema_at(loc)
        key_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
        if kind == "extra_forbidden":
            fields = list(owner.model_fields) if owner is not None else []
            what = "section" if len(loc) == 1 else "key"
            hint = _did_you_mean(str(loc[-1]), fields)
            allowed = f"unknown {what}{hint}; allowed: " + ", ".join(fields)
        elif kind == "missing":
            allowed = f"required; expected {_describe(loc, annotation)}"
        elif kind in _RANGE_ERRORS:
            allowed = _range(info, key_name)
            converted = err.get("input")
            raw = _raw_at(data, loc)
            if isinstance(raw, str) and isinstance(converted, float):
                unit = units.key_unit(key_name)
                allowed += f" (got {converted:g}{' ' + unit if unit else ''})"
        else:
            allowed = f"expected {_describe(loc, annotation)}"
    raw = _raw_at(data, loc)
    if raw is not MISSING:
        given = raw
    if kind == "missing":
        given = MISSING
    more = len(errors) - 1
    if more:
        allowed += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(_dotted(loc), given, _one_line(allowed))


# --- writing --------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")  # schema has no others


def _write_table(lines: list[str], header: str, table: BaseModel, array: bool) -> None:
    """Scalars under ``[header]`` (``[[header]]``), then sub-tables, then arrays of tables."""
    lines.append("")
    lines.append(f"[[{header}]]" if array else f"[{header}]")
    subtables: list[tuple[str, BaseModel]] = []
    arrays: list[tuple[str, list[BaseModel]]] = []
    for name in type(table).model_fields:
        value = getattr(table, name)
        if value is None:
            continue  # absent in TOML means "model chooses"
        if isinstance(value, BaseModel):
            subtables.append((name, value))
        elif isinstance(value, list):
            arrays.append((name, value))
        else:
            lines.append(f"{_toml_key(name)} = {_toml_value(value)}")
    for name, sub in subtables:
        _write_table(lines, f"{header}.{name}", sub, array=False)
    for name, items in arrays:
        for item in items:
            _write_table(lines, f"{header}.{name}", item, array=True)


def _to_toml(scenario: Scenario) -> str:
    lines = ["# tankeco scenario (written by Scenario.to_toml; numbers in the units of the keys)"]
    for name in Scenario.model_fields:
        value = getattr(scenario, name)
        if isinstance(value, BaseModel):
            _write_table(lines, name, value, array=False)
        elif isinstance(value, list):
            for item in value:
                _write_table(lines, name, item, array=True)
        elif isinstance(value, dict) and value:
            lines.append("")
            lines.append(f"[{name}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"
