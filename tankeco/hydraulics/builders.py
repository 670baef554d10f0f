"""Layout builders: the common under-bed pipe shapes as :class:`Network` objects.

Coordinates are metres from the tank's front-left corner, x along the length, y along
the width.  Every builder lays its perforated pipes ``margin`` from the walls, puts the
pump's outlet in the front-left corner (half a margin from both walls) and joins it to
the feed point with an unperforated supply pipe.  Holes are drilled every ``spacing``
along a perforated pipe, the first and last half a spacing from its ends.

Shapes
------
``header``   one perforated header along x at ``header_y``, fed at ``feed_position``
             (0 = left end: the end-fed header; 0.5 = the centre-fed header).
``ladder``   two unperforated headers (front and back) joined by ``laterals``
             perforated rungs across the tank.  ``return_="direct"`` (U): both headers
             are fed from the left end, so the first rung has the shortest path;
             ``return_="reverse"`` (Z, same-path, 同程): the front header is fed at the
             left and the back header at the right, so every rung's path through the
             two headers has the same length.
``ring``     one perforated loop ``margin`` from the walls, fed at its front-left corner.
``tree``     a symmetric binary tree: a trunk to the tank's centre that splits
             evenly into ``columns`` (1, 2, 4 or 8) perforated pipes across the tank,
             each fed at its middle.
Free-form layouts (a keeper's own drawing) are built from node and pipe lists by
:func:`free_form`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tankeco.errors import ScenarioError
from tankeco.hydraulics.network import Bed, Fluid, Hole, Network, Node, Pipe, Pump


@dataclass(frozen=True)
class Common:
    """What every builder needs besides its shape."""

    tank_length_m: float
    tank_width_m: float
    pump: Pump
    header_diameter_m: float
    lateral_diameter_m: float
    hole_diameter_m: float
    hole_spacing_m: float
    hole_cd: float
    roughness_m: float
    hazen_williams_c: float = 150.0
    margin_m: float = 0.04
    supply_length_m: float = 0.3
    bed: Bed | None = None
    fluid: Fluid = field(default_factory=Fluid)
    elbow_radius_per_diameter: float = 1.0


class _Draft:
    """Collects nodes, pipes and holes while a builder draws."""

    def __init__(self, common: Common):
        self.c = common
        self.nodes: list[Node] = []
        self.pipes: list[Pipe] = []
        self.holes: list[Hole] = []
        self._at: dict[tuple[float, float], str] = {}
        self._xy: dict[str, tuple[float, float]] = {}

    def node(self, x: float, y: float, name: str | None = None) -> str:
        key = (round(x, 9), round(y, 9))
        if name is None and key in self._at:
            return self._at[key]
        name = name or f"n{len(self.nodes)}"
        self.add(Node(name, x, y))
        self._at.setdefault(key, name)
        return name

    def add(self, node: Node) -> None:
        """Append a node; the first node of a name is the one :meth:`xy` finds."""
        self.nodes.append(node)
        self._xy.setdefault(node.name, (node.x_m, node.y_m))

    def pipe(self, a: str, b: str, diameter_m: float, length_m: float | None = None) -> None:
        self.pipes.append(
            Pipe(
                f"p{len(self.pipes)}",
                a,
                b,
                diameter_m,
                self.c.roughness_m,
                self.c.hazen_williams_c,
                length_m,
            )
        )

    def xy(self, name: str) -> tuple[float, float]:
        return self._xy[name]

    def perforated(self, a: str, b: str, diameter_m: float, spacing_m: float | None = None) -> None:
        """A pipe from a to b with holes every spacing (half a spacing from each end)."""
        spacing = spacing_m or self.c.hole_spacing_m
        (xa, ya), (xb, yb) = self.xy(a), self.xy(b)
        length = math.hypot(xb - xa, yb - ya)
        count = max(int(round(length / spacing)), 1)
        prev = a
        for i in range(count):
            t = (i + 0.5) / count
            name = self.node(xa + t * (xb - xa), ya + t * (yb - ya), name=f"n{len(self.nodes)}")
            self.pipe(prev, name, diameter_m)
            self.holes.append(
                Hole(f"h{len(self.holes) + 1}", name, self.c.hole_diameter_m, self.c.hole_cd)
            )
            prev = name
        self.pipe(prev, b, diameter_m)

    def pump_node(self) -> str:
        m = self.c.margin_m
        return self.node(m / 2, m / 2, name="pump")

    def supply(self, *points: str) -> None:
        """Unperforated pipe through points; the first leg gets the extra supply length."""
        d = self.c.header_diameter_m
        for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            extra = self.c.supply_length_m if i == 0 else 0.0
            (xa, ya), (xb, yb) = self.xy(a), self.xy(b)
            self.pipe(a, b, d, math.hypot(xb - xa, yb - ya) + extra)

    def network(self) -> Network:
        c = self.c
        return Network(
            tuple(self.nodes),
            tuple(self.pipes),
            tuple(self.holes),
            Pump("pump", c.pump.curve, c.pump.flow_m3_s, c.pump.lift_m),
            c.tank_length_m,
            c.tank_width_m,
            c.bed,
            c.fluid,
            c.elbow_radius_per_diameter,
        )


def _check_room(c: Common) -> None:
    for key, v in (("shape.margin_cm", c.margin_m),):
        if not 0 < v < min(c.tank_length_m, c.tank_width_m) / 2:
            raise ScenarioError(
                key, round(v * 100, 6), "allowed more than 0 and less than half the tank width"
            )
    if not c.hole_spacing_m > 0:
        raise ScenarioError("hole.spacing_cm", c.hole_spacing_m * 100, "allowed more than 0 cm")


def header(c: Common, feed_position: float = 0.0, header_y_m: float | None = None) -> Network:
    """One perforated header along x, fed at ``feed_position`` (0 left end .. 1 right)."""
    _check_room(c)
    if not 0.0 <= feed_position <= 1.0:
        raise ScenarioError("shape.feed_position", feed_position, "allowed 0 to 1")
    m = c.margin_m
    y = c.tank_width_m / 2 if header_y_m is None else header_y_m
    if not m <= y <= c.tank_width_m - m:
        raise ScenarioError(
            "shape.header_y_cm",
            round(y * 100, 6),
            f"allowed {m * 100:g} to {(c.tank_width_m - m) * 100:g} cm (inside the margins)",
        )
    d = _Draft(c)
    pump = d.pump_node()
    x0, x1 = m, c.tank_length_m - m
    xf = x0 + feed_position * (x1 - x0)
    feed = d.node(xf, y, name="feed")
    corner = d.node(xf, m / 2) if abs(y - m / 2) > 1e-9 else feed
    d.supply(pump, corner, feed) if corner != feed else d.supply(pump, feed)
    left, right = d.node(x0, y), d.node(x1, y)
    if xf - x0 > 1e-9:
        d.perforated(feed, left, c.header_diameter_m, _share(c, xf - x0, x1 - x0))
    if x1 - xf > 1e-9:
        d.perforated(feed, right, c.header_diameter_m, _share(c, x1 - xf, x1 - x0))
    return d.network()


def _share(c: Common, part_m: float, whole_m: float) -> float:
    """Spacing on one side of the feed so the whole header keeps its hole count."""
    total = max(int(round(whole_m / c.hole_spacing_m)), 1)
    count = max(int(round(total * part_m / whole_m)), 1)
    return part_m / count


def ladder(c: Common, laterals: int = 4, return_: str = "reverse") -> Network:
    """Front and back headers joined by perforated rungs; direct (U) or reverse (Z) return."""
    _check_room(c)
    if laterals < 1:
        raise ScenarioError("shape.laterals", laterals, "allowed 1 or more")
    if return_ not in ("direct", "reverse"):
        raise ScenarioError("shape.return", return_, "allowed 'direct' (U) or 'reverse' (Z)")
    m, length, width = c.margin_m, c.tank_length_m, c.tank_width_m
    d = _Draft(c)
    pump = d.pump_node()
    x0, x1 = m, length - m
    xs = [x0 + (i + 0.5) * (x1 - x0) / laterals for i in range(laterals)]
    front = [d.node(x, m) for x in xs]
    back = [d.node(x, width - m) for x in xs]
    hd = c.header_diameter_m
    for a, b in zip(front, front[1:], strict=False):
        d.pipe(a, b, hd)
    for a, b in zip(back, back[1:], strict=False):
        d.pipe(a, b, hd)
    for a, b in zip(front, back, strict=True):
        d.perforated(a, b, c.lateral_diameter_m)
    split = d.node(m / 2, m, name="split")
    d.supply(pump, split)
    d.pipe(split, front[0], hd)
    if return_ == "direct":
        up = d.node(m / 2, width - m)
        d.pipe(split, up, hd)
        d.pipe(up, back[0], hd)
    else:
        # up the left wall and along the back wall, behind the back header
        up = d.node(m / 2, width - m / 2)
        far = d.node(length - m / 2, width - m / 2)
        down = d.node(length - m / 2, width - m)
        d.pipe(split, up, hd)
        d.pipe(up, far, hd)
        d.pipe(far, down, hd)
        d.pipe(down, back[-1], hd)
    return d.network()


def ring(c: Common) -> Network:
    """A perforated loop ``margin`` from the walls, fed at its front-left corner."""
    _check_room(c)
    m, length, width = c.margin_m, c.tank_length_m, c.tank_width_m
    d = _Draft(c)
    pump = d.pump_node()
    corners = [
        d.node(m, m),
        d.node(length - m, m),
        d.node(length - m, width - m),
        d.node(m, width - m),
    ]
    d.supply(pump, corners[0])
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        d.perforated(a, b, c.header_diameter_m)
    return d.network()


def tree(c: Common, columns: int = 4) -> Network:
    """Binary tree from the centre into ``columns`` perforated pipes across the tank."""
    _check_room(c)
    if columns not in (1, 2, 4, 8):
        raise ScenarioError("shape.columns", columns, "allowed 1, 2, 4 or 8")
    m, length, width = c.margin_m, c.tank_length_m, c.tank_width_m
    d = _Draft(c)
    pump = d.pump_node()
    yc = width / 2
    centre = d.node(length / 2, yc, name="centre")
    bend = d.node(length / 2, m / 2)
    d.supply(pump, bend, centre)

    def split(node: str, x_lo: float, x_hi: float, n: int) -> None:
        if n == 1:
            top, bottom = d.node(d.xy(node)[0], width - m), d.node(d.xy(node)[0], m)
            d.perforated(node, top, c.lateral_diameter_m)
            d.perforated(node, bottom, c.lateral_diameter_m)
            return
        mid = (x_lo + x_hi) / 2
        for lo, hi in ((x_lo, mid), (mid, x_hi)):
            child = d.node((lo + hi) / 2, yc)
            d.pipe(node, child, c.header_diameter_m)
            split(child, lo, hi, n // 2)

    split(centre, 0.0, length, columns)
    return d.network()


@dataclass(frozen=True)
class FreeNode:
    name: str
    x_m: float
    y_m: float
    fitting: str = "auto"


@dataclass(frozen=True)
class FreePipe:
    start: str
    end: str
    inner_diameter_m: float | None = None
    length_m: float | None = None
    hole_spacing_m: float | None = None
    minor_k: float = 0.0


@dataclass(frozen=True)
class FreeHole:
    node: str
    diameter_m: float | None = None


def free_form(
    c: Common,
    nodes: list[FreeNode],
    pipes: list[FreePipe],
    holes: list[FreeHole],
    pump_outlet: str,
) -> Network:
    """A keeper's own drawing: nodes, pipes (optionally perforated) and single holes."""
    d = _Draft(c)
    for n in nodes:
        d.add(Node(n.name, n.x_m, n.y_m, n.fitting))
    names = {n.name for n in nodes}
    for i, p in enumerate(pipes):
        for key, end in (("start", p.start), ("end", p.end)):
            if end not in names:
                raise ScenarioError(f"pipes[{i}].{key}", end, "names no node of this layout")
        diameter = p.inner_diameter_m or c.header_diameter_m
        if p.length_m is not None and not p.length_m > 0:
            raise ScenarioError(f"pipes[{i}].length_cm", p.length_m * 100, "allowed more than 0 cm")
        if p.hole_spacing_m is not None:
            if p.length_m is not None:
                raise ScenarioError(
                    f"pipes[{i}].length_cm",
                    p.length_m * 100,
                    "a perforated pipe takes its length from its end nodes; leave it out",
                )
            d.perforated(p.start, p.end, diameter, p.hole_spacing_m)
        else:
            d.pipes.append(
                Pipe(
                    f"pipes[{i}]",
                    p.start,
                    p.end,
                    diameter,
                    c.roughness_m,
                    c.hazen_williams_c,
                    p.length_m,
                    p.minor_k,
                )
            )
    for h in holes:
        d.holes.append(
            Hole(f"h{len(d.holes) + 1}", h.node, h.diameter_m or c.hole_diameter_m, c.hole_cd)
        )
    return Network(
        tuple(d.nodes),
        tuple(d.pipes),
        tuple(d.holes),
        Pump(pump_outlet, c.pump.curve, c.pump.flow_m3_s, c.pump.lift_m),
        c.tank_length_m,
        c.tank_width_m,
        c.bed,
        c.fluid,
        c.elbow_radius_per_diameter,
    )
