"""A solved layout with its bed: per-hole flows, zone flows, uniformity figures.

:func:`analyse` solves a network with the bed's resistance over each hole and returns
everything ``tankeco layout show`` reports.  :func:`zone_flows_l_h` is the function the
simulator's engine calls (daily) to get the up-flow of each plan-view bed zone from the
current porosity of the zones.

Uniformity figures
------------------
* coefficient of variation of the hole flows, ``std / mean`` (population std);
* ``max / min`` of the hole flows;
* ``low_flow_area_share``: the share of the tank floor whose superficial up-flow is below
  half the mean up-flow (total flow / floor area), dead zones included.

Ranking
-------
Layouts are ranked (``layout compare``, ``layout tune``) by :func:`rank_key`: first the
under-flowed bed area (``low_flow_area_share``, rounded to whole per mille so that
layouts equal to the bed map's resolution tie), then the CV of the hole flows.  The
under-flowed area comes first because it is bed that a keeper's biofilter loses (it
turns anoxic and collects mulm); the CV, which treats a weak hole at a wall like one in
the middle of the bed, decides between layouts that lose the same area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tankeco.hydraulics.bedmap import (
    BedMap,
    BedResistance,
    bed_resistance,
    build_bed_map,
    upflow_map_m_s,
)
from tankeco.hydraulics.network import Bed, Network
from tankeco.hydraulics.solver import Solution, SolveOptions, Solver


def rank_key(summary: dict[str, float]) -> tuple[float, float]:
    """(under-flowed bed area share rounded to 0.001, CV): lower is more even."""
    return (round(float(summary["low_flow_area_share"]), 3), float(summary["cv"]))


@dataclass(frozen=True)
class Analysis:
    """A solved layout: the solution, its bed map and the figures."""

    solution: Solution
    bed_map: BedMap
    resistance: BedResistance
    zone_flow_l_h: np.ndarray
    upflow_m_s: np.ndarray

    @property
    def hole_flow_l_h(self) -> np.ndarray:
        return self.solution.hole_flow_l_h

    def summary(self) -> dict[str, float]:
        """The figures of merit, in the units their names give."""
        q = self.hole_flow_l_h
        total = float(self.solution.pump_flow_m3_s)
        area = self.bed_map.length_m * self.bed_map.width_m
        mean_up = total / area
        low = float(np.mean(self.upflow_m_s < 0.5 * mean_up))
        return {
            "pump_flow_l_h": total * 3.6e6,
            "pump_head_m": float(self.solution.pump_head_m),
            "holes": int(q.size),
            "hole_flow_mean_l_h": float(q.mean()),
            "hole_flow_min_l_h": float(q.min()),
            "hole_flow_max_l_h": float(q.max()),
            "cv": float(q.std() / q.mean()) if q.mean() > 0 else float("inf"),
            "max_min_ratio": float(q.max() / q.min()) if q.min() > 0 else float("inf"),
            "low_flow_area_share": low,
            "mean_upflow_mm_s": mean_up * 1000.0,
            "iterations": int(self.solution.iterations),
        }


class Analyser:
    """Solves one layout repeatedly as its bed zones change (keeps the bed map and solver)."""

    def __init__(self, network: Network, n_zones: int = 8, options: SolveOptions | None = None):
        if network.bed is None:
            raise ValueError("the network needs a bed to analyse its up-flow")
        self.network = network
        self.bed: Bed = network.bed
        self.solver = Solver(network, options)
        c = network.compiled
        self.bed_map = build_bed_map(
            c.hole_x_m,
            c.hole_y_m,
            network.tank_length_m,
            network.tank_width_m,
            self.bed.spread_per_depth * self.bed.depth_m,
            n_zones,
        )
        self._last: Solution | None = None

    def forget(self) -> None:
        """Drop the warm start: the next solve begins from the solver's own guess."""
        self._last = None

    def run(self, zone_porosity: np.ndarray | None = None) -> Analysis:
        """Solve with each zone at its porosity (default: the clean bed everywhere)."""
        n = self.bed_map.n_zones
        eps = (
            np.full(n, self.bed.porosity)
            if zone_porosity is None
            else np.asarray(zone_porosity, dtype=float)
        )
        if eps.shape != (n,):
            raise ValueError(f"zone_porosity has shape {eps.shape}, expected ({n},)")
        res = bed_resistance(self.bed_map, eps, self.bed, self.network.fluid)
        sol = self.solver.solve(res.c1, res.c2, initial=self._last)
        self._last = sol
        q = sol.hole_flow_m3_s
        zone = q @ res.zone_split * 3.6e6
        return Analysis(sol, self.bed_map, res, zone, upflow_map_m_s(self.bed_map, q, res))


def analyse(
    network: Network,
    n_zones: int = 8,
    zone_porosity: np.ndarray | None = None,
    options: SolveOptions | None = None,
) -> Analysis:
    """Solve ``network`` with its bed once and compute the figures."""
    return Analyser(network, n_zones, options).run(zone_porosity)


def zone_flows_l_h(
    layout: Network | Analyser,
    zone_porosity: np.ndarray,
    n_zones: int,
    tank_length_m: float,
    tank_width_m: float,
) -> np.ndarray:
    """Up-flow (L/h) through each of ``n_zones`` plan-view bed zones for the engine.

    The zones are equal strips of the bed along the tank's length (zone 0 at x = 0),
    as in :func:`tankeco.sim.engine.geometry_of`.  ``zone_porosity`` is each zone's
    current porosity (clean: the bed's porosity; clogged: see
    :func:`tankeco.hydraulics.bed.clogged_porosity`); a lower porosity raises that zone's
    Ergun resistance, which moves flow to the other holes and zones.

    ``layout`` is a network built from a layout file (``tankeco.hydraulics.layout_file``) or, for a
    daily re-solve, an :class:`Analyser` kept between calls (re-uses the bed map and
    warm-starts Newton from the previous day's flows).  The zone flows sum to the pump's
    operating flow; divide by their sum for the engine's ``zone_flow_share``.

    Raises :class:`ValueError` if the tank dimensions differ from the layout's (the
    layout was drawn for another tank) and :class:`~tankeco.hydraulics.solver.HydraulicsError`
    (a :class:`~tankeco.errors.ConvergenceError`) if Newton fails.
    """
    analyser = layout if isinstance(layout, Analyser) else Analyser(layout, n_zones)
    net = analyser.network
    if abs(net.tank_length_m - tank_length_m) > 1e-6 or abs(net.tank_width_m - tank_width_m) > 1e-6:
        raise ValueError(
            f"layout drawn for a {net.tank_length_m * 100:g} x {net.tank_width_m * 100:g} cm "
            f"tank, scenario tank is {tank_length_m * 100:g} x {tank_width_m * 100:g} cm"
        )
    if analyser.bed_map.n_zones != n_zones:
        raise ValueError(f"analyser built for {analyser.bed_map.n_zones} zones, asked {n_zones}")
    return analyser.run(zone_porosity).zone_flow_l_h
