"""The filter plumbing as a graph: junctions, pipes, holes and one pump.

Heads are *total* heads in metres of water relative to the tank's water surface (the
surface is head 0, so a point 30 cm under the surface with the water at rest also has
head 0).  The pump draws from a reservoir at ``-lift_m`` (0 for a pump standing in the
tank) and every hole discharges through the bed into the tank at head 0.

A :class:`Network` is immutable and compiles itself once into index arrays that the
solver (:mod:`tankeco.hydraulics.solver`) works on.  Problems a keeper can make in a
layout (a disconnected pipe, a hole wider than its pipe, a length that is not positive,
an unknown fitting, a pump that cannot lift the water) are raised as one-line
:class:`~tankeco.errors.ScenarioError` naming the element, its value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tankeco.errors import ScenarioError
from tankeco.hydraulics.pump import PumpCurve

#: Fittings a junction may name; ``auto`` infers elbow / reducer / tee from the geometry.
FITTINGS: tuple[str, ...] = ("auto", "none", "elbow", "reducer", "tee", "cross", "cap")

PIPE, HOLE, PUMP = 0, 1, 2


@dataclass(frozen=True)
class Node:
    """A junction of the plumbing at (x, y) in the tank, metres from the front-left corner."""

    name: str
    x_m: float
    y_m: float
    fitting: str = "auto"


@dataclass(frozen=True)
class Pipe:
    """A straight pipe; ``length_m`` None means the distance between its end nodes."""

    name: str
    start: str
    end: str
    inner_diameter_m: float
    roughness_m: float
    hazen_williams_c: float = 150.0
    length_m: float | None = None
    minor_k: float = 0.0


@dataclass(frozen=True)
class Hole:
    """A drilled hole in the pipe wall at a junction, discharging up into the bed."""

    id: str
    node: str
    diameter_m: float
    cd: float


@dataclass(frozen=True)
class Pump:
    """The pump: draws from a reservoir ``lift_m`` below the tank surface into ``outlet``.

    ``curve`` gives head from flow; a fixed flow is ``flow_m3_s`` instead of a curve.
    """

    outlet: str
    curve: PumpCurve | None = None
    flow_m3_s: float | None = None
    lift_m: float = 0.0


@dataclass(frozen=True)
class Bed:
    """The ceramsite bed over the pipes: depth, mean grain size, clean porosity."""

    depth_m: float
    grain_m: float
    porosity: float
    sphericity: float = 0.9
    spread_per_depth: float = 1.0


@dataclass(frozen=True)
class Fluid:
    """Water properties (25 °C defaults, see :mod:`tankeco.scenario.params`)."""

    density_kg_m3: float = 997.0
    viscosity_pa_s: float = 0.00089

    @property
    def nu_m2_s(self) -> float:
        return self.viscosity_pa_s / self.density_kg_m3


@dataclass(frozen=True)
class Network:
    """Nodes, pipes, holes and the pump of one filter; see the module docstring."""

    nodes: tuple[Node, ...]
    pipes: tuple[Pipe, ...]
    holes: tuple[Hole, ...]
    pump: Pump
    tank_length_m: float
    tank_width_m: float
    bed: Bed | None = None
    fluid: Fluid = field(default_factory=Fluid)
    elbow_radius_per_diameter: float = 1.0

    def __post_init__(self) -> None:
        _validate(self)

    @cached_property
    def compiled(self) -> Compiled:
        """Index arrays for the solver (built once per network)."""
        return _compile(self)


@dataclass(frozen=True)
class Compiled:
    """Array form of a :class:`Network`.

    Links are ordered pipes, then holes, then the pump (if it has a curve).  Node indices
    ``0..n_junctions-1`` are junctions (unknown heads); ``tank`` and ``source`` are the
    two fixed-head nodes after them.
    """

    n_junctions: int
    n_pipes: int
    n_holes: int
    has_pump_link: bool
    tank: int
    source: int
    link_from: np.ndarray
    link_to: np.ndarray
    length_m: np.ndarray
    diameter_m: np.ndarray
    area_m2: np.ndarray
    roughness_m: np.ndarray
    hw_c: np.ndarray
    minor_k: np.ndarray
    hole_cd: np.ndarray
    hole_area_m2: np.ndarray
    hole_node: np.ndarray
    hole_x_m: np.ndarray
    hole_y_m: np.ndarray
    fixed_head_m: np.ndarray
    demand_m3_s: np.ndarray
    #: pipes incident to each junction, compressed: junction i's pipes are
    #: ``node_pipe[node_ptr[i]:node_ptr[i + 1]]`` (for velocity heads and fittings)
    node_ptr: np.ndarray
    node_pipe: np.ndarray
    #: unit vector from the junction along each of those pipes, row for row
    node_dir: np.ndarray
    node_fitting: tuple[str, ...]

    @property
    def n_links(self) -> int:
        return self.n_pipes + self.n_holes + int(self.has_pump_link)


def _validate(net: Network) -> None:
    names = [n.name for n in net.nodes]
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ScenarioError(f"nodes.{dup}", dup, "node names must be unique")
    for n in net.nodes:
        if n.fitting not in FITTINGS:
            raise ScenarioError(
                f"nodes.{n.name}.fitting",
                n.fitting,
                "unknown fitting; allowed: " + ", ".join(FITTINGS),
            )
        for key, v, top in (("x_m", n.x_m, net.tank_length_m), ("y_m", n.y_m, net.tank_width_m)):
            if not (math.isfinite(v) and -1e-9 <= v <= top + 1e-9):
                raise ScenarioError(
                    f"nodes.{n.name}.{key}", v, f"allowed 0 to {top:g} m (inside the tank)"
                )
    for p in net.pipes:
        for end in (p.start, p.end):
            if end not in index:
                raise ScenarioError(f"pipes.{p.name}", end, "names no node of this layout")
        if p.start == p.end:
            raise ScenarioError(f"pipes.{p.name}.end", p.end, "a pipe must join two nodes")
        if not (p.inner_diameter_m > 0 and math.isfinite(p.inner_diameter_m)):
            raise ScenarioError(
                f"pipes.{p.name}.inner_diameter_m", p.inner_diameter_m, "allowed more than 0"
            )
        if p.length_m is not None and not (p.length_m > 0 and math.isfinite(p.length_m)):
            raise ScenarioError(f"pipes.{p.name}.length_m", p.length_m, "allowed more than 0 m")
        if p.length_m is None and _distance(net, index, p) <= 0:
            raise ScenarioError(
                f"pipes.{p.name}.length_m",
                0.0,
                "allowed more than 0 m: its two nodes sit at the same place; give length_m",
            )
        if p.roughness_m < 0:
            raise ScenarioError(f"pipes.{p.name}.roughness_m", p.roughness_m, "allowed 0 or more")
        if p.minor_k < 0:
            raise ScenarioError(f"pipes.{p.name}.minor_k", p.minor_k, "allowed 0 or more")
    if net.pump.outlet not in index:
        raise ScenarioError("pump.outlet", net.pump.outlet, "names no node of this layout")
    # connectivity before the holes: a hole on a lone node is a disconnected node, not
    # a hole too wide for a pipe it does not have
    _check_connected(net, index)
    if not net.holes:
        raise ScenarioError("holes", [], "a layout needs at least one hole")
    widest: dict[str, float] = {}
    for p in net.pipes:
        for end in (p.start, p.end):
            widest[end] = max(widest.get(end, 0.0), p.inner_diameter_m)
    hole_ids = set()
    for h in net.holes:
        if h.id in hole_ids:
            raise ScenarioError(f"holes.{h.id}", h.id, "hole ids must be unique")
        hole_ids.add(h.id)
        if h.node not in index:
            raise ScenarioError(f"holes.{h.id}.node", h.node, "names no node of this layout")
        if not h.diameter_m > 0:
            raise ScenarioError(f"holes.{h.id}.diameter_m", h.diameter_m, "allowed more than 0")
        pipe_d = widest.get(h.node, 0.0)
        if h.diameter_m >= pipe_d:
            raise ScenarioError(
                f"holes.{h.id}.diameter_mm",
                round(h.diameter_m * 1000, 6),
                f"allowed less than the inner diameter of its pipe ({pipe_d * 1000:g} mm)",
            )
        if not 0 < h.cd <= 1:
            raise ScenarioError(f"holes.{h.id}.cd", h.cd, "allowed more than 0, up to 1")
    _check_hole_overlap(net, index)
    pump = net.pump
    if pump.lift_m < 0:
        raise ScenarioError("pump.lift_m", pump.lift_m, "allowed 0 m or more")
    if pump.curve is None and pump.flow_m3_s is None:
        raise ScenarioError("pump", "(no curve, no flow)", "give a head-flow curve or a flow")
    if pump.curve is not None and pump.curve.shutoff_head_m <= pump.lift_m:
        raise ScenarioError(
            "pump.lift_m",
            pump.lift_m,
            f"the pump's shut-off head ({pump.curve.shutoff_head_m:g} m) cannot lift the "
            "water that high; allowed less than the shut-off head",
        )
    if pump.flow_m3_s is not None and not pump.flow_m3_s > 0:
        raise ScenarioError("pump.flow_l_h", pump.flow_m3_s * 3.6e6, "allowed more than 0 L/h")


def _check_hole_overlap(net: Network, index: dict[str, int]) -> None:
    """Holes at the two ends of a pipe must not overlap: centres at least (d1 + d2) / 2 apart.

    The distance is the drawn one (between the nodes), not ``length_m``, which a layout
    may give for friction (a pipe that winds) without moving the holes.
    """
    widest: dict[str, float] = {}
    for h in net.holes:
        widest[h.node] = max(widest.get(h.node, 0.0), h.diameter_m)
    for p in net.pipes:
        if p.start in widest and p.end in widest:
            length = _distance(net, index, p)
            need = (widest[p.start] + widest[p.end]) / 2
            if length < need - 1e-12:
                hole = next(h for h in net.holes if h.node == p.end)
                raise ScenarioError(
                    f"holes.{hole.id}.diameter_mm",
                    round(hole.diameter_m * 1000, 6),
                    f"overlaps the hole at '{p.start}' {length * 1000:.3g} mm away; "
                    f"allowed hole diameters whose mean is at most the centre distance "
                    "(drill smaller holes or space them wider)",
                )


def _distance(net: Network, index: dict[str, int], p: Pipe) -> float:
    a, b = net.nodes[index[p.start]], net.nodes[index[p.end]]
    return math.hypot(a.x_m - b.x_m, a.y_m - b.y_m)


def _check_connected(net: Network, index: dict[str, int]) -> None:
    """Every node must be reachable from the pump outlet through pipes."""
    n = len(net.nodes)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for p in net.pipes:
        a, b = index[p.start], index[p.end]
        nbrs[a].append(b)
        nbrs[b].append(a)
    seen = [False] * n
    stack = [index[net.pump.outlet]]
    seen[stack[0]] = True
    while stack:
        for j in nbrs[stack.pop()]:
            if not seen[j]:
                seen[j] = True
                stack.append(j)
    lost = [net.nodes[i].name for i in range(n) if not seen[i]]
    if lost:
        more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
        raise ScenarioError(
            f"nodes.{lost[0]}",
            lost[0],
            f"not connected to the pump outlet '{net.pump.outlet}'{more}: "
            "the network is disconnected; join it with a pipe or remove it",
        )


def _compile(net: Network) -> Compiled:
    index = {n.name: i for i, n in enumerate(net.nodes)}
    nj = len(net.nodes)
    tank, source = nj, nj + 1
    n_p, n_h = len(net.pipes), len(net.holes)
    has_pump_link = net.pump.curve is not None
    n_l = n_p + n_h + int(has_pump_link)
    link_from = np.empty(n_l, dtype=np.int64)
    link_to = np.empty(n_l, dtype=np.int64)
    for k, p in enumerate(net.pipes):
        link_from[k], link_to[k] = index[p.start], index[p.end]
    hole_node = np.array([index[h.node] for h in net.holes], dtype=np.int64)
    link_from[n_p : n_p + n_h] = hole_node
    link_to[n_p : n_p + n_h] = tank
    if has_pump_link:
        link_from[-1], link_to[-1] = source, index[net.pump.outlet]
    x = np.array([n.x_m for n in net.nodes])
    y = np.array([n.y_m for n in net.nodes])
    # unit vectors along every pipe, from its start node to its end node
    pf, pt = link_from[:n_p], link_to[:n_p]
    dx, dy = x[pt] - x[pf], y[pt] - y[pf]
    drawn = np.hypot(dx, dy)
    safe = np.where(drawn > 0, drawn, 1.0)
    unit = np.column_stack([dx / safe, dy / safe]) * (drawn > 0)[:, None]
    given = np.array([np.nan if p.length_m is None else p.length_m for p in net.pipes])
    length = np.where(np.isnan(given), drawn, given) if n_p else np.zeros(0)
    diameter = np.array([p.inner_diameter_m for p in net.pipes])
    demand = np.zeros(nj)
    if not has_pump_link:
        demand[index[net.pump.outlet]] = -float(net.pump.flow_m3_s or 0.0)
    # incidence sorted by junction, a junction's pipes in pipe order; along the pipe
    # away from the junction: +unit at its start, -unit at its end
    ends = np.concatenate([pf, pt])
    both = np.concatenate([np.arange(n_p), np.arange(n_p)])
    order = np.lexsort((both, ends))
    node_pipe = both[order]
    node_dir = np.concatenate([unit, -unit])[order].reshape(-1, 2)
    node_ptr = np.zeros(nj + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=nj)[:nj], out=node_ptr[1:])
    hole_d = np.array([h.diameter_m for h in net.holes])
    return Compiled(
        n_junctions=nj,
        n_pipes=n_p,
        n_holes=n_h,
        has_pump_link=has_pump_link,
        tank=tank,
        source=source,
        link_from=link_from,
        link_to=link_to,
        length_m=length,
        diameter_m=diameter,
        area_m2=np.pi / 4 * diameter**2,
        roughness_m=np.array([p.roughness_m for p in net.pipes]),
        hw_c=np.array([p.hazen_williams_c for p in net.pipes]),
        minor_k=np.array([p.minor_k for p in net.pipes]),
        hole_cd=np.array([h.cd for h in net.holes]),
        hole_area_m2=np.pi / 4 * hole_d**2,
        hole_node=hole_node,
        hole_x_m=x[hole_node],
        hole_y_m=y[hole_node],
        fixed_head_m=np.array([0.0, -net.pump.lift_m]),
        demand_m3_s=demand,
        node_ptr=node_ptr,
        node_pipe=node_pipe.astype(np.int64),
        node_dir=node_dir,
        node_fitting=tuple(n.fitting for n in net.nodes),
    )
