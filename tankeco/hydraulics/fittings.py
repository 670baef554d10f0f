"""Which fitting sits at each junction, and its losses at the current flows.

The fitting of a junction is named in the layout or inferred from its pipes (``auto``):
one pipe is a cap, two pipes of different bore a reducer, two pipes at an angle an
elbow, three a tee, four a cross; holes drilled at a junction are small branches of the
header.  Losses follow the combined-stream convention of Crane (2009) TP-410: a fitting's
loss is charged to each outgoing link of a dividing junction (or incoming link of a
combining one) as ``K V_comb^2 / 2g``, V_comb being the velocity of the single stream on
the other side.  Node heads are total heads, so a header's static-pressure regain
appears by itself when the velocity falls after a hole; the hole sees the static head
``H - V^2/2g`` (:mod:`tankeco.hydraulics.solver`).

Crane's coefficients are credited with their sign: a negative K (a run's pressure
regain downstream of a branch, the ejector effect that draws a small branch into a
combining stream) is a measured total-pressure gain, not a loss charged by magnitude.

Where a leg's flow passes through zero (a dead end, the stagnation point of a pipe fed
from both ends, a header whose flow reverses) Crane's correlations switch pattern
(dividing / combining), and their pieces switch at branch shares of 0.4-0.6, which
stalls Newton on steps and kinks.  The model is therefore made continuously
differentiable: Crane's pieces are blended over +-0.02 in share
(:func:`tankeco.hydraulics.newton_kernel.crane_k_smooth`); a tee's two patterns are
blended over a few per cent (:data:`REVERSAL_FADE`) of its largest flow around the
reversal of its smallest leg (:func:`tankeco.hydraulics.newton_kernel._tee`); the run
loss at a header hole and the loss of an elbow or reducer with holes fade in over a few
per cent of the combined flow, never less than :data:`FADE_FLOOR_HOLE_SHARE` of a mean
hole flow.  Away from reversals and switches nothing changes.

Only the momentum mode uses this module; friction-only (EPANET-like) solves skip it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from fluids.fittings import (
    branch_converging_Crane_angles as _BRANCH_CONV_ANGLES,
)
from fluids.fittings import (
    branch_converging_Crane_Fs as _BRANCH_CONV_FS,
)
from fluids.fittings import (
    run_converging_Crane_angles as _RUN_CONV_ANGLES,
)
from fluids.fittings import (
    run_converging_Crane_Fs as _RUN_CONV_FS,
)
from fluids.numerics import interp as fluids_interp

from tankeco.errors import ScenarioError
from tankeco.hydraulics import losses
from tankeco.hydraulics.network import Compiled, Network

#: pipes a named fitting needs
_PIPE_COUNT = {"cap": 1, "elbow": 2, "reducer": 2, "tee": 3, "cross": 4}

#: share of the combined flow over which a fitting leg's loss fades in (see the kernel)
REVERSAL_FADE = 0.02

#: ... never over less than REVERSAL_FADE x this share of the mean hole flow: at a
#: stagnation point (a ring or ladder header fed from both sides) the combined flow
#: itself tends to zero, and a fade over 2 % of it turns the loss into a step that
#: stalls Newton; the losses there are of order (this flow)^2 and negligible
FADE_FLOOR_HOLE_SHARE = 0.5

#: two pipes closer to straight than this (degrees of deflection) are a plain joint
STRAIGHT_DEG = 5.0


#: velocity at which an elbow's K (weakly Reynolds-dependent) is evaluated, m/s
ELBOW_K_VELOCITY_M_S = 0.5


@dataclass(frozen=True)
class FittingNode:
    """A junction with a fitting loss: its pipes and their geometry."""

    node: int
    kind: str  # "elbow", "reducer", "tee"
    pipes: np.ndarray
    #: pairwise cosines of the directions along the pipes from the node
    cos: np.ndarray
    deflection_deg: float = 0.0


@dataclass(frozen=True)
class TwoPipe:
    """Elbows and reducers, vectorised: loss ``K vh_s Q_s^2`` on the outgoing pipe."""

    a: np.ndarray
    b: np.ndarray
    a_into: np.ndarray  # +1 where flow a>0 enters the node
    k_ab: np.ndarray  # K for flow from a into b
    k_ba: np.ndarray
    small: np.ndarray  # pipe whose velocity the K refers to
    vh_small: np.ndarray


@dataclass(frozen=True)
class HoleRun:
    """Straight header junctions with holes: Crane's run loss of a dividing tee."""

    node: np.ndarray  # junction index
    pipe_a: np.ndarray
    pipe_b: np.ndarray
    #: (widest hole / header bore)^2: Crane's run K of a dividing tee, ``M x^2`` with
    #: x the holes' share of the combined flow, takes M = 0.4 up to beta^2 = 0.4 and
    #: M = 2 (2x - 1) (x <= 0.5) or 0.3 (2x - 1) above, evaluated at the actual share
    beta2: np.ndarray


@dataclass(frozen=True)
class Fittings:
    """All fitting losses of a network, grouped for fast evaluation."""

    two: TwoPipe
    tees: TeeArrays
    hole_run: HoleRun


def classify_none() -> Fittings:
    """No fitting losses (friction-only mode)."""
    e = np.zeros(0, dtype=np.int64)
    z = np.zeros(0)
    return Fittings(TwoPipe(e, e, z, z, z, e, z), tee_arrays(None, np.zeros(0, dtype=np.int64)),
                    HoleRun(e, e, e, z))  # fmt: skip


def classify(net: Network, c: Compiled) -> Fittings:
    """Fittings of a network from the layout's names and geometry (raises if impossible).

    Vectorised over the junctions (a layout is loaded for every tuner candidate); only
    tees, crosses and the few elbows and reducers are handled one by one.
    """
    nj = c.n_junctions
    ptr, node_pipe, node_dir = c.node_ptr, c.node_pipe, c.node_dir
    count = np.diff(ptr)
    named = np.asarray(c.node_fitting)
    for kind, need in _PIPE_COUNT.items():
        bad = np.flatnonzero((named == kind) & (count != need))
        if bad.size:
            n = int(bad[0])
            raise ScenarioError(
                f"nodes.{net.nodes[n].name}.fitting",
                kind,
                f"a {kind} joins {need} pipe(s) but this node has {int(count[n])}",
            )
    vh_all = losses.velocity_head_coeff(c.area_m2)
    active = named != "none"
    # two pipes: a plain joint, a reducer, a bend (or both), or a header run with holes
    n2 = np.flatnonzero(active & (count == 2))
    first = ptr[n2]
    pa, pb = node_pipe[first], node_pipe[first + 1]
    d0, d1 = c.diameter_m[pa], c.diameter_m[pb]
    cos01 = np.einsum("ij,ij->i", node_dir[first], node_dir[first + 1])
    deflection = np.degrees(np.arccos(np.clip(-cos01, -1.0, 1.0)))
    kind2 = named[n2]
    auto = kind2 == "auto"
    reducing = (kind2 == "reducer") | (auto & (np.abs(d0 - d1) > 1e-9))
    bending = (kind2 == "elbow") | ((auto | (kind2 == "reducer")) & (deflection > STRAIGHT_DEG))
    into_a = np.where(c.link_to[pa] == n2, 1.0, -1.0)
    small = np.where(d0 <= d1, pa, pb)
    rows: list[tuple[int, int, float, float, float, int, float]] = []
    for i in np.flatnonzero(reducing | bending):
        a, b, s_ = int(pa[i]), int(pb[i]), int(small[i])
        da, db = float(d0[i]), float(d1[i])
        if reducing[i]:
            rows.append((a, b, float(into_a[i]), losses.reducer_k(da, db),
                         losses.reducer_k(db, da), s_, float(vh_all[s_])))  # fmt: skip
        if bending[i]:
            # a reducing corner is a bend too: Rennels' K on the smaller bore
            d_small = min(da, db)
            re = ELBOW_K_VELOCITY_M_S * d_small / net.fluid.nu_m2_s
            k = losses.elbow_k(d_small, float(deflection[i]), net.elbow_radius_per_diameter, re)
            rows.append((a, b, float(into_a[i]), k, k, s_, float(vh_all[s_])))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    i64 = np.int64
    two_pipe = TwoPipe(
        np.array(cols[0], dtype=i64),
        np.array(cols[1], dtype=i64),
        np.array(cols[2], dtype=float),
        np.array(cols[3], dtype=float),
        np.array(cols[4], dtype=float),
        np.array(cols[5], dtype=i64),
        np.array(cols[6], dtype=float),
    )
    # straight header junctions with holes: Crane's run loss, beta from the widest hole
    widest_area = np.zeros(nj)
    np.maximum.at(widest_area, c.hole_node, c.hole_area_m2)
    run = ~(reducing | bending) & (widest_area[n2] > 0)
    d_hole = 2 * np.sqrt(widest_area[n2[run]] / math.pi)
    hole_run = HoleRun(
        n2[run].astype(i64), pa[run].astype(i64), pb[run].astype(i64), (d_hole / d0[run]) ** 2
    )
    tees = tee_arrays(c, np.flatnonzero(active & (count >= 3)))
    return Fittings(two_pipe, tees, hole_run)


@functools.lru_cache(maxsize=256)
def _converging_f(angle_deg: float) -> tuple[float, float]:
    """fluids' interpolated angle factors F of Crane's converging branch and run.

    Cached: a layout's tees meet at a handful of angles (90 and 180 degrees, mostly).
    """
    return (
        float(fluids_interp(angle_deg, _BRANCH_CONV_ANGLES, _BRANCH_CONV_FS)),
        float(fluids_interp(angle_deg, _RUN_CONV_ANGLES, _RUN_CONV_FS)),
    )


@dataclass(frozen=True)
class TeeArrays:
    """Tees and crosses flattened for the compiled kernel (:mod:`tankeco.hydraulics.newton_kernel`).

    ``ptr[t]:ptr[t+1]`` are tee t's legs in ``leg`` (pipe, +1 if a positive flow enters
    the node else -1); ``pair_ptr[t]`` starts its ``nleg x nleg`` block of ``pair``, row i
    (the combined leg) and column j holding ``cos`` of the angle between legs i and j
    (along the pipes from the node), Crane's ``beta^2`` and angle for a branch j of a
    combined stream i, fluids' interpolated angle factors F of the converging branch and
    run, and the velocity-head coefficient of leg i.
    """

    ptr: np.ndarray
    leg: np.ndarray
    pair_ptr: np.ndarray
    pair: np.ndarray


#: columns of :attr:`TeeArrays.pair`
PAIR_COS, PAIR_BETA2, PAIR_ANGLE, PAIR_F_BRANCH, PAIR_VH, PAIR_F_RUN = range(6)


def tee_arrays(c: Compiled | None, nodes: np.ndarray) -> TeeArrays:
    """Geometry-only constants of Crane's tee coefficients, per (combined leg, branch).

    ``nodes`` are the junctions with three or more pipes (tees and crosses); their legs
    are their incident pipes in pipe order.  Vectorised over every (leg i, leg j) pair.
    """
    i64 = np.int64
    if c is None or nodes.size == 0:
        return TeeArrays(np.zeros(1, dtype=i64), np.zeros((0, 2), dtype=i64),
                         np.zeros(1, dtype=i64), np.zeros((0, 6)))  # fmt: skip
    lo = c.node_ptr[nodes]
    n_leg = c.node_ptr[nodes + 1] - lo
    ptr = np.concatenate([[0], np.cumsum(n_leg)]).astype(i64)
    first = ptr[:-1]
    rows = np.repeat(lo - first, n_leg) + np.arange(ptr[-1])  # incidence row of each leg
    pipe = c.node_pipe[rows]
    into = np.where(c.link_to[pipe] == np.repeat(nodes, n_leg), 1, -1)
    # every (i, j) of a tee, row-major: i the combined leg, j the branch
    pair_ptr = np.concatenate([[0], np.cumsum(n_leg**2)]).astype(i64)
    n_pair = int(pair_ptr[-1])
    tee_of = np.repeat(np.arange(nodes.size), n_leg**2)
    k = np.arange(n_pair) - pair_ptr[tee_of]
    n_t = n_leg[tee_of]
    li = rows[first[tee_of] + k // n_t] if n_pair else rows[:0]
    lj = rows[first[tee_of] + k % n_t] if n_pair else rows[:0]
    d_i, d_j = c.diameter_m[c.node_pipe[li]], c.diameter_m[c.node_pipe[lj]]
    cos = np.einsum("ij,ij->i", c.node_dir[li], c.node_dir[lj])
    angle = np.clip(np.degrees(np.arccos(np.clip(-cos, -1.0, 1.0))), 1.0, 90.0)
    f = np.array([_converging_f(float(a)) for a in angle]).reshape(-1, 2)
    vh = losses.velocity_head_coeff(c.area_m2[c.node_pipe[li]])
    pair = np.column_stack([cos, (np.minimum(d_j, d_i) / d_i) ** 2, angle, f[:, 0], vh, f[:, 1]])
    return TeeArrays(ptr, np.column_stack([pipe, into]).astype(i64), pair_ptr, pair)
