"""Small networks for the hydraulics tests."""

from __future__ import annotations

from tankeco.hydraulics import builders
from tankeco.hydraulics.network import Bed, Hole, Network, Node, Pipe, Pump


def straight_header(
    n_holes: int,
    pipe_d_m: float,
    hole_d_m: float,
    flow_l_h: float = 1000.0,
    segment_m: float | None = None,
    roughness_m: float = 1.5e-6,
    cd: float = 0.61,
) -> Network:
    """A dead-ended header along x, fed at x = 0, holes at the middle of n equal parts."""
    nodes = [Node("p", 0.0, 0.2)]
    nodes += [Node(f"n{i}", 0.05 + 0.5 * (i + 0.5) / n_holes, 0.2) for i in range(n_holes)]
    nodes += [Node("cap", 0.55, 0.2)]
    names = [n.name for n in nodes]
    pipes = [
        Pipe(f"s{i}", a, b, pipe_d_m, roughness_m, 150.0, segment_m)
        for i, (a, b) in enumerate(zip(names, names[1:], strict=False))
    ]
    holes = [Hole(f"h{i}", f"n{i}", hole_d_m, cd) for i in range(n_holes)]
    return Network(
        tuple(nodes), tuple(pipes), tuple(holes), Pump("p", flow_m3_s=flow_l_h / 3.6e6), 0.6, 0.4
    )


def common(pump: Pump | None = None, **kw) -> builders.Common:
    args = dict(
        tank_length_m=0.6,
        tank_width_m=0.4,
        pump=pump or Pump("pump", flow_m3_s=1000 / 3.6e6),
        header_diameter_m=0.016,
        lateral_diameter_m=0.012,
        hole_diameter_m=0.004,
        hole_spacing_m=0.05,
        hole_cd=0.61,
        roughness_m=1.5e-6,
        bed=Bed(0.08, 0.01, 0.45),
    )
    args.update(kw)
    return builders.Common(**args)
