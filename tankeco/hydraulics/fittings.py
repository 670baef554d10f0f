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
class Tee:
    """A tee or cross, as plain Python numbers for a fast scalar loop."""

    pipes: tuple[int, ...]
    into: tuple[float, ...]
    diam: tuple[float, ...]
    vh: tuple[float, ...]
    cos: tuple[tuple[float, ...], ...]
    angle: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class HoleRun:
    """Straight header junctions with holes: Crane's run loss of a dividing tee."""

    node: np.ndarray  # junction index
    pipe_a: np.ndarray
    pipe_b: np.ndarray
    holes: tuple[np.ndarray, ...]
    #: (widest hole / header bore)^2: Crane's run K of a dividing tee, ``M x^2`` with
    #: x the holes' share of the combined flow, takes M = 0.4 up to beta^2 = 0.4 and
    #: M = 2 (2x - 1) (x <= 0.5) or 0.3 (2x - 1) above, evaluated at the actual share
    beta2: np.ndarray


@dataclass(frozen=True)
class Fittings:
    """All fitting losses of a network, grouped for fast evaluation."""

    two: TwoPipe
    tees: tuple[Tee, ...]
    hole_run: HoleRun


def classify_none() -> Fittings:
    """No fitting losses (friction-only mode)."""
    e = np.zeros(0, dtype=np.int64)
    z = np.zeros(0)
    return Fittings(TwoPipe(e, e, z, z, z, e, z), (), HoleRun(e, e, e, (), z))


def _append_two(two: dict[str, list], pa: int, pb: int, into_a: float, k_ab: float,
                k_ba: float, small: int, vh: float) -> None:  # fmt: skip
    for key, v in zip(("a", "b", "a_into", "k_ab", "k_ba", "small", "vh"),
                      (pa, pb, into_a, k_ab, k_ba, small, vh), strict=True):  # fmt: skip
        two[key].append(v)


def classify(net: Network, c: Compiled) -> Fittings:
    """Fittings of a network from the layout's names and geometry (raises if impossible)."""
    holes_at: dict[int, list[int]] = {}
    for h, n in enumerate(c.hole_node):
        holes_at.setdefault(int(n), []).append(c.n_pipes + h)
    vh_all = losses.velocity_head_coeff(c.area_m2)
    two: dict[str, list] = {k: [] for k in ("a", "b", "a_into", "k_ab", "k_ba", "small", "vh")}
    tees: list[Tee] = []
    run_node, run_a, run_b, run_holes, run_beta2 = [], [], [], [], []
    for n in range(c.n_junctions):
        pipes = c.node_pipes[n]
        dirs = c.node_dirs[n]
        named = c.node_fitting[n]
        count = len(pipes)
        if named in _PIPE_COUNT and _PIPE_COUNT[named] != count:
            raise ScenarioError(
                f"nodes.{net.nodes[n].name}.fitting",
                named,
                f"a {named} joins {_PIPE_COUNT[named]} pipe(s) but this node has {count}",
            )
        if named == "none" or count == 0:
            continue
        cos = dirs @ dirs.T
        if count == 2:
            pa, pb = int(pipes[0]), int(pipes[1])
            d0, d1 = float(c.diameter_m[pa]), float(c.diameter_m[pb])
            deflection = math.degrees(math.acos(max(-1.0, min(1.0, -float(cos[0, 1])))))
            into_a = 1.0 if c.link_to[pa] == n else -1.0
            reducing = named == "reducer" or (named == "auto" and abs(d0 - d1) > 1e-9)
            bending = named == "elbow" or (
                named in ("auto", "reducer") and deflection > STRAIGHT_DEG
            )
            if reducing:
                small = pa if d0 <= d1 else pb
                k_ab, k_ba = losses.reducer_k(d0, d1), losses.reducer_k(d1, d0)
                _append_two(two, pa, pb, into_a, k_ab, k_ba, small, float(vh_all[small]))
            if bending:
                # a reducing corner is a bend too: Rennels' K on the smaller bore
                small = pa if d0 <= d1 else pb
                d_small = min(d0, d1)
                re = ELBOW_K_VELOCITY_M_S * d_small / net.fluid.nu_m2_s
                k = losses.elbow_k(d_small, deflection, net.elbow_radius_per_diameter, re)
                _append_two(two, pa, pb, into_a, k, k, small, float(vh_all[small]))
            if not (reducing or bending) and n in holes_at:
                hole_links = np.array(holes_at[n])
                d_hole = 2 * math.sqrt(c.hole_area_m2[hole_links - c.n_pipes].max() / math.pi)
                run_node.append(n)
                run_a.append(pa)
                run_b.append(pb)
                run_holes.append(hole_links)
                run_beta2.append((d_hole / d0) ** 2)
        elif count >= 3:
            ang = np.degrees(np.arccos(np.clip(-cos, -1.0, 1.0)))
            tees.append(
                Tee(
                    tuple(int(p) for p in pipes),
                    tuple(1.0 if c.link_to[p] == n else -1.0 for p in pipes),
                    tuple(float(c.diameter_m[p]) for p in pipes),
                    tuple(float(vh_all[p]) for p in pipes),
                    tuple(tuple(float(v) for v in row) for row in cos),
                    tuple(tuple(float(v) for v in row) for row in ang),
                )
            )
    i64 = np.int64
    two_pipe = TwoPipe(
        np.array(two["a"], dtype=i64),
        np.array(two["b"], dtype=i64),
        np.array(two["a_into"]),
        np.array(two["k_ab"]),
        np.array(two["k_ba"]),
        np.array(two["small"], dtype=i64),
        np.array(two["vh"]),
    )
    hole_run = HoleRun(
        np.array(run_node, dtype=i64),
        np.array(run_a, dtype=i64),
        np.array(run_b, dtype=i64),
        tuple(run_holes),
        np.array(run_beta2, dtype=float),
    )
    return Fittings(two_pipe, tuple(tees), hole_run)


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


def tee_arrays(tees: tuple[Tee, ...]) -> TeeArrays:
    """Geometry-only constants of Crane's tee coefficients, per (combined leg, branch)."""
    ptr, leg, pair_ptr, pair = [0], [], [0], []
    for t in tees:
        n = len(t.pipes)
        for p, s in zip(t.pipes, t.into, strict=True):
            leg.append((p, int(s)))
        for i in range(n):
            for j in range(n):
                beta2 = (min(t.diam[j], t.diam[i]) / t.diam[i]) ** 2
                angle = min(max(t.angle[i][j], 1.0), 90.0)
                pair.append(
                    (
                        t.cos[i][j],
                        beta2,
                        angle,
                        float(fluids_interp(angle, _BRANCH_CONV_ANGLES, _BRANCH_CONV_FS)),
                        t.vh[i],
                        float(fluids_interp(angle, _RUN_CONV_ANGLES, _RUN_CONV_FS)),
                    )
                )
        ptr.append(len(leg))
        pair_ptr.append(len(pair))
    return TeeArrays(
        np.array(ptr, dtype=np.int64),
        np.array(leg, dtype=np.int64).reshape(-1, 2),
        np.array(pair_ptr, dtype=np.int64),
        np.array(pair, dtype=float).reshape(-1, 6),
    )
