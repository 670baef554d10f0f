"""Where each hole's water rises through the bed, and what the bed zones receive.

The tank floor is cut into square cells (about 1 cm).  Each cell belongs to the nearest
hole if that hole is within ``spread_per_depth x bed depth`` (water leaving a hole
spreads sideways about one bed depth before it rises; a parameter, see
``bed_spread_per_depth``); cells beyond every hole's reach get no up-flow.  A hole's
water rises evenly through its cells, so its bed resistance is Ergun's over its cell
area (:mod:`tankeco.hydraulics.bed`).

The engine's bed zones are ``n_zones`` equal strips along the tank length.  Where a
hole's cells lie in several zones of different porosity, its flow splits in proportion
to each part's area over its viscous resistance (parallel Darcy paths); the bed loss of
the hole then has the linear coefficient of those paths in parallel and a quadratic
coefficient weighted by the same split (an approximation that is exact when the zones
are equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tankeco.hydraulics.bed import ergun_coefficients
from tankeco.hydraulics.losses import G_M_S2
from tankeco.hydraulics.network import Bed, Fluid

#: target cell edge of the floor grid, m
CELL_M = 0.01


@dataclass(frozen=True)
class BedMap:
    """Cells of the floor: which hole feeds each, and each hole's area per zone."""

    nx: int
    ny: int
    cell_area_m2: float
    cell_hole: np.ndarray  # (ny, nx) hole index, -1 = no hole within reach
    cell_zone: np.ndarray  # (ny, nx) zone index
    hole_zone_area_m2: np.ndarray  # (n_holes, n_zones)
    n_zones: int
    length_m: float
    width_m: float


@njit(cache=True)
def _nearest_within(xc, yc, hx, hy, reach):
    """(ny, nx) index of the nearest hole (the first of equals) closer than ``reach``, or -1."""
    out = np.full((yc.size, xc.size), -1, dtype=np.int64)
    r2 = reach * reach
    for j in range(yc.size):
        for i in range(xc.size):
            best, best_d = -1, r2
            for h in range(hx.size):
                d = (xc[i] - hx[h]) ** 2 + (yc[j] - hy[h]) ** 2
                if d < best_d:
                    best, best_d = h, d
            out[j, i] = best
    return out


def build_bed_map(
    hole_x_m: np.ndarray,
    hole_y_m: np.ndarray,
    length_m: float,
    width_m: float,
    reach_m: float,
    n_zones: int,
) -> BedMap:
    """Assign floor cells to holes (nearest within ``reach_m``) and to zones (strips in x)."""
    nx = max(int(round(length_m / CELL_M)), 1)
    ny = max(int(round(width_m / CELL_M)), 1)
    xc = (np.arange(nx) + 0.5) * length_m / nx
    yc = (np.arange(ny) + 0.5) * width_m / ny
    gx, gy = np.meshgrid(xc, yc)
    n_holes = len(hole_x_m)
    idx = _nearest_within(
        xc, yc, np.asarray(hole_x_m, dtype=float), np.asarray(hole_y_m, dtype=float), reach_m
    )
    zone = np.minimum((gx / length_m * n_zones).astype(int), n_zones - 1)
    cell_area = length_m * width_m / (nx * ny)
    fed = idx >= 0
    counts = np.bincount(idx[fed] * n_zones + zone[fed], minlength=n_holes * n_zones).reshape(
        n_holes, n_zones
    )
    area = counts * cell_area
    # a hole that owns no cell (it shares a spot with another) still discharges: give it
    # one cell in its own zone
    empty = area.sum(axis=1) == 0
    if empty.any():
        z = np.minimum((hole_x_m[empty] / length_m * n_zones).astype(int), n_zones - 1)
        area[np.flatnonzero(empty), z] = cell_area
    return BedMap(nx, ny, cell_area, idx, zone, area, n_zones, length_m, width_m)


@dataclass(frozen=True)
class BedResistance:
    """Each hole's bed loss ``c1 q + c2 q^2`` (m) and how its flow splits over zones."""

    c1: np.ndarray
    c2: np.ndarray
    zone_split: np.ndarray  # (n_holes, n_zones), rows sum to 1


def bed_resistance(
    bmap: BedMap, zone_porosity: np.ndarray, bed: Bed, fluid: Fluid
) -> BedResistance:
    """Hole bed-loss coefficients for the zones' current porosity (see module docstring)."""
    a, b = ergun_coefficients(
        np.asarray(zone_porosity, dtype=float),
        bed.grain_m,
        bed.depth_m,
        fluid.density_kg_m3,
        fluid.viscosity_pa_s,
        bed.sphericity,
    )
    rho_g = fluid.density_kg_m3 * G_M_S2
    area = bmap.hole_zone_area_m2
    conductance = area / a[None, :]  # m3/s per Pa of each hole's share of each zone
    total = conductance.sum(axis=1)
    split = conductance / total[:, None]
    c1 = 1.0 / (total * rho_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        c2_terms = np.where(area > 0, split**3 * b[None, :] / area**2, 0.0)
    c2 = c2_terms.sum(axis=1) / rho_g
    return BedResistance(c1, c2, split)


def zone_flows_m3_s(hole_flow_m3_s: np.ndarray, resistance: BedResistance) -> np.ndarray:
    """Up-flow through each zone: every hole's flow split as in ``resistance``."""
    return np.asarray(hole_flow_m3_s) @ resistance.zone_split


def upflow_map_m_s(
    bmap: BedMap, hole_flow_m3_s: np.ndarray, resistance: BedResistance
) -> np.ndarray:
    """Superficial up-flow velocity (m/s) of every floor cell, shape (ny, nx)."""
    area = bmap.hole_zone_area_m2
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(area > 0, hole_flow_m3_s[:, None] * resistance.zone_split / area, 0.0)
    out = np.zeros((bmap.ny, bmap.nx))
    fed = bmap.cell_hole >= 0
    out[fed] = v[bmap.cell_hole[fed], bmap.cell_zone[fed]]
    return out
