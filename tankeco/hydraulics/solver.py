"""Newton's method on link flows and junction heads (EPANET's global gradient method).

Unknowns are the flow ``Q_k`` of every link (pipes, holes, pump) and the total head
``H_n`` of every junction.  The equations (Todini & Pilati 1988; Rossman et al. 2020,
EPANET 2.2 User Manual, Appendix D) are

* one per link, ``H_from - H_to = h_k(Q)`` (head loss; for the pump ``-g(Q)``), and
* one per junction, ``sum(Q in) - sum(Q out) = d_n`` (the fixed-flow pump's injection).

Newton's step solves the full Jacobian ``[[-dh/dQ, A12], [A21, 0]] [dQ; dH] = -[F; G]``
at once instead of EPANET's Schur complement, because in the momentum mode a link's loss
also depends on its neighbours' flows (a hole sees the header's velocity head, a tee's K
charges the combined stream).  The matrix is ordered by reverse Cuthill-McKee once per
network and solved as a banded system (LAPACK gbsv via :func:`scipy.linalg.solve_banded`).
Because every junction row is linear, each full Newton step conserves flow at every
junction to rounding error.

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

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
from scipy.linalg import solve_banded
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee

from tankeco.errors import UserError
from tankeco.hydraulics import fittings as fit
from tankeco.hydraulics import losses
from tankeco.hydraulics.network import Compiled, Network


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


@dataclass
class _Pattern:
    """Sparsity pattern of the Jacobian and its banded layout (built once per network)."""

    n: int
    rows: np.ndarray
    cols: np.ndarray
    index: dict[tuple[int, int], int]
    const_pos: np.ndarray
    const_val: np.ndarray
    perm: np.ndarray
    inv: np.ndarray
    lower: int
    upper: int
    flat: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


class Solver:
    """Solves one network repeatedly (warm starts, changing bed resistances)."""

    def __init__(self, network: Network, options: SolveOptions | None = None):
        self.net = network
        self.opt = options or SolveOptions()
        self.c = network.compiled
        if self.opt.mode == "momentum":
            self.fittings = fit.classify(network, self.c)
        else:
            self.fittings = fit.classify_none()
        self.hole_run = self.fittings.hole_run
        c = self.c
        self._darcy = losses.DarcyFriction(
            c.length_m, c.diameter_m, c.area_m2, c.roughness_m, network.fluid.nu_m2_s
        )
        self._hole_vref = self._hole_vref_arrays()

    # ------------------------------------------------------------ structure
    def _hole_vref_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hole link, pipe, weight): the header velocity head a hole sees."""
        c = self.c
        hl, pp, w = [], [], []
        if self.opt.mode == "momentum":
            for h in range(c.n_holes):
                pipes = c.node_pipes[c.hole_node[h]]
                for p in pipes:
                    hl.append(c.n_pipes + h)
                    pp.append(p)
                    w.append(1.0 / max(len(pipes), 2))
        return np.array(hl, dtype=np.int64), np.array(pp, dtype=np.int64), np.array(w)

    @cached_property
    def pattern(self) -> _Pattern:
        c = self.c
        nl, nj = c.n_links, c.n_junctions
        n = nl + nj
        index: dict[tuple[int, int], int] = {}

        def at(r: int, col: int) -> int:
            return index.setdefault((r, col), len(index))

        const_pos, const_val = [], []
        for k in range(nl):
            at(k, k)
            for node, sign in ((c.link_from[k], 1.0), (c.link_to[k], -1.0)):
                if node < nj:
                    const_pos.append(at(k, nl + node))
                    const_val.append(sign)
                    const_pos.append(at(nl + node, k))
                    const_val.append(-sign)
        # couplings: every pair of links meeting at a junction
        links_at: list[list[int]] = [[] for _ in range(nj)]
        for k in range(nl):
            for node in (c.link_from[k], c.link_to[k]):
                if node < nj:
                    links_at[node].append(k)
        if self.opt.mode == "momentum":
            for ks in links_at:
                for a in ks:
                    for b in ks:
                        at(a, b)
        rows = np.array([rc[0] for rc in index], dtype=np.int64)
        cols = np.array([rc[1] for rc in index], dtype=np.int64)
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
        graph = graph + graph.T
        perm = np.asarray(reverse_cuthill_mckee(graph.tocsr(), symmetric_mode=True))
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        pr, pc = inv[rows], inv[cols]
        lower = int(max(0, (pr - pc).max()))
        upper = int(max(0, (pc - pr).max()))
        pat = _Pattern(
            n,
            rows,
            cols,
            index,
            np.array(const_pos, dtype=np.int64),
            np.array(const_val),
            perm,
            inv,
            lower,
            upper,
        )
        # position of each entry in the (lower+upper+1, n) banded array, row-major flat
        pat.flat = (upper + pr - pc) * n + pc
        return pat

    # ------------------------------------------------------------ physics
    def _losses(
        self, q: np.ndarray, bed_c1: np.ndarray, bed_c2: np.ndarray, jacobian: bool = True
    ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
        """(loss or -gain per link, Jacobian entries (row, col, d/dQ)) at flows ``q``."""
        c, opt = self.c, self.opt
        n_p, n_h = c.n_pipes, c.n_holes
        loss = np.zeros(c.n_links)
        entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        qp = q[:n_p]
        if opt.headloss == "hazen-williams":
            h, dh = losses.hazen_williams_pipe_loss(qp, c.length_m, c.diameter_m, c.hw_c)
        else:
            h, dh = self._darcy(qp)
        vh = losses.velocity_head_coeff(c.area_m2)
        h = h + c.minor_k * vh * qp * np.abs(qp)
        dh = dh + 2 * c.minor_k * vh * np.abs(qp)
        loss[:n_p] = h
        diag = np.empty(c.n_links)
        diag[:n_p] = dh
        qh = q[n_p : n_p + n_h]
        h, dh = losses.hole_loss(qh, c.hole_cd, c.hole_area_m2)
        loss[n_p : n_p + n_h] = h + bed_c1 * qh + bed_c2 * qh * np.abs(qh)
        diag[n_p : n_p + n_h] = dh + bed_c1 + 2 * bed_c2 * np.abs(qh)
        if c.has_pump_link:
            g, dg = self.net.pump.curve.head_m(float(q[-1]))  # type: ignore[union-attr]
            loss[-1] = -g
            diag[-1] = -dg
        ar = np.arange(c.n_links)
        entries.append((ar, ar, diag))
        if opt.mode == "momentum":
            self._momentum_terms(q, vh, loss, entries, jacobian)
        return loss, entries

    def _momentum_terms(self, q, vh, loss, entries, jacobian: bool = True) -> None:
        c = self.c
        hl, pp, w = self._hole_vref
        if hl.size:
            # the hole sees the static head H - V^2/2g of the header at its junction
            loss += np.bincount(hl, weights=w * vh[pp] * q[pp] ** 2, minlength=c.n_links)
            entries.append((hl, pp, 2 * w * vh[pp] * q[pp]))
        run = self.hole_run
        if run.node.size:
            qa, qb = q[run.pipe_a], q[run.pipe_b]
            into_a = np.where(c.link_to[run.pipe_a] == run.node, qa, -qa)
            into_b = np.where(c.link_to[run.pipe_b] == run.node, qb, -qb)
            # dividing: exactly one header pipe brings flow in, the other carries it on
            a_in = (into_a > 0) & (into_b < 0)
            b_in = (into_b > 0) & (into_a < 0)
            active = a_in | b_in
            comb = np.where(a_in, run.pipe_a, run.pipe_b)[active]
            out = np.where(a_in, run.pipe_b, run.pipe_a)[active]
            q_comb = np.abs(q[comb])
            q_out = np.abs(q[out])
            # Crane: K_run = M (Q_branch / Q_comb)^2 on V_comb^2/2g -> loss = M vh Qb^2
            qb_br = np.maximum(q_comb - q_out, 0.0)
            coef = run.m_coeff[active] * vh[comb]
            sgn = np.sign(q[out])
            loss += np.bincount(out, weights=sgn * coef * qb_br**2, minlength=c.n_links)
            # d/dQ_comb and d/dQ_out of Qb = |Q_comb| - |Q_out|
            entries.append((out, comb, sgn * 2 * coef * qb_br * np.sign(q[comb])))
            entries.append((out, out, -sgn * 2 * coef * qb_br * sgn))
        two = self.fittings.two
        if two.a.size:
            out, vals, entry = fit.two_pipe_losses(two, q)
            loss += np.bincount(out, weights=vals, minlength=c.n_links)
            entries.append(entry)
        if self.fittings.tees:
            links, values, jac = fit.tee_losses(self.fittings.tees, q, jacobian)
            if links:
                loss += np.bincount(links, weights=values, minlength=c.n_links)
            if jac:
                rows, cols, vals = zip(*jac, strict=True)
                entries.append((np.array(rows), np.array(cols), np.array(vals)))

    # ------------------------------------------------------------ Newton
    def _residual(self, q, head, bed_c1, bed_c2, jacobian: bool = True):
        c = self.c
        loss, entries = self._losses(q, bed_c1, bed_c2, jacobian)
        h_all = np.concatenate([head, c.fixed_head_m])
        f = h_all[c.link_from] - h_all[c.link_to] - loss
        g = _junction_residual(c, q)
        return f, g, entries

    def _jacobian_banded(self, entries) -> np.ndarray:
        pat = self.pattern
        rows = np.concatenate([e[0] for e in entries])
        cols = np.concatenate([e[1] for e in entries])
        vals = -np.concatenate([e[2] for e in entries])  # F = dH - loss
        n = pat.n
        key = rows * n + cols
        pos = self._positions(key)
        acc = np.bincount(pos, weights=vals, minlength=len(pat.rows))
        acc[pat.const_pos] += pat.const_val
        ab = np.zeros((pat.lower + pat.upper + 1, n))
        ab.ravel()[pat.flat] = acc
        return ab

    @cached_property
    def _key_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        pat = self.pattern
        keys = pat.rows * pat.n + pat.cols
        order = np.argsort(keys)
        return keys[order], order

    def _positions(self, key: np.ndarray) -> np.ndarray:
        keys, order = self._key_lookup
        return order[np.searchsorted(keys, key)]

    def solve(
        self,
        bed_c1: np.ndarray | None = None,
        bed_c2: np.ndarray | None = None,
        initial: Solution | None = None,
    ) -> Solution:
        """Solve for flows and heads; ``bed_c1/c2`` give each hole's bed loss a q + b q^2."""
        c, opt, pat = self.c, self.opt, self.pattern
        nl = c.n_links
        bed_c1 = np.zeros(c.n_holes) if bed_c1 is None else np.asarray(bed_c1, dtype=float)
        bed_c2 = np.zeros(c.n_holes) if bed_c2 is None else np.asarray(bed_c2, dtype=float)
        q, head = self._start(initial)
        q_scale = max(float(np.abs(q[c.n_pipes : c.n_pipes + c.n_holes]).sum()), 1e-9)
        f, g, entries = self._residual(q, head, bed_c1, bed_c2)
        for it in range(1, opt.max_iterations + 1):
            ab = self._jacobian_banded(entries)
            rhs = -np.concatenate([f, g])[pat.perm]
            try:
                dx = solve_banded(
                    (pat.lower, pat.upper), ab, rhs, overwrite_ab=True, check_finite=False
                )[pat.inv]
            except (np.linalg.LinAlgError, ValueError) as exc:
                raise HydraulicsError(
                    f"hydraulic solve failed at iteration {it}: singular network matrix "
                    f"({exc}); a part of the network may carry no defined flow"
                ) from None
            if not np.all(np.isfinite(dx)):
                raise HydraulicsError(
                    f"hydraulic solve produced non-finite values at iteration {it}"
                )
            dq, dh = dx[:nl], dx[nl:]
            merit0 = _merit(f, g, q_scale)
            step = 1.0
            f_new, g_new, e_new = self._residual(q + dq, head + dh, bed_c1, bed_c2)
            while merit0 > 1e-24 and _merit(f_new, g_new, q_scale) > merit0 * (1 - 1e-4 * step):
                if step < 0.01:  # no descent along Newton's direction: take the step anyway
                    break
                step *= 0.5
                f_new, g_new, e_new = self._residual(
                    q + step * dq, head + step * dh, bed_c1, bed_c2
                )
            q, head, f, g, entries = q + step * dq, head + step * dh, f_new, g_new, e_new
            q_scale = max(float(np.abs(q[c.n_pipes : c.n_pipes + c.n_holes]).sum()), 1e-9)
            if (
                step == 1.0
                and np.max(np.abs(step * dq)) <= opt.tol_flow_rel * q_scale
                and np.max(np.abs(f)) <= opt.tol_head_m
            ) or (np.max(np.abs(f)) <= opt.tol_head_m * 1e-3 and step == 1.0):
                return self._solution(q, head, it)
        raise HydraulicsError(
            f"hydraulic solve did not converge in {opt.max_iterations} iterations "
            f"(largest head error {np.max(np.abs(f)):.3g} m); check the pump curve against "
            "the layout's losses, or try mode 'friction'"
        )

    def _start(self, initial: Solution | None) -> tuple[np.ndarray, np.ndarray]:
        c = self.c
        if initial is not None and initial.q_m3_s.shape == (c.n_links,):
            return initial.q_m3_s.copy(), initial.head_m.copy()
        pump = self.net.pump
        if pump.flow_m3_s is not None:
            q_total = pump.flow_m3_s
        else:
            # a nominal flow: 1 m/s through the holes, at most the curve's zero-head flow
            q_total = float(np.sum(c.hole_area_m2)) * 1.0
        q = np.zeros(c.n_links)
        q[c.n_pipes : c.n_pipes + c.n_holes] = q_total / c.n_holes
        if c.has_pump_link:
            q[-1] = q_total
        return q, np.zeros(c.n_junctions)

    def _solution(self, q: np.ndarray, head: np.ndarray, it: int) -> Solution:
        c = self.c
        vh = losses.velocity_head_coeff(c.area_m2)
        static = head[c.hole_node].copy()
        hl, pp, w = self._hole_vref
        if hl.size:
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


def _merit(f: np.ndarray, g: np.ndarray, q_scale: float) -> float:
    """Squared residual norm with the junction rows scaled to heads (1 m per pump flow)."""
    return float(f @ f + (g @ g) / q_scale**2)


def solve(
    network: Network,
    options: SolveOptions | None = None,
    bed_c1: np.ndarray | None = None,
    bed_c2: np.ndarray | None = None,
) -> Solution:
    """Solve ``network`` once (see :class:`Solver` to re-solve the same network)."""
    return Solver(network, options).solve(bed_c1, bed_c2)
