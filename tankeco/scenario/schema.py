"""The scenario schema: one tank, its stock, its care routine and the run settings.

Every TOML table is a frozen, strict pydantic model whose unknown keys are errors.
Numbers are in the unit their key names; text such as ``"40 ppm NO3"`` is converted by
:mod:`tankeco.units.parse` as it is validated, so nothing downstream ever handles a unit.
Cross-checks (a bed deeper than the tank, lights that never switch) raise errors that
:mod:`tankeco.scenario.messages` turns into one line naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tankeco.errors import ScenarioError
from tankeco.scenario import params as model_params
from tankeco.scenario.messages import did_you_mean, is_optional, own_error, unwrap_optional
from tankeco.scenario.toml_writer import document
from tankeco.units import parse as units

#: First line of a scenario written by :meth:`Scenario.to_toml`.
_TOML_COMMENT = "# tankeco scenario (written by Scenario.to_toml; numbers in the units of the keys)"

AnimalKind = Literal["turtle", "fish"]
TimeOfDay = Annotated[float, Field(ge=0, lt=24)]


class Table(BaseModel):
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
        if value is None and is_optional(annotation):
            return value
        kind = unwrap_optional(annotation)
        if kind is float:
            try:
                return units.parse_quantity(name, value)
            except ScenarioError as exc:
                raise own_error(exc.allowed) from None
        if kind is int:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise own_error("expected a whole number")
        return value


class ScenarioInfo(Table):
    """``[scenario]``: what this file describes."""

    name: str = "seed tank"
    description: str = ""


class Tank(Table):
    """``[tank]``: inner dimensions; the water depth is measured above the bed surface."""

    length_cm: float = Field(60.0, gt=0)
    width_cm: float = Field(40.0, gt=0)
    height_cm: float = Field(40.0, gt=0)
    water_depth_cm: float = Field(25.0, gt=0)
    evaporation_mm_d: float = Field(2.0, ge=0)


class Bed(Table):
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
            raise own_error(
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


class Animal(Table):
    """``[[animals]]``: a group of animals of one kind and size."""

    kind: AnimalKind
    count: int = Field(ge=0)
    body_mass_g: float = Field(gt=0)
    name: str | None = None


class Feed(Table):
    """``[[feeds]]``: one feeding routine; the amount is dry feed for the whole group."""

    name: str
    eaten_by: AnimalKind
    amount_g: float = Field(gt=0)
    protein_fraction: float = Field(ge=0, le=1)
    interval_d: float = Field(gt=0)
    time_of_day_h: TimeOfDay = 9.0
    uneaten_fraction: float = Field(0.1, ge=0, le=1)
    first_day_d: float = Field(0.0, ge=0)


class Lights(Table):
    """``[lights]``: photoperiod, hours of the day."""

    on_h: TimeOfDay = 8.0
    off_h: TimeOfDay = 20.0

    @model_validator(mode="after")
    def _on_differs_from_off(self) -> Lights:
        if self.on_h == self.off_h:
            raise own_error(
                f"allowed any hour but on_h ({self.on_h:g} h): the lights would never switch",
                "off_h",
                self.off_h,
            )
        return self


class Plants(Table):
    """``[plants]``: a nitrogen sink; 0 uptake means no plants."""

    uptake_max_mg_n_d: float = Field(0.0, ge=0)
    description: str = ""


class Temperature(Table):
    """``[temperature]``: heater setpoint."""

    setpoint_c: float = Field(25.0, ge=0, le=40)


class Tap(Table):
    """``[tap]``: the water used for changes and top-ups."""

    tan_mg_l: float = Field(0.0, ge=0)
    no2_n_mg_l: float = Field(0.0, ge=0)
    no3_n_mg_l: float = Field(2.0, ge=0)
    alk_mg_l_caco3: float = Field(100.0, ge=0)
    ph: float = Field(7.5, ge=4, le=10)


class WaterChanges(Table):
    """``[water_changes]``: partial changes of the water column with tap water."""

    enabled: bool = True
    fraction: float = Field(0.25, gt=0, le=1)
    interval_d: float = Field(7.0, gt=0)
    first_day_d: float = Field(7.0, ge=0)
    time_of_day_h: TimeOfDay = 10.0


class TopUp(Table):
    """``[top_up]``: replacing evaporated water with tap water."""

    enabled: bool = True
    interval_d: float = Field(1.0, gt=0)
    time_of_day_h: TimeOfDay = 9.0


class Dosing(Table):
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
            raise own_error(
                f"allowed less than target_tan_mg_l ({self.target_tan_mg_l:g} mg N/L)",
                "threshold_tan_mg_l",
                self.threshold_tan_mg_l,
            )
        return self


class Buffer(Table):
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
            raise own_error(
                f"allowed less than target_alk_mg_l_caco3 ({self.target_alk_mg_l_caco3:g})",
                "min_alk_mg_l_caco3",
                self.min_alk_mg_l_caco3,
            )
        return self


class Filter(Table):
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


class Start(Table):
    """``[start]``: the state on day 0; concentrations left out are chosen by the model."""

    state: Literal["new", "mature"] = "mature"
    tan_mg_l: float | None = Field(None, ge=0)
    no2_n_mg_l: float | None = Field(None, ge=0)
    no3_n_mg_l: float | None = Field(None, ge=0)
    #: alkalinity of the water on day 0 (default: the tap water's); DIC follows at tap pH
    alk_mg_l_caco3: float | None = Field(None, ge=0)


class Outage(Table):
    """``[[pump.outages]]``: a planned pump stop."""

    start_d: float = Field(ge=0)
    duration_h: float = Field(gt=0)


class RandomOutages(Table):
    """``[pump.random_outages]``: failures drawn with mean time between and to repair."""

    mtbf_d: float = Field(gt=0)
    mttr_h: float = Field(gt=0)
    seed: int = Field(0, ge=0)


class Pump(Table):
    """``[pump]``: the pump feeding the under-bed pipes, and when it stops."""

    flow_l_h: float = Field(1000.0, ge=0)
    outages: list[Outage] = Field(default_factory=list)
    random_outages: RandomOutages | None = None


class Output(Table):
    """``[output]``: sampling of the results."""

    step_h: float = Field(1.0, gt=0)


class Simulation(Table):
    """``[simulation]``: length of the run and the seed of every random draw."""

    days: float = Field(90.0, gt=0, le=3650)
    seed: int = Field(0, ge=0)


class Scenario(Table):
    """One validated scenario.  Frozen: derive variants with
    :func:`~tankeco.scenario.loading.apply_overrides`."""

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
                allowed = "unknown parameter" + did_you_mean(name, model_params.PARAMETERS)
                allowed += "; 'tankeco params' lists them"
            raise own_error(allowed, name, exc.value) from None
        return {name: float(v) for name, v in value.items()}

    @model_validator(mode="after")
    def _fits_in_tank(self) -> Scenario:
        room_cm = self.tank.height_cm - self.bed.depth_cm
        if room_cm <= 0:
            raise own_error(
                f"allowed less than tank.height_cm ({self.tank.height_cm:g} cm)",
                "bed.depth_cm",
                self.bed.depth_cm,
            )
        if self.tank.water_depth_cm > room_cm:
            raise own_error(
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
        """This scenario as TOML that :func:`~tankeco.scenario.loading.parse_scenario` reads back
        equal.

        Every value is written (defaults too), so the file documents the whole run.
        """
        return document(self, _TOML_COMMENT)
