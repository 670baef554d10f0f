"""The compiled kernel's correlations against fluids, its Jacobian, and its linear solver."""

from __future__ import annotations

import itertools

import fluids
import numpy as np
import pytest
from fluids.fittings import (
    branch_converging_Crane_angles,
    branch_converging_Crane_Fs,
    run_converging_Crane_angles,
    run_converging_Crane_Fs,
)
from fluids.numerics import interp

from tankeco.hydraulics import builders
from tankeco.hydraulics import newton_kernel as kernel
from tankeco.hydraulics.solver import SolveOptions, Solver

from .helpers import common

CRANE = (
    fluids.K_branch_diverging_Crane,
    fluids.K_run_diverging_Crane,
    fluids.K_branch_converging_Crane,
    fluids.K_run_converging_Crane,
)


@pytest.mark.parametrize("re", [4000.0, 1e4, 3.3e4, 2e5, 5e6])
@pytest.mark.parametrize("ed", [0.0, 1e-6, 1e-4, 1e-2])
def test_friction_factor_equals_fluids(re, ed):
    assert kernel.clamond(re, ed) == pytest.approx(fluids.friction_factor(re, ed), rel=1e-13)


@pytest.mark.parametrize("kind", range(4))
def test_crane_k_equals_fluids(kind):
    fn = CRANE[kind]
    d_run = 0.016
    for d_branch, angle in itertools.product(
        (0.004, 0.009, 0.012, 0.0135, 0.016), (30.0, 45.0, 60.0, 70.0, 80.0, 90.0)
    ):
        beta2 = (d_branch / d_run) ** 2
        f_br = float(interp(angle, branch_converging_Crane_angles, branch_converging_Crane_Fs))
        f_run = float(interp(angle, run_converging_Crane_angles, run_converging_Crane_Fs))
        f = f_br if kind == 2 else f_run
        for x in np.linspace(0.01, 0.99, 37):
            k, dk = kernel.crane_k(kind, beta2, angle, f, x)
            ref = fn(d_run, d_branch, 1.0 - x, x, angle)
            assert k == pytest.approx(ref, rel=1e-12, abs=1e-14)
            # backward differences: at a step or kink the kernel takes the x <= x0 piece
            h = 1e-7
            num = (ref - fn(d_run, d_branch, 1 - x + h, x - h, angle)) / h
            k2, _ = kernel.crane_k(kind, beta2, angle, f, x - h)
            if abs(k2 - k) < 1e-3:  # away from Crane's steps in x
                assert dk == pytest.approx(num, rel=1e-4, abs=1e-5)


def _kernel_args(solver: Solver):
    s, st, t, c = solver, solver.structure, solver._tees, solver.c
    hole = np.column_stack([s._k_hole, np.zeros(c.n_holes), np.zeros(c.n_holes)])
    return (
        s._ints, s._flts, c.link_from, c.link_to, c.fixed_head_m, c.demand_m3_s, s._pipe,
        hole, s._pump_pts, s._hole_vref[0], s._hole_vref[1], s._run,
        s.fittings.hole_run.m_coeff, s._two, s._two_f, t.ptr, t.leg, t.pair_ptr, t.pair,
        st.const_pos, st.const_val, st.posmap,
    )  # fmt: skip


@pytest.mark.parametrize("shape", ["reverse", "direct"])
def test_jacobian_matches_finite_differences(shape):
    net = builders.ladder(common(), 4, shape)
    solver = Solver(net)
    sol = solver.solve()
    st = solver.structure
    args = _kernel_args(solver)
    rng = np.random.default_rng(1)
    x = np.concatenate([sol.q_m3_s, sol.head_m])
    x[: solver.c.n_links] *= 1 + 0.2 * rng.standard_normal(solver.c.n_links)
    vals, r0 = np.zeros(st.row_ptr[-1]), np.zeros(st.n)
    kernel.residual(x, True, True, *args, vals, r0)
    dense = np.zeros((st.n, st.n))
    rows, cols = np.nonzero(st.posmap >= 0)
    dense[rows, cols] = vals[st.posmap[rows, cols]]
    for j in range(solver.c.n_links):
        h = 1e-7 * max(abs(x[j]), 1e-9)
        xp = x.copy()
        xp[j] += h
        rp = np.zeros(st.n)
        kernel.residual(xp, False, True, *args, np.zeros(0), rp)
        num = (rp - r0) / h
        scale = np.abs(num).max() + 1e-12
        assert np.max(np.abs(dense[:, j] - num)) <= 1e-4 * scale, j


def test_static_pivot_lu_solves_the_newton_system():
    net = builders.ladder(common(), 6, "reverse")
    solver = Solver(net)
    sol = solver.solve()
    st = solver.structure
    x = np.concatenate([sol.q_m3_s, sol.head_m]) * 1.1
    vals, r = np.zeros(st.row_ptr[-1]), np.zeros(st.n)
    kernel.residual(x, True, True, *_kernel_args(solver), vals, r)
    dense = np.zeros((st.n, st.n))
    rows, cols = np.nonzero(st.posmap >= 0)
    dense[rows, cols] = vals[st.posmap[rows, cols]]
    b = r[st.perm].copy()
    assert kernel._lu_solve(vals.copy(), st.row_ptr, st.col, st.diag, b, np.zeros(st.n))
    dx = np.empty(st.n)
    dx[st.perm] = b
    assert np.allclose(dense @ dx, r, rtol=0, atol=1e-9 * np.abs(r).max())


def test_friction_mode_needs_no_fitting_terms():
    solver = Solver(builders.ladder(common(), 3, "reverse"), SolveOptions(mode="friction"))
    assert solver._tees.ptr.size == 1 and solver._run.shape == (0, 3)


def test_continuous_fitting_losses_move_hole_flows_little():
    """The blending at flow reversals (see fittings) against the discontinuous model it
    replaced: every hole of the shipped layouts within 0.1 % (the issue allows 0.5 %)."""
    import json
    from pathlib import Path

    from tankeco.hydraulics.layout_file import load_layout

    here = Path(__file__).parent
    before = json.loads((here / "data" / "momentum_before_smoothing.json").read_text())
    for name, flows in before["layouts"].items():
        net = load_layout(here.parents[1] / "sims" / "layouts" / f"{name}.toml").network()
        now = Solver(net).solve().hole_flow_l_h
        assert np.max(np.abs(now / np.array(flows) - 1)) < 1e-3, name
