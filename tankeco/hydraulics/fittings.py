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

Where a leg's flow passes through zero (a dead end, the stagnation point of a pipe fed
from both ends, a header whose flow reverses) Crane's correlations are discontinuous,
which stalls Newton.  The model is therefore made continuous over a few per cent
(:data:`REVERSAL_FADE`) of the combined flow: an outgoing leg's loss fades in (tees and
crosses, the run loss at a header hole, elbows and reducers with holes), and a tee whose
smallest leg flows *in* blends Crane's combining losses with its dividing losses for that
leg shut (:func:`tankeco.hydraulics.newton_kernel._tee`).  Away from reversals nothing changes;
on the shipped layouts and the test networks the hole flows move by less than 0.03 %.

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
    m_coeff: np.ndarray  # Crane M for a small branch (beta^2 <= 0.4)


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


def classify(net: Network, c: Compiled) -> Fittings:
    """Fittings of a network from the layout's names and geometry (raises if impossible)."""
    holes_at: dict[int, list[int]] = {}
    for h, n in enumerate(c.hole_node):
        holes_at.setdefault(int(n), []).append(c.n_pipes + h)
    vh_all = losses.velocity_head_coeff(c.area_m2)
    two: dict[str, list] = {k: [] for k in ("a", "b", "a_into", "k_ab", "k_ba", "small", "vh")}
    tees: list[Tee] = []
    run_node, run_a, run_b, run_holes, run_m = [], [], [], [], []
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
            deflection = math.degrees(math.acos(float(np.clip(-cos[0, 1], -1.0, 1.0))))
            kind = None
            if named == "reducer" or (named == "auto" and abs(d0 - d1) > 1e-9):
                kind = "reducer"
                k_ab, k_ba = losses.reducer_k(d0, d1), losses.reducer_k(d1, d0)
                small = pa if d0 <= d1 else pb
            elif named == "elbow" or (named == "auto" and deflection > STRAIGHT_DEG):
                kind = "elbow"
                re = ELBOW_K_VELOCITY_M_S * d0 / net.fluid.nu_m2_s
                k_ab = k_ba = losses.elbow_k(d0, deflection, net.elbow_radius_per_diameter, re)
                small = pa
            if kind is not None:
                two["a"].append(pa)
                two["b"].append(pb)
                two["a_into"].append(1.0 if c.link_to[pa] == n else -1.0)
                two["k_ab"].append(k_ab)
                two["k_ba"].append(k_ba)
                two["small"].append(small)
                two["vh"].append(float(vh_all[small]))
            elif n in holes_at:
                hole_links = np.array(holes_at[n])
                d_hole = 2 * math.sqrt(c.hole_area_m2[hole_links - c.n_pipes].max() / math.pi)
                # Crane's run K = M (Qb/Qc)^2; M = 0.4 whenever beta^2 <= 0.4, read from
                # fluids with a split of one half (M * 0.25)
                m = losses.tee_k(True, True, d0, d_hole, 0.5, 0.5, 90.0) / 0.25
                run_node.append(n)
                run_a.append(pa)
                run_b.append(pb)
                run_holes.append(hole_links)
                run_m.append(m)
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
        np.array(run_m),
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
