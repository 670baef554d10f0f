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
full Newton step conserves flow at every junction to rounding error.  Newton is
globalised by a line search that may finish on partial steps (see
:func:`tankeco.hydraulics.newton_kernel.newton`).  The momentum mode starts like EPANET
(even hole flows); should Newton fail from there it starts again from the friction-only
solution, then follows the solution from the friction-only network as the momentum terms
are switched on in steps (:meth:`Solver._continuation`), then restarts on each side of
the flow reversals where the first Newton stalled (:meth:`Solver._either_side_of_reversals`),
and last solves under the other port law and steps over to this one
(:meth:`Solver._port_continuation`).

Modes (``SolveOptions.mode``):

* ``"momentum"`` (default): total heads with velocity heads.  A hole sees the header's
  velocity head at its junction (mean of the V^2 of the header pipes there, a dead end
  counting as V = 0) and discharges by Rawn et al.'s (1960) port law, its Cd falling
  as that velocity head grows (``port="rawn"``, see
  :func:`tankeco.hydraulics.newton_kernel.port_head`), or with a constant Cd on the
  static head ``H - V^2/2g`` (``port="constant"``); either way the static pressure
  rises along a dividing header as its flow leaves through the holes (pressure regain).
  Tees, elbows and reducers add their fitting losses
  (:mod:`tankeco.hydraulics.fittings`), Crane's negative coefficients credited.
* ``"friction"``: EPANET-like: pipe friction, constant minor losses and the orifice of
  each hole only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from tankeco.errors import ConvergenceError, ScenarioError
from tankeco.hydraulics import fittings as fit
from tankeco.hydraulics import losses
from tankeco.hydraulics import newton_kernel as kernel
from tankeco.hydraulics.network import Compiled, Network

#: if Newton fails from the plain start, the momentum mode starts again from the
#: friction-only solution, converged to this relative flow step
FRICTION_START_TOL = 1e-3

#: the last resort of the momentum mode: fitting losses switched on in steps of this
#: share (see :meth:`Solver._continuation`), halved after a failure down to the minimum
CONTINUATION_STEP = 0.25
CONTINUATION_MIN_STEP = 1.0 / 64

#: the momentum mode's last resort (see :meth:`Solver._either_side_of_reversals`):
#: pipes carrying less than this share of the largest flow at their ends count as
#: reversing, and Newton restarts with this share through them, each way in turn
REVERSAL_NEAR = 0.05
REVERSAL_PUSH = 0.1

#: Rawn, Bowerman & Brooks (1960): a sharp-edged port's Cd = 0.63 - 0.58 V^2/(2 g E);
#: relative to the port's own Cd at rest the slope is 0.58 / 0.63
RAWN_CD_SLOPE = 0.58 / 0.63

#: the largest network solved: unknowns (links + junctions), about 3 per hole.  The
#: factor of a ladder grows about linearly (a 10 000-hole ladder: ~30 000 unknowns,
#: 0.3 million non-zeros in momentum mode, see docs/hydraulics.md); beyond this bound
#: (~65 000 holes) the solver refuses in one line rather than risk the machine's memory.
MAX_UNKNOWNS = 200_000


class HydraulicsError(ConvergenceError):
    """The hydraulic Newton did not converge on a valid layout (not the user's fault).

    One line, exit code 3.  Layouts that cannot be built or cannot carry flow are
    :class:`~tankeco.errors.ScenarioError` (a user error, exit code 2) raised by
    :mod:`tankeco.hydraulics.network` before any solve.
    """


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: physics mode, head-loss formula, port law, stopping rules."""

    mode: Literal["momentum", "friction"] = "momentum"
    headloss: Literal["darcy-weisbach", "hazen-williams"] = "darcy-weisbach"
    #: momentum mode: ``"rawn"`` (Cd falls with the header's velocity head, see
    #: :func:`tankeco.hydraulics.newton_kernel.port_head`) or ``"constant"`` (constant
    #: Cd on the static head, the model EPANET comparisons need); friction mode ignores it
    port: Literal["rawn", "constant"] = "rawn"
    max_iterations: int = 100
    #: stop when no link equation is off by more than this (m) ...
    tol_head_m: float = 1e-9
    #: ... and no junction's balance by more than this fraction of the pump flow
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


_STRUCTURES: dict[tuple, kernel.Pattern] = {}
_STRUCTURE_CACHE_SIZE = 64


def _structure(c: Compiled, momentum: bool) -> kernel.Pattern:
    """The matrix pattern of a topology (cached: the tuner re-solves the same shapes)."""
    key = (momentum, c.n_junctions, c.link_from.tobytes(), c.link_to.tobytes())
    st = _STRUCTURES.get(key)
    if st is None:
        st = _build_structure(c, momentum)
        if len(_STRUCTURES) >= _STRUCTURE_CACHE_SIZE:
            _STRUCTURES.pop(next(iter(_STRUCTURES)))
        _STRUCTURES[key] = st
    return st


def _build_structure(c: Compiled, momentum: bool) -> kernel.Pattern:
    """Non-zeros of the Newton matrix (sparse throughout) and its static LU order."""
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
    all_rows = np.concatenate(rows + const_rows).astype(np.int64)
    all_cols = np.concatenate(cols + const_cols).astype(np.int64)
    perm, inv, row_ptr, col, diag = kernel.symbolic(n, nl, all_rows, all_cols)
    const_r = np.concatenate(const_rows).astype(np.int64)
    const_c = np.concatenate(const_cols).astype(np.int64)
    const_pos = kernel.positions(inv, row_ptr, col, const_r, const_c)
    return kernel.Pattern(n, perm, inv, row_ptr, col, diag, const_pos, np.concatenate(vals))


class Solver:
    """Solves one network repeatedly (warm starts, changing bed resistances)."""

    def __init__(self, network: Network, options: SolveOptions | None = None):
        self.net = network
        self.opt = opt = options or SolveOptions()
        self.c = c = network.compiled
        if c.n_links + c.n_junctions > MAX_UNKNOWNS:
            raise ScenarioError(
                "holes",
                c.n_holes,
                f"a network of {c.n_links + c.n_junctions} unknowns (links and junctions) "
                f"is beyond the solver's limit of {MAX_UNKNOWNS}; drill fewer holes "
                "(a wider spacing) or split the filter",
            )
        momentum = opt.mode == "momentum"
        self.fittings = fit.classify(network, c) if momentum else fit.classify_none()
        self.structure = _structure(c, momentum)
        vh = losses.velocity_head_coeff(c.area_m2)
        nu = network.fluid.nu_m2_s
        ed = c.roughness_m / c.diameter_m
        self.pipes = kernel.Pipes(
            length_m=c.length_m,
            diameter_m=c.diameter_m,
            area_m2=c.area_m2,
            rel_roughness=ed,
            laminar_r=32.0 * nu * c.length_m / (losses.G_M_S2 * c.diameter_m**2 * c.area_m2),
            f_turbulent_start=np.array([kernel.clamond(kernel.RE_TURBULENT, float(e)) for e in ed]),
            hw_r=losses.HW_COEFF_SI * c.length_m / (c.hw_c**1.852 * c.diameter_m**4.871),
            minor_k=c.minor_k,
            vh_coeff=np.asarray(vh, dtype=float),
        )
        curve = network.pump.curve
        pump_kind, pump_pts, pump_abc = kernel.PUMP_POWER, np.zeros((0, 2)), (0.0, 0.0, 1.0)
        if curve is not None:
            if curve.points_q_m3_s:
                pump_kind = kernel.PUMP_POINTS
                pump_pts = np.column_stack([curve.points_q_m3_s, curve.points_h_m])
            else:
                pump_abc = (float(curve.a_m), float(curve.b), float(curve.c))
        self.links = kernel.Links(
            n_links=int(c.n_links),
            n_junctions=int(c.n_junctions),
            n_pipes=int(c.n_pipes),
            n_holes=int(c.n_holes),
            has_pump=bool(c.has_pump_link),
            pump_kind=int(pump_kind),
            hazen_williams=opt.headloss == "hazen-williams",
            nu_m2_s=float(nu),
            pump_a_m=pump_abc[0],
            pump_b=pump_abc[1],
            pump_c=pump_abc[2],
            link_from=c.link_from,
            link_to=c.link_to,
            fixed_head_m=c.fixed_head_m,
            demand_m3_s=c.demand_m3_s,
            pump_points=np.ascontiguousarray(pump_pts, dtype=float).reshape(-1, 2),
        )
        self._k_hole = 1.0 / (2 * losses.G_M_S2 * c.hole_cd**2 * c.hole_area_m2**2)
        self._vref = self._hole_vref_arrays() if momentum else _no_vref()
        self._cd_slope = RAWN_CD_SLOPE if (momentum and opt.port == "rawn") else 0.0
        f = self.fittings
        two, t = f.two, f.tees
        self.fits = kernel.Fits(
            fade=fit.REVERSAL_FADE,
            fade_floor_m3_s=float(
                fit.FADE_FLOOR_HOLE_SHARE * self._nominal_flow_m3_s() / c.n_holes
            ),
            strength=1.0,
            run_node=f.hole_run.node,
            run_a=f.hole_run.pipe_a,
            run_b=f.hole_run.pipe_b,
            run_beta2=f.hole_run.beta2,
            two_a=two.a,
            two_b=two.b,
            two_small=two.small,
            two_a_into=two.a_into,
            two_k_ab=two.k_ab,
            two_k_ba=two.k_ba,
            two_vh=two.vh_small,
            tee_ptr=t.ptr,
            tee_leg=t.leg,
            tee_pair_ptr=t.pair_ptr,
            tee_pair=t.pair,
        )

    # ------------------------------------------------------------ structure
    def _hole_vref_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hole, header pipe, weight): the header velocity head each hole sees.

        The mean of the V^2/2g of the pipes at the hole's junction, a dead end counting
        as a pipe at rest (weight 1/2 for a hole at a cap).
        """
        c = self.c
        lo = c.node_ptr[c.hole_node]
        counts = c.node_ptr[c.hole_node + 1] - lo
        hole = np.repeat(np.arange(c.n_holes, dtype=np.int64), counts)
        # the e-th pair of hole j is incidence row lo[j] + (e - first pair of j)
        first = np.cumsum(counts) - counts
        pipe = c.node_pipe[np.repeat(lo - first, counts) + np.arange(hole.size)]
        weight = 1.0 / np.maximum(counts, 2)[hole]
        return hole, pipe, np.asarray(weight, dtype=float)

    def _holes(self, bed_c1: np.ndarray | None, bed_c2: np.ndarray | None) -> kernel.Holes:
        zeros = np.zeros(self.c.n_holes)
        return kernel.Holes(
            orifice_k=self._k_hole,
            bed_c1=zeros if bed_c1 is None else np.asarray(bed_c1, dtype=float),
            bed_c2=zeros if bed_c2 is None else np.asarray(bed_c2, dtype=float),
            cd_slope=float(self._cd_slope),
            vref_hole=self._vref[0],
            vref_pipe=self._vref[1],
            vref_weight=self._vref[2],
        )

    # ------------------------------------------------------------ Newton
    def solve(
        self,
        bed_c1: np.ndarray | None = None,
        bed_c2: np.ndarray | None = None,
        initial: Solution | None = None,
    ) -> Solution:
        """Solve for flows and heads; ``bed_c1/c2`` give each hole's bed loss a q + b q^2.

        Raises :class:`HydraulicsError` (a model error, not the user's) naming why, in
        one line, if Newton fails from every start.
        """
        c, opt = self.c, self.opt
        nl = c.n_links
        holes = self._holes(bed_c1, bed_c2)
        warm = initial is not None and initial.q_m3_s.shape == (nl,)
        x = self._start(initial if warm else None)
        status, it, fmax = self._newton(x, holes, self.fits, friction_start=False)
        if status != kernel.OK and opt.mode == "momentum":
            # a second start: the friction-only solution (Crane's coefficients switch
            # with the flow pattern, so Newton's path can matter)
            x = self._start(None)
            status, it2, fmax = self._newton(x, holes, self.fits, friction_start=True)
            it += it2
        stalled = x.copy() if status == kernel.NOT_CONVERGED else None
        if status != kernel.OK and opt.mode == "momentum":
            x = self._start(None)
            status, it3, fmax = self._continuation(x, holes)
            it += it3
        if status != kernel.OK and opt.mode == "momentum" and stalled is not None:
            status4, it4, fmax4, x4 = self._either_side_of_reversals(stalled, holes)
            if it4:
                status, fmax, x = status4, fmax4, x4
                it += it4
        if status != kernel.OK and opt.mode == "momentum":
            x = self._start(None)
            status, it5, fmax = self._port_continuation(x, holes)
            it += it5
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
                f"(largest head error {fmax:.3g} m); this is a limit of the solver, "
                "not of the layout: try mode 'friction' and report the layout"
            )
        return self._solution(x[:nl].copy(), x[nl:].copy(), it)

    def _newton(
        self,
        x: np.ndarray,
        holes: kernel.Holes,
        fits: kernel.Fits,
        friction_start: bool,
        momentum: bool | None = None,
    ) -> tuple:
        """Run the compiled Newton iteration on ``x`` (in place): (status, iterations, error)."""
        opt = self.opt
        stop = kernel.Stop(
            int(opt.max_iterations),
            float(opt.tol_head_m),
            float(opt.tol_flow_rel),
            float(FRICTION_START_TOL),
        )
        return kernel.newton(
            x,
            (opt.mode == "momentum") if momentum is None else momentum,
            friction_start,
            stop,
            self.links,
            self.pipes,
            holes,
            fits,
            self.structure,
        )

    def _either_side_of_reversals(self, stalled: np.ndarray, holes: kernel.Holes) -> tuple:
        """Newton restarted on each side of the flow reversals where it stalled.

        Where a pipe's flow passes through zero, a tee's loss switches between Crane's
        dividing and combining patterns, and the two need not agree on the head of a
        shut leg (at a header's dead end past a ladder's last rung: up to a few
        velocity heads).  Blended smoothly over a few per cent of the flow, the switch
        is a short stretch of negative resistance, and Newton can settle at a minimum of
        its merit function there that is no root, while the root lies just outside the
        blend.  From the stalled iterate, every pipe carrying less than
        REVERSAL_NEAR of the largest flow at its ends is given REVERSAL_PUSH of that
        flow, first along the pipe, then against it, and Newton starts again.  Returns
        (status, iterations, error, x).
        """
        c = self.c
        n_p = c.n_pipes
        q = stalled[:n_p]
        q_at = np.zeros(c.n_junctions + 2)
        np.maximum.at(q_at, c.link_from[:n_p], np.abs(q))
        np.maximum.at(q_at, c.link_to[:n_p], np.abs(q))
        ref = np.maximum(q_at[c.link_from[:n_p]], q_at[c.link_to[:n_p]])
        near = np.flatnonzero(np.abs(q) < REVERSAL_NEAR * ref)
        status, total, fmax, x = kernel.NOT_CONVERGED, 0, float("nan"), stalled
        if near.size == 0:
            return status, total, fmax, x
        for sign in (1.0, -1.0):
            x = stalled.copy()
            x[near] = sign * REVERSAL_PUSH * ref[near]
            status, it, fmax = self._newton(x, holes, self.fits, friction_start=False)
            total += it
            if status == kernel.OK:
                break
        return status, total, fmax, x

    def _port_continuation(self, x: np.ndarray, holes: kernel.Holes) -> tuple:
        """The solution under the other port law, followed to this one.

        Rawn's law and the constant Cd differ only in the slope s of the port's Cd on
        the header's velocity head (0.92 and 0).  Where Newton finds no root under one
        law from any start, it is solved under the other (plain and friction-only
        starts), and s is then stepped from that law's value to this one's in steps of
        CONTINUATION_STEP (halved after a failure, down to CONTINUATION_MIN_STEP), each
        solve starting from the previous solution.  Returns (status, iterations, error).
        """
        target = float(holes.cd_slope)
        other = RAWN_CD_SLOPE if target == 0.0 else 0.0
        status, total, fmax = self._newton(x, holes._replace(cd_slope=other), self.fits, False)
        if status != kernel.OK:
            x[:] = self._start(None)
            status, it, fmax = self._newton(x, holes._replace(cd_slope=other), self.fits, True)
            total += it
        if status != kernel.OK:
            return status, total, fmax

        def solve_at(x_try: np.ndarray, t: float) -> tuple:
            slope = other + t * (target - other)
            return self._newton(x_try, holes._replace(cd_slope=slope), self.fits, False)

        return _follow(x, solve_at, total, fmax)

    def _continuation(self, x: np.ndarray, holes: kernel.Holes) -> tuple:
        """The momentum terms switched on gradually, from the friction-only solution.

        Every fitting loss and every hole's header velocity head is scaled by a strength
        s: 0 is the friction-only network, 1 the momentum model.  From the friction
        solution s grows in steps of CONTINUATION_STEP (halved after a failed step, down
        to CONTINUATION_MIN_STEP), each Newton solve starting from the previous solution,
        so Newton follows the solution as the losses grow instead of jumping to it.
        Returns (status, iterations, error) like :meth:`_newton`.
        """
        status, total, fmax = self._newton(x, holes, self.fits, False, momentum=False)
        if status != kernel.OK:
            return status, total, fmax

        def solve_at(x_try: np.ndarray, strength: float) -> tuple:
            fits = self.fits._replace(strength=strength)
            scaled = holes._replace(vref_weight=holes.vref_weight * strength)
            return self._newton(x_try, scaled, fits, False, momentum=True)

        return _follow(x, solve_at, total, fmax)

    def _nominal_flow_m3_s(self) -> float:
        """The fixed flow, or for a pump curve a nominal 1 m/s through the holes."""
        pump = self.net.pump
        if pump.flow_m3_s is not None:
            return float(pump.flow_m3_s)
        return float(np.sum(self.c.hole_area_m2)) * 1.0

    def _start(self, initial: Solution | None) -> np.ndarray:
        c = self.c
        if initial is not None:
            return np.concatenate([initial.q_m3_s, initial.head_m])
        q_total = self._nominal_flow_m3_s()
        x = np.zeros(c.n_links + c.n_junctions)
        x[c.n_pipes : c.n_pipes + c.n_holes] = q_total / c.n_holes
        if c.has_pump_link:
            x[c.n_links - 1] = q_total
        return x

    def _solution(self, q: np.ndarray, head: np.ndarray, it: int) -> Solution:
        c = self.c
        vh = losses.velocity_head_coeff(c.area_m2)
        static = head[c.hole_node].copy()
        hole, pipe, w = self._vref
        if w.size:
            static -= np.bincount(hole, weights=w * vh[pipe] * q[pipe] ** 2, minlength=c.n_holes)
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


def _no_vref() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = np.zeros(0, dtype=np.int64)
    return e, e.copy(), np.zeros(0)


def solve(
    network: Network,
    options: SolveOptions | None = None,
    bed_c1: np.ndarray | None = None,
    bed_c2: np.ndarray | None = None,
) -> Solution:
    """Solve ``network`` once (see :class:`Solver` to re-solve the same network)."""
    return Solver(network, options).solve(bed_c1, bed_c2)


def _follow(
    x: np.ndarray, solve_at: Callable[[np.ndarray, float], tuple], total: int, fmax: float
) -> tuple:
    """Natural-parameter continuation from t = 0 (solved: ``x``) to t = 1.

    Steps of CONTINUATION_STEP, halved after a failed solve down to CONTINUATION_MIN_STEP
    and doubled back after a success; each ``solve_at(x_try, t)`` starts from the last
    solution.  ``x`` holds the solution at t = 1 on success.  Returns (status,
    iterations including ``total``, error) like :meth:`Solver._newton`.
    """
    t, step = 0.0, CONTINUATION_STEP
    while t < 1.0:
        trial = min(1.0, t + step)
        x_try = x.copy()
        status, it, fmax = solve_at(x_try, trial)
        total += it
        if status == kernel.OK:
            x[:] = x_try
            t = trial
            step = min(2 * step, CONTINUATION_STEP)
        else:
            step /= 2
            if step < CONTINUATION_MIN_STEP:
                return status, total, fmax
    return kernel.OK, total, fmax
