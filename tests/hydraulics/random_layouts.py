"""Random aquarium filter layouts for the convergence test (issue 12).

Every layout is drawn from the ranges a keeper meets: tanks 30-150 cm long and 20-60 cm
wide, headers of 12-32 mm bore, rungs and tree branches of 6-25 mm, holes of 2-8 mm
(narrower than 80 % of the pipe they are drilled in, spaced at least two hole diameters
apart), 200-3000 L/h either as a fixed flow or as the maximum flow of a pump label curve
whose shut-off head (0.3-3 m) is drawn too; the shapes are end- and side-fed headers, U
and Z ladders (1-8 rungs), rings and trees (1, 2, 4 or 8 columns).  A draw that the
builders reject (a geometry that does not fit the tank) is drawn again, so that
:func:`random_layouts` returns exactly the number of valid networks asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tankeco.errors import ScenarioError
from tankeco.hydraulics import builders
from tankeco.hydraulics.network import Bed, Network, Pump
from tankeco.hydraulics.pump import label_curve

SHAPES = ("header", "ladder_u", "ladder_z", "ring", "tree")


@dataclass(frozen=True)
class Drawn:
    """One random layout and what it was drawn from (for a failure message)."""

    index: int
    shape: str
    knobs: dict[str, float]
    network: Network


def _draw(rng: np.random.Generator) -> tuple[str, dict[str, float], Network]:
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    length = float(rng.uniform(0.30, 1.50))
    width = float(rng.uniform(0.20, min(0.60, length)))
    header_d = float(rng.uniform(0.012, 0.032))
    lateral_d = float(rng.uniform(0.006, 0.025))
    perforated_d = header_d if shape in ("header", "ring") else lateral_d
    hole_d = float(rng.uniform(0.002, min(0.008, 0.8 * perforated_d)))
    spacing = float(rng.uniform(max(0.03, 2 * hole_d), 0.10))
    flow_l_h = float(rng.uniform(200.0, 3000.0))
    fixed = bool(rng.integers(2))
    if fixed:
        pump = Pump("pump", flow_m3_s=flow_l_h / 3.6e6)
        shutoff = 0.0
    else:
        shutoff = float(rng.uniform(0.3, 3.0))
        pump = Pump("pump", curve=label_curve(flow_l_h / 3.6e6, shutoff))
    common = builders.Common(
        tank_length_m=length,
        tank_width_m=width,
        pump=pump,
        header_diameter_m=header_d,
        lateral_diameter_m=lateral_d,
        hole_diameter_m=hole_d,
        hole_spacing_m=spacing,
        hole_cd=0.61,
        roughness_m=1.5e-6,
        margin_m=0.04,
        bed=Bed(0.08, 0.01, 0.45),
    )
    knobs = {
        "length_cm": length * 100,
        "width_cm": width * 100,
        "header_mm": header_d * 1000,
        "lateral_mm": lateral_d * 1000,
        "hole_mm": hole_d * 1000,
        "spacing_cm": spacing * 100,
        "flow_l_h": flow_l_h,
        "fixed_flow": float(fixed),
        "shutoff_m": shutoff,
    }
    if shape == "header":
        feed = float(rng.choice([0.0, 0.5, float(rng.uniform(0, 1))]))
        knobs["feed_position"] = feed
        return shape, knobs, builders.header(common, feed)
    if shape in ("ladder_u", "ladder_z"):
        rungs = int(rng.integers(1, 9))
        knobs["rungs"] = rungs
        ret = "direct" if shape == "ladder_u" else "reverse"
        return shape, knobs, builders.ladder(common, rungs, ret)
    if shape == "ring":
        return shape, knobs, builders.ring(common)
    columns = int(rng.choice([1, 2, 4, 8]))
    knobs["columns"] = columns
    return shape, knobs, builders.tree(common, columns)


def random_layouts(count: int, seed: int = 12) -> Iterator[Drawn]:
    """``count`` valid random layouts (reproducible from ``seed``)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        try:
            shape, knobs, net = _draw(rng)
        except ScenarioError:
            continue
        yield Drawn(made, shape, knobs, net)
        made += 1
