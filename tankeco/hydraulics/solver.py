"""Newton's method on link flows and junction heads (EPANET's global gradient method).

Unknowns are the flow ``Q_k`` of every link (pipes, holes, pump) and the total head
``H_n`` of every junction.  The equations (Todini & Pilati 1988; Rossman et al. 2020,
EPANET 2.2 User Manual, Appendix D) are

* one per link, ``H_from - H_to = h_k(Q)`` (head loss; for the pump ``-g(Q)``), and
* one per junction, ``sum(Q in) - sum(Q out) = d_n`` (the fixed-flow pump's injection).

Newton's step solves the full Jacobian ``[[-dh/dQ, A12], [A21, 0]] [dQ; dH] = -[F; G]``
at once instead of EPANET's Schur complement, because in the momentum mode a link's loss
also depends on its neighbours' flows (a hole sees the header's velocity head, a tee's K
charges the combined stream).  The iteration runs compiled
(:mod:`tankeco.hydraulics.newton_kernel`): exact derivatives, and the matrix factored by sparse
LU in a static minimum-degree pivot order computed once per topology (cached, so the
tuner's candidates of one shape share it).  Because every junction row is linear, each
full Newton step conserves flow at every junction to rounding error.  The momentum mode
starts like EPANET (even hole flows); should Newton fail from there it starts again from
the friction-only solution.

Modes (``SolveOptions.mode``):

* ``"momentum"`` (default): total heads with velocity heads: a hole discharges under the
  static head ``H - V^2/2g`` of the header at its junction (mean of the V^2 of the
  header pipes there, a dead end counting as V = 0), so the static pressure rises along
  a dividing header as its flow leaves through the holes (pressure regain); tees, elbows
  and reducers add their fitting losses (:mod:`tankeco.hydraulics.fittings`).
* ``"friction"``: EPANET-like: pipe friction, constant minor losses and the orifice of
  each hole only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from tankeco.errors import UserError
from tankeco.hydraulics import fittings as fit
from tankeco.hydraulics import losses
from tankeco.hydraulics import newton_kernel as kernel
from tankeco.hydraulics.network import Compiled, Network

#: if Newton fails from the plain start, the momentum mode starts again from the
#: friction-only solution, converged to this relative flow step
FRICTION_START_TOL = 1e-3

_I2 = np.zeros((0, 2), dtype=np.int64)


class HydraulicsError(UserError):
    """The network could not be solved (one line, exit code 2)."""


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: physics mode, head-loss formula, stopping rules."""

    mode: Literal["momentum", "friction"] = "momentum"
    headloss: Literal["darcy-weisbach", "hazen-williams"] = "darcy-weisbach"
    max_iterations: int = 60
    #: stop when no link equation is off by more than this (m) ...
    tol_head_m: float = 1e-9
    #: ... and no flow changed by more than this fraction of the pump flow
    tol_flow_rel: float = 1e-10


@dataclass(frozen=True)
class Solution:
    """A solved network: flows in m3/s, heads in m above the tank surface."""

    network: Network
    q_m3_s: np.ndarray
    head_m: np.ndarray
    hole_static_head_m: np.ndarray
    pump_flow_m3_s: float
    pump_head_m: float
    iterations: int
    options: SolveOptions

    @property
    def hole_flow_m3_s(self) -> np.ndarray:
        c = self.network.compiled
        return self.q_m3_s[c.n_pipes : c.n_pipes + c.n_holes]

    @property
    def hole_flow_l_h(self) -> np.ndarray:
        return self.hole_flow_m3_s * 3.6e6

    def junction_imbalance_m3_s(self) -> np.ndarray:
        """Inflow minus outflow minus injection at every junction (should be ~0)."""
        c = self.network.compiled
        return _junction_residual(c, self.q_m3_s)


def _junction_residual(c: Compiled, q: np.ndarray) -> np.ndarray:
    nj = c.n_junctions
    inflow = np.bincount(c.link_to, weights=q, minlength=nj + 2)[:nj]
    outflow = np.bincount(c.link_from, weights=q, minlength=nj + 2)[:nj]
    return inflow - outflow - c.demand_m3_s


@dataclass(frozen=True)
class _Structure:
    """Pattern of the Newton matrix and its static LU order (built once per topology)."""

    n: int
    const_pos: np.ndarray
    const_val: np.ndarray
    posmap: np.ndarray
    perm: np.ndarray
    row_ptr: np.ndarray
    col: np.ndarray
    diag: np.ndarray


_STRUCTURES: dict[tuple, _Structure] = {}
_STRUCTURE_CACHE_SIZE = 64


def _structure(c: Compiled, momentum: bool) -> _Structure:
    """The matrix structure of a topology (cached: the tuner re-solves the same shapes)."""
    key = (momentum, c.n_junctions, c.link_from.tobytes(), c.link_to.tobytes())
    st = _STRUCTURES.get(key)
    if st is None:
        st = _build_structure(c, momentum)
        if len(_STRUCTURES) >= _STRUCTURE_CACHE_SIZE:
            _STRUCTURES.pop(next(iter(_STRUCTURES)))
        _STRUCTURES[key] = st
    return st


def _build_structure(c: Compiled, momentum: bool) -> _Structure:
    nl, nj = c.n_links, c.n_junctions
    n = nl + nj
    links = np.arange(nl)
    rows, cols, vals = [links], [links], []
    const_rows, const_cols = [], []
    for end, sign in ((c.link_from, 1.0), (c.link_to, -1.0)):
        at = end < nj
        k, node = links[at], end[at] + nl
        const_rows += [k, node]
        const_cols += [node, k]
        vals += [np.full(k.size, sign), np.full(k.size, -sign)]
    if momentum:
        # every pair of links meeting at a junction
        inc_node = np.concatenate([c.link_from, c.link_to])
        inc_link = np.concatenate([links, links])
        keep = inc_node < nj
        inc_node, inc_link = inc_node[keep], inc_link[keep]
        order = np.argsort(inc_node, kind="stable")
        inc_node, inc_link = inc_node[order], inc_link[order]
        counts = np.bincount(inc_node, minlength=nj)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        reps = counts[inc_node]
        a = np.repeat(inc_link, reps)
        first = np.repeat(starts[inc_node], reps)
        offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        rows.append(a)
        cols.append(inc_link[first + offset])
    all_rows = np.concatenate(rows + const_rows)
    all_cols = np.concatenate(cols + const_cols)
    perm, inv, row_ptr, col, diag = kernel.symbolic(n, nl, all_rows, all_cols)
    posmap = np.full((n, n), -1, dtype=np.int64)
    posmap[all_rows, all_cols] = kernel.positions(inv, row_ptr, col, all_rows, all_cols)
    const_r, const_c = np.concatenate(const_rows), np.concatenate(const_cols)
    return _Structure(
        n, posmap[const_r, const_c], np.concatenate(vals), posmap, perm, row_ptr, col, diag
    )


class Solver:
    """Solves one network repeatedly (warm starts, changing bed resistances)."""

    def __init__(self, network: Network, options: SolveOptions | None = None):
        self.net = network
        self.opt = options or SolveOptions()
        self.c = c = network.compiled
        momentum = self.opt.mode == "momentum"
        self.fittings = fit.classify(network, c) if momentum else fit.classify_none()
        self.structure = _structure(c, momentum)
        vh = losses.velocity_head_coeff(c.area_m2)
        nu = network.fluid.nu_m2_s
        ed = c.roughness_m / c.diameter_m
        self._pipe = np.column_stack(
            [
                c.length_m,
                c.diameter_m,
                c.area_m2,
                ed,
                32.0 * nu * c.length_m / (losses.G_M_S2 * c.diameter_m**2 * c.area_m2),
                [kernel.clamond(kernel.RE_TURBULENT, float(e)) for e in ed],
                losses.HW_COEFF_SI * c.length_m / (c.hw_c**1.852 * c.diameter_m**4.871),
                c.minor_k,
                vh,
            ]
        ).reshape(-1, 9)
        self._k_hole = 1.0 / (2 * losses.G_M_S2 * c.hole_cd**2 * c.hole_area_m2**2)
        curve = network.pump.curve
        pump_kind, pump_pts, pump_abc = 0, np.zeros((0, 2)), (0.0, 0.0, 1.0)
        if curve is not None:
            if curve.points_q_m3_s:
                pump_kind = 2
                pump_pts = np.column_stack([curve.points_q_m3_s, curve.points_h_m])
            else:
                pump_kind, pump_abc = 1, (curve.a_m, curve.b, curve.c)
        self._ints = np.array(
            [
                c.n_links,
                c.n_junctions,
                c.n_pipes,
                c.n_holes,
                int(c.has_pump_link),
                pump_kind,
                int(self.opt.headloss == "hazen-williams"),
            ],
            dtype=np.int64,
        )
        self._flts = np.array([nu, fit.REVERSAL_FADE, *pump_abc])
        self._pump_pts = pump_pts
        self._hole_vref = self._hole_vref_arrays() if momentum else (_I2, np.zeros(0))
        f = self.fittings
        two = f.two
        self._run = np.column_stack(
            [f.hole_run.node, f.hole_run.pipe_a, f.hole_run.pipe_b]
        ).reshape(-1, 3)
        self._two = np.column_stack([two.a, two.b, two.small]).reshape(-1, 3)
        self._two_f = np.column_stack([two.a_into, two.k_ab, two.k_ba, two.vh_small]).reshape(-1, 4)
        self._tees = fit.tee_arrays(f.tees)

    # ------------------------------------------------------------ structure
    def _hole_vref_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """((hole link, pipe) rows, weight): the header velocity head a hole sees."""
        c = self.c
        hl, pp, w = [], [], []
        for h in range(c.n_holes):
            pipes = c.node_pipes[c.hole_node[h]]
            for p in pipes:
                hl.append(c.n_pipes + h)
                pp.append(p)
                w.append(1.0 / max(len(pipes), 2))
        return np.array([hl, pp], dtype=np.int64).T.reshape(-1, 2), np.array(w, dtype=float)

    # ------------------------------------------------------------ Newton
    def solve(
        self,
        bed_c1: np.ndarray | None = None,
        bed_c2: np.ndarray | None = None,
        initial: Solution | None = None,
    ) -> Solution:
        """Solve for flows and heads; ``bed_c1/c2`` give each hole's bed loss a q + b q^2."""
        c, opt = self.c, self.opt
        nl = c.n_links
        zeros = np.zeros(c.n_holes)
        hole = np.column_stack(
            [
                self._k_hole,
                zeros if bed_c1 is None else np.asarray(bed_c1, dtype=float),
                zeros if bed_c2 is None else np.asarray(bed_c2, dtype=float),
            ]
        )
        warm = initial is not None and initial.q_m3_s.shape == (nl,)
        x = self._start(initial if warm else None)
        status, it, fmax = self._newton(x, hole, False)
        if status != kernel.OK and opt.mode == "momentum" and not warm:
            # a second start: the friction-only solution (Crane's coefficients switch
            # with the flow pattern, so Newton's path can matter)
            x = self._start(None)
            status, it2, fmax = self._newton(x, hole, True)
            it = min(it + it2, opt.max_iterations)
        if status == kernel.SINGULAR:
            raise HydraulicsError(
                f"hydraulic solve failed at iteration {it}: singular network matrix; "
                "a part of the network may carry no defined flow"
            )
        if status == kernel.NON_FINITE:
            raise HydraulicsError(f"hydraulic solve produced non-finite values at iteration {it}")
        if status != kernel.OK:
            raise HydraulicsError(
                f"hydraulic solve did not converge in {opt.max_iterations} iterations "
                f"(largest head error {fmax:.3g} m); check the pump curve against "
                "the layout's losses, or try mode 'friction'"
            )
        return self._solution(x[:nl].copy(), x[nl:].copy(), it)

    def _newton(self, x: np.ndarray, hole: np.ndarray, friction_start: bool) -> tuple:
        """Run the compiled Newton iteration on ``x`` (in place): (status, iterations, error)."""
        c, opt, st = self.c, self.opt, self.structure
        t = self._tees
        return kernel.newton(
            x,
            opt.max_iterations,
            opt.tol_head_m,
            opt.tol_flow_rel,
            FRICTION_START_TOL,
            opt.mode == "momentum",
            friction_start,
            self._ints,
            self._flts,
            c.link_from,
            c.link_to,
            c.fixed_head_m,
            c.demand_m3_s,
            self._pipe,
            hole,
            self._pump_pts,
            self._hole_vref[0],
            self._hole_vref[1],
            self._run,
            self.fittings.hole_run.m_coeff,
            self._two,
            self._two_f,
            t.ptr,
            t.leg,
            t.pair_ptr,
            t.pair,
            st.const_pos,
            st.const_val,
            st.posmap,
            st.perm,
            st.row_ptr,
            st.col,
            st.diag,
        )

    def _start(self, initial: Solution | None) -> np.ndarray:
        c = self.c
        if initial is not None:
            return np.concatenate([initial.q_m3_s, initial.head_m])
        pump = self.net.pump
        if pump.flow_m3_s is not None:
            q_total = pump.flow_m3_s
        else:
            # a nominal flow: 1 m/s through the holes, at most the curve's zero-head flow
            q_total = float(np.sum(c.hole_area_m2)) * 1.0
        x = np.zeros(c.n_links + c.n_junctions)
        x[c.n_pipes : c.n_pipes + c.n_holes] = q_total / c.n_holes
        if c.has_pump_link:
            x[c.n_links - 1] = q_total
        return x

    def _solution(self, q: np.ndarray, head: np.ndarray, it: int) -> Solution:
        c = self.c
        vh = losses.velocity_head_coeff(c.area_m2)
        static = head[c.hole_node].copy()
        (pairs, w) = self._hole_vref
        if w.size:
            hl, pp = pairs[:, 0], pairs[:, 1]
            static -= np.bincount(
                hl - c.n_pipes, weights=w * vh[pp] * q[pp] ** 2, minlength=c.n_holes
            )
        h_all = np.concatenate([head, c.fixed_head_m])
        if c.has_pump_link:
            pump_q = float(q[-1])
        else:
            pump_q = float(self.net.pump.flow_m3_s or 0.0)
        pump_h = float(h_all[self.net_outlet] - c.fixed_head_m[1])
        return Solution(self.net, q, head, static, pump_q, pump_h, it, self.opt)

    @cached_property
    def net_outlet(self) -> int:
        return next(i for i, n in enumerate(self.net.nodes) if n.name == self.net.pump.outlet)


def solve(
    network: Network,
    options: SolveOptions | None = None,
    bed_c1: np.ndarray | None = None,
    bed_c2: np.ndarray | None = None,
) -> Solution:
    """Solve ``network`` once (see :class:`Solver` to re-solve the same network)."""
    return Solver(network, options).solve(bed_c1, bed_c2)
