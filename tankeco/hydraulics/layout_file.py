"""Layout files: the filter plumbing of one tank, in TOML (``sims/layouts/*.toml``).

A layout names a ``shape`` built by :mod:`tankeco.hydraulics.builders` (``end_fed``,
``centre_fed``, ``ladder_u``, ``ladder_z``, ``ring``, ``tree``) or ``free`` with its own
``[[nodes]]``, ``[[pipes]]`` and ``[[holes]]``.  Numbers are in the unit their key names
and accept unit text like the scenario files (``diameter_mm = "3/16 in"`` is not a
number, ``"4.8 mm"`` is).  Whatever is wrong is one :class:`~tankeco.errors.ScenarioError`
naming the dotted key, the value and what is allowed.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from tankeco.errors import ScenarioError, UserError
from tankeco.hydraulics import builders
from tankeco.hydraulics import pump as pumps
from tankeco.hydraulics.network import Bed, Fluid, Network, Pump
from tankeco.hydraulics.solver import SolveOptions
from tankeco.scenario import params
from tankeco.scenario.messages import MISSING, OWN_ERROR, dotted, raw_at
from tankeco.scenario.schema import Table
from tankeco.scenario.toml_writer import document

Shape = Literal["end_fed", "centre_fed", "ladder_u", "ladder_z", "ring", "tree", "free"]


class LayoutInfo(Table):
    """``[layout]``: what this file describes and how to solve it."""

    name: str = "layout"
    description: str = ""
    shape: Shape
    mode: Literal["momentum", "friction"] = "momentum"
    headloss: Literal["darcy-weisbach", "hazen-williams"] = "darcy-weisbach"
    #: momentum mode's hole law: "rawn" (Cd falls with the header's velocity head) or
    #: "constant" (constant Cd on the static head, as EPANET comparisons need)
    port: Literal["rawn", "constant"] = "rawn"


class TankSize(Table):
    """``[tank]``: inner plan size of the tank."""

    length_cm: float = Field(60.0, gt=0)
    width_cm: float = Field(40.0, gt=0)


class BedSpec(Table):
    """``[bed]``: the ceramsite over the pipes (same keys as the scenario's ``[bed]``)."""

    depth_cm: float = Field(8.0, gt=0)
    grain_min_mm: float = Field(5.0, gt=0)
    grain_max_mm: float = Field(15.0, gt=0)
    porosity: float = Field(0.45, gt=0, lt=1)


class PumpSpec(Table):
    """``[pump]``: one of: label (max_flow_l_h + shutoff_head_m), curve, flow_l_h, head_m."""

    max_flow_l_h: float | None = Field(None, gt=0)
    shutoff_head_m: float | None = Field(None, gt=0)
    curve: list[list[float]] | None = None
    flow_l_h: float | None = Field(None, gt=0)
    head_m: float | None = Field(None, gt=0)
    lift_m: float = Field(0.0, ge=0)
    supply_length_cm: float = Field(30.0, ge=0)
    outlet: str = "pump"


class PipeSpec(Table):
    """``[pipe]``: bores and wall roughness (roughness and C default to the params table)."""

    header_diameter_mm: float = Field(16.0, gt=0)
    lateral_diameter_mm: float = Field(12.0, gt=0)
    roughness_mm: float | None = Field(None, ge=0)
    hazen_williams_c: float | None = Field(None, gt=0)


class HoleSpec(Table):
    """``[hole]``: drilled holes along the perforated pipes."""

    diameter_mm: float = Field(4.0, gt=0)
    spacing_cm: float = Field(5.0, gt=0)
    cd: float | None = Field(None, gt=0, le=1)


class ShapeSpec(Table):
    """``[shape]``: the builder's knobs (each shape reads the ones it needs)."""

    margin_cm: float = Field(4.0, gt=0)
    laterals: int = Field(4, ge=1, le=32)
    feed_position: float = Field(0.0, ge=0, le=1)
    header_y_cm: float | None = Field(None, ge=0)
    columns: int = Field(4, ge=1, le=8)


class NodeSpec(Table):
    """``[[nodes]]`` of a free layout."""

    name: str
    x_cm: float
    y_cm: float
    fitting: str = "auto"


class FreePipeSpec(Table):
    """``[[pipes]]`` of a free layout; ``hole_spacing_cm`` drills it along its length."""

    start: str
    end: str
    inner_diameter_mm: float | None = Field(None, gt=0)
    length_cm: float | None = None
    hole_spacing_cm: float | None = Field(None, gt=0)
    minor_k: float = Field(0.0, ge=0)


class FreeHoleSpec(Table):
    """``[[holes]]`` of a free layout: a single hole at a node."""

    node: str
    diameter_mm: float | None = None


class LayoutFile(Table):
    """One validated layout file."""

    layout: LayoutInfo
    tank: TankSize = Field(default_factory=TankSize)
    bed: BedSpec = Field(default_factory=BedSpec)
    pump: PumpSpec = Field(default_factory=PumpSpec)
    pipe: PipeSpec = Field(default_factory=PipeSpec)
    hole: HoleSpec = Field(default_factory=HoleSpec)
    shape: ShapeSpec = Field(default_factory=ShapeSpec)
    nodes: list[NodeSpec] = Field(default_factory=list)
    pipes: list[FreePipeSpec] = Field(default_factory=list)
    holes: list[FreeHoleSpec] = Field(default_factory=list)
    params: dict[str, float] = Field(default_factory=dict)

    # ------------------------------------------------------------ building
    def parameters(self) -> dict[str, float]:
        return params.resolve(self.params)

    def options(self) -> SolveOptions:
        return SolveOptions(
            mode=self.layout.mode, headloss=self.layout.headloss, port=self.layout.port
        )

    def pump_model(self) -> Pump:
        p = self.pump
        given = [
            name
            for name, on in (
                ("max_flow_l_h + shutoff_head_m", p.max_flow_l_h is not None),
                ("curve", p.curve is not None),
                ("flow_l_h", p.flow_l_h is not None),
                ("head_m", p.head_m is not None),
            )
            if on
        ]
        if len(given) != 1:
            raise ScenarioError(
                "pump",
                ", ".join(given) or "(nothing)",
                "give exactly one of: max_flow_l_h with shutoff_head_m (the label), "
                "curve = [[L/h, m], ...], flow_l_h (fixed flow), head_m (fixed head)",
            )
        if p.flow_l_h is not None:
            return Pump(p.outlet, flow_m3_s=p.flow_l_h / 3.6e6, lift_m=p.lift_m)
        if p.head_m is not None:
            curve = pumps.fixed_head(p.head_m)
        elif p.curve is not None:
            if not p.curve or any(len(pt) != 2 for pt in p.curve):
                raise ScenarioError("pump.curve", p.curve, "expected [[flow L/h, head m], ...]")
            curve = pumps.points_curve([pt[0] / 3.6e6 for pt in p.curve], [pt[1] for pt in p.curve])
        else:
            if p.shutoff_head_m is None:
                raise ScenarioError("pump.shutoff_head_m", None, "required with max_flow_l_h")
            curve = pumps.label_curve(p.max_flow_l_h / 3.6e6, p.shutoff_head_m)  # type: ignore[operator]
        return Pump(p.outlet, curve=curve, lift_m=p.lift_m)

    def network(self) -> Network:
        """The layout as a :class:`Network` (raises ScenarioError for impossible set-ups)."""
        par = self.parameters()
        b = self.bed
        if b.grain_max_mm < b.grain_min_mm:
            raise ScenarioError(
                "bed.grain_max_mm",
                b.grain_max_mm,
                f"allowed at least grain_min_mm ({b.grain_min_mm:g})",
            )
        bed = Bed(
            b.depth_cm / 100,
            (b.grain_min_mm + b.grain_max_mm) / 2000,
            b.porosity,
            par["bed_grain_sphericity"],
            par["bed_spread_per_depth"],
        )
        common = builders.Common(
            tank_length_m=self.tank.length_cm / 100,
            tank_width_m=self.tank.width_cm / 100,
            pump=self.pump_model(),
            header_diameter_m=self.pipe.header_diameter_mm / 1000,
            lateral_diameter_m=self.pipe.lateral_diameter_mm / 1000,
            hole_diameter_m=self.hole.diameter_mm / 1000,
            hole_spacing_m=self.hole.spacing_cm / 100,
            hole_cd=self.hole.cd if self.hole.cd is not None else par["hole_cd"],
            roughness_m=(
                self.pipe.roughness_mm
                if self.pipe.roughness_mm is not None
                else par["pipe_roughness_mm"]
            )
            / 1000,
            hazen_williams_c=self.pipe.hazen_williams_c or par["pipe_hazen_williams_c"],
            margin_m=self.shape.margin_cm / 100,
            supply_length_m=self.pump.supply_length_cm / 100,
            bed=bed,
            fluid=Fluid(par["water_density_kg_m3"], par["water_viscosity_pa_s"]),
            elbow_radius_per_diameter=par["elbow_radius_per_diameter"],
        )
        s = self.shape
        kind = self.layout.shape
        y = None if s.header_y_cm is None else s.header_y_cm / 100
        if kind == "end_fed":
            return builders.header(common, s.feed_position, y)
        if kind == "centre_fed":
            fp = s.feed_position if "feed_position" in s.model_fields_set else 0.5
            return builders.header(common, fp, y)
        if kind in ("ladder_u", "ladder_z"):
            return builders.ladder(
                common, s.laterals, "direct" if kind == "ladder_u" else "reverse"
            )
        if kind == "ring":
            return builders.ring(common)
        if kind == "tree":
            return builders.tree(common, s.columns)
        if not self.nodes:
            raise ScenarioError("nodes", [], "a free layout lists its [[nodes]] and [[pipes]]")
        return builders.free_form(
            common,
            [builders.FreeNode(n.name, n.x_cm / 100, n.y_cm / 100, n.fitting) for n in self.nodes],
            [
                builders.FreePipe(
                    p.start,
                    p.end,
                    None if p.inner_diameter_mm is None else p.inner_diameter_mm / 1000,
                    None if p.length_cm is None else p.length_cm / 100,
                    None if p.hole_spacing_cm is None else p.hole_spacing_cm / 100,
                    p.minor_k,
                )
                for p in self.pipes
            ],
            [
                builders.FreeHole(h.node, None if h.diameter_mm is None else h.diameter_mm / 1000)
                for h in self.holes
            ],
            self.pump.outlet,
        )

    def to_toml(self) -> str:
        """This layout as TOML that :func:`parse_layout` reads back equal."""
        text = document(self, "# tankeco layout (numbers in the units of the keys)")
        return text.replace("[pump]\n", "[pump]\n" + _curve_line(self.pump), 1)

    def with_value(self, key: str, value: float) -> LayoutFile:
        """A copy with one dotted ``table.key`` set (the tuner's knob)."""
        return self.with_values({key: value})

    def with_values(self, values: dict[str, float]) -> LayoutFile:
        """A copy with several dotted ``table.key`` set, validated once."""
        data = self.model_dump(exclude_none=True)
        for key, value in values.items():
            table, _, name = key.partition(".")
            if table not in type(self).model_fields or not name:
                raise ScenarioError(key, value, "expected table.key, e.g. hole.diameter_mm")
            sub = type(self).model_fields[table].annotation
            if not (isinstance(sub, type) and name in getattr(sub, "model_fields", {})):
                allowed = ", ".join(getattr(sub, "model_fields", {}))
                raise ScenarioError(key, value, f"unknown key; allowed in [{table}]: {allowed}")
            data.setdefault(table, {})[name] = value
        return _validate(data)


def _curve_line(p: PumpSpec) -> str:
    if p.curve is None:
        return ""
    return "curve = [" + ", ".join(f"[{a!r}, {b!r}]" for a, b in p.curve) + "]\n"


def _validate(data: dict[str, Any]) -> LayoutFile:
    try:
        return LayoutFile.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, data) from None


def _error(exc: ValidationError, data: dict[str, Any]) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = list(err["loc"])
    ctx = err.get("ctx") or {}
    if err["type"] == OWN_ERROR:
        if ctx.get("field"):
            loc.append(ctx["field"])
        allowed = ctx["allowed"]
    elif err["type"] == "extra_forbidden":
        allowed = "unknown key"
    elif err["type"] == "missing":
        allowed = "required"
    else:
        allowed = err["msg"]
    key = dotted(loc)
    raw = raw_at(data, loc)
    value = raw if raw is not MISSING else err.get("input")
    return ScenarioError(key, value, " ".join(str(allowed).split()))


def parse_layout(text: str, source: str = "<layout>") -> LayoutFile:
    """Validate layout TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: not valid TOML: {exc}") from None
    return _validate(data)


def shipped_layouts() -> list[str]:
    """Names of the layouts that come with tankeco (usable as ``filter.layout = NAME``)."""
    folder = resources.files("tankeco") / "data" / "layouts"
    return sorted(f.name[: -len(".toml")] for f in folder.iterdir() if f.name.endswith(".toml"))


def resolve_layout(name_or_path: str, key: str = "filter.layout") -> LayoutFile:
    """A layout by file path, or by the name of a shipped layout (e.g. "seed_same_path")."""
    if not name_or_path.endswith(".toml") and "/" not in name_or_path:
        if name_or_path not in shipped_layouts():
            raise ScenarioError(
                key,
                name_or_path,
                "unknown layout; shipped layouts: "
                + ", ".join(shipped_layouts())
                + " (or give a path to a .toml file)",
            )
        res = resources.files("tankeco") / "data" / "layouts" / f"{name_or_path}.toml"
        return parse_layout(res.read_text(encoding="utf-8"), f"<shipped {name_or_path}>")
    if not Path(name_or_path).exists():
        raise ScenarioError(key, name_or_path, "no such layout file")
    return load_layout(name_or_path)


def load_layout(path: str | Path) -> LayoutFile:
    """Read and validate a layout file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read layout {p}: {exc.strerror or exc}") from None
    return parse_layout(text, str(p))
