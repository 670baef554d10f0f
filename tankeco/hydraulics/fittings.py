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

Only the momentum mode uses this module; friction-only (EPANET-like) solves skip it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tankeco.errors import ScenarioError
from tankeco.hydraulics import losses
from tankeco.hydraulics.network import Compiled, Network

#: pipes a named fitting needs
_PIPE_COUNT = {"cap": 1, "elbow": 2, "reducer": 2, "tee": 3, "cross": 4}

#: two pipes closer to straight than this (degrees of deflection) are a plain joint
STRAIGHT_DEG = 5.0


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
class HoleRun:
    """Straight header junctions with holes: Crane's run loss of a dividing tee."""

    node: np.ndarray  # junction index
    pipe_a: np.ndarray
    pipe_b: np.ndarray
    holes: tuple[np.ndarray, ...]
    m_coeff: np.ndarray  # Crane M for a small branch (beta^2 <= 0.4)


def classify_none() -> HoleRun:
    """No hole-run losses (friction-only mode)."""
    empty = np.zeros(0, dtype=np.int64)
    return HoleRun(empty, empty, empty, (), np.zeros(0))


def classify(net: Network, c: Compiled) -> tuple[tuple[FittingNode, ...], HoleRun]:
    """Fitting nodes and hole-run nodes of a network (raises on impossible fittings)."""
    holes_at: dict[int, list[int]] = {}
    for h, n in enumerate(c.hole_node):
        holes_at.setdefault(int(n), []).append(c.n_pipes + h)
    fittings: list[FittingNode] = []
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
            d0, d1 = c.diameter_m[pipes[0]], c.diameter_m[pipes[1]]
            deflection = math.degrees(math.acos(float(np.clip(-cos[0, 1], -1.0, 1.0))))
            if named == "reducer" or (named == "auto" and abs(d0 - d1) > 1e-9):
                fittings.append(FittingNode(n, "reducer", pipes, cos))
            elif named == "elbow" or (named == "auto" and deflection > STRAIGHT_DEG):
                fittings.append(FittingNode(n, "elbow", pipes, cos, deflection))
            elif n in holes_at:
                hole_links = np.array(holes_at[n])
                d_hole = 2 * math.sqrt(c.hole_area_m2[hole_links - c.n_pipes].max() / math.pi)
                # Crane's run K = M (Qb/Qc)^2; M = 0.4 whenever beta^2 <= 0.4, read from
                # fluids with a split of one half (M * 0.25)
                m = losses.tee_k(True, True, float(d0), d_hole, 0.5, 0.5, 90.0) / 0.25
                run_node.append(n)
                run_a.append(pipes[0])
                run_b.append(pipes[1])
                run_holes.append(hole_links)
                run_m.append(m)
        elif count >= 3:
            fittings.append(FittingNode(n, "tee", pipes, cos))
    hole_run = HoleRun(
        np.array(run_node, dtype=np.int64),
        np.array(run_a, dtype=np.int64),
        np.array(run_b, dtype=np.int64),
        tuple(run_holes),
        np.array(run_m),
    )
    return tuple(fittings), hole_run


def fitting_losses(
    fittings: tuple[FittingNode, ...],
    c: Compiled,
    q: np.ndarray,
    nu_m2_s: float,
    elbow_radius_per_diameter: float,
) -> list[tuple[int, int, float]]:
    """End losses ``(link, combined link, K * 1/(2 g A_comb^2))`` at the current flows.

    The loss on ``link`` is ``coef * Q_comb^2`` in its flow direction.
    """
    out: list[tuple[int, int, float]] = []
    for f in fittings:
        n = f.node
        pipes = f.pipes
        # +1 where the pipe carries flow into the node
        into = np.where(c.link_to[pipes] == n, 1.0, -1.0) * q[pipes]
        if f.kind in ("elbow", "reducer"):
            a, b = (0, 1) if into[0] >= 0 else (1, 0)  # a flows in, b flows out
            pa, pb = int(pipes[a]), int(pipes[b])
            if f.kind == "elbow":
                area = c.area_m2[pb]
                re = abs(q[pb]) / area * c.diameter_m[pb] / nu_m2_s
                k = losses.elbow_k(
                    c.diameter_m[pb], f.deflection_deg, elbow_radius_per_diameter, re
                )
                out.append((pb, pb, k * float(losses.velocity_head_coeff(area))))
            else:
                k = losses.reducer_k(c.diameter_m[pa], c.diameter_m[pb])
                small = pa if c.diameter_m[pa] < c.diameter_m[pb] else pb
                out.append((pb, small, k * float(losses.velocity_head_coeff(c.area_m2[small]))))
            continue
        ins = np.flatnonzero(into > 0)
        outs = np.flatnonzero(into <= 0)
        if len(ins) == 1 and len(outs) >= 2:
            diverging, comb, others = True, int(ins[0]), outs
        elif len(outs) == 1 and len(ins) >= 2:
            diverging, comb, others = False, int(outs[0]), ins
        else:
            continue
        run = int(others[np.argmin(f.cos[comb, others])])
        pc = int(pipes[comb])
        vh = float(losses.velocity_head_coeff(c.area_m2[pc]))
        q_run = abs(float(q[pipes[run]]))
        for o in others:
            po = int(pipes[o])
            is_run = int(o) == run
            if is_run:
                branch = int(next(b for b in others if b != run))
                q_branch = abs(float(q[pipes[branch]]))
                d_branch = c.diameter_m[pipes[branch]]
                angle = math.degrees(math.acos(float(np.clip(-f.cos[comb, branch], -1, 1))))
            else:
                q_branch = abs(float(q[po]))
                d_branch = c.diameter_m[po]
                angle = math.degrees(math.acos(float(np.clip(-f.cos[comb, o], -1, 1))))
            k = losses.tee_k(diverging, is_run, c.diameter_m[pc], d_branch, q_run, q_branch, angle)
            out.append((po, pc, k * vh))
    return out
