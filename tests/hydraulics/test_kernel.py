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
    """The named structures the compiled residual takes."""
    return (solver.links, solver.pipes, solver._holes(None, None), solver.fits, solver.structure)


def _dense(solver: Solver, vals: np.ndarray) -> np.ndarray:
    """The Newton matrix in the original ordering, from the factor's sparse pattern."""
    st = solver.structure
    dense = np.zeros((st.n, st.n))
    for i in range(st.n):
        for idx in range(st.row_ptr[i], st.row_ptr[i + 1]):
            dense[st.perm[i], st.perm[st.col[idx]]] = vals[idx]
    return dense


@pytest.mark.parametrize("shape", ["reverse", "direct", "tree", "ring"])
def test_jacobian_matches_finite_differences(shape):
    """Ladders (tees with a run), a tree (bullhead tees: every leg a branch) and a ring
    fed at its corner (the supply 45 degrees off both ring pipes: the first is the run)."""
    if shape == "tree":
        net = builders.tree(common(), 4)
    elif shape == "ring":
        net = builders.ring(common())
    else:
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
    dense = _dense(solver, vals)
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
    dense = _dense(solver, vals)
    b = r[st.perm].copy()
    assert kernel._lu_solve(vals.copy(), st.row_ptr, st.col, st.diag, b, np.zeros(st.n))
    dx = np.empty(st.n)
    dx[st.perm] = b
    assert np.allclose(dense @ dx, r, rtol=0, atol=1e-9 * np.abs(r).max())


def test_friction_mode_needs_no_fitting_terms():
    solver = Solver(builders.ladder(common(), 3, "reverse"), SolveOptions(mode="friction"))
    assert solver.fits.tee_ptr.size == 1 and solver.fits.run_node.size == 0


def test_credited_negative_k_moves_hole_flows_by_a_few_per_cent():
    """Regression snapshot (tankeco's own output before issue 12, commit 2d38b20, Crane's
    negative K's charged by magnitude) against the model now, with the constant-Cd port
    law of that time: crediting the negative K's moves hole flows by up to ~3 % (issue
    12, point 2), and not at all where there is no tee (the end-fed header)."""
    import json
    from pathlib import Path

    from tankeco.hydraulics.layout_file import load_layout

    here = Path(__file__).parent
    before = json.loads((here / "data" / "momentum_before_smoothing.json").read_text())
    moved = {}
    for name, flows in before["layouts"].items():
        if name == "centre_fed_tree":
            # its bullhead tees are no longer split into run and branch by leg order
            # (see test_a_symmetric_tree_splits_symmetrically); a change of its own
            continue
        net = load_layout(here.parents[1] / "sims" / "layouts" / f"{name}.toml").network()
        now = Solver(net, SolveOptions(port="constant")).solve().hole_flow_l_h
        moved[name] = float(np.max(np.abs(now / np.array(flows) - 1)))
    assert moved["end_fed_header"] < 1e-3
    assert 0.005 < max(moved.values()) < 0.03, moved


@pytest.mark.parametrize("kind", range(4))
@pytest.mark.parametrize("beta2", [0.1, 0.3, 0.5, 0.8, 1.0])
def test_smoothed_crane_k_equals_crane_away_from_its_switches_and_is_continuous(kind, beta2):
    angle = 90.0 if kind != 2 else 60.0
    xs = np.linspace(0.001, 0.999, 4001)
    ks = np.array([kernel.crane_k_smooth(kind, beta2, angle, 1.0, x)[0] for x in xs])
    raw = np.array([kernel.crane_k(kind, beta2, angle, 1.0, x)[0] for x in xs])
    away = np.min(np.abs(xs[:, None] - np.array([0.4, 0.5, 0.6])[None, :]), axis=1)
    far = away > kernel.CRANE_BLEND
    assert np.allclose(ks[far], raw[far], rtol=0, atol=1e-13)
    # continuous where Crane's pieces switch (Crane's own K steps there)
    for x0 in (0.4, 0.5, 0.6):
        lo = kernel.crane_k_smooth(kind, beta2, angle, 1.0, x0 - 1e-9)[0]
        hi = kernel.crane_k_smooth(kind, beta2, angle, 1.0, x0 + 1e-9)[0]
        assert abs(hi - lo) < 1e-6
    # and its derivative is the derivative of its value
    for x in (0.39, 0.4, 0.41, 0.495, 0.5, 0.505, 0.59, 0.6, 0.61):
        k, dk = kernel.crane_k_smooth(kind, beta2, angle, 1.0, x)
        h = 1e-7
        num = (kernel.crane_k_smooth(kind, beta2, angle, 1.0, x + h)[0] - k) / h
        assert dk == pytest.approx(num, rel=1e-4, abs=1e-5)


def test_port_head_is_the_orifice_law_without_header_velocity_and_rawns_cd_with_it():
    """Rawn, Bowerman & Brooks (1960): q = Cd a sqrt(2 g E), Cd = 0.63 - 0.58 V^2/(2 g E)."""
    from tankeco.hydraulics.solver import RAWN_CD_SLOPE

    k0 = 0.2  # q^2 / (2 g Cd0^2 a^2), m
    e, _, _ = kernel.port_head(k0, 0.0, RAWN_CD_SLOPE)
    assert e == pytest.approx(k0, rel=1e-14)
    for vh in (0.01, 0.05, 0.1):
        e, de_dk0, de_dvh = kernel.port_head(k0, vh, RAWN_CD_SLOPE)
        cd_over_cd0 = 1 - RAWN_CD_SLOPE * vh / e
        # the same discharge: K0 = (Cd/Cd0)^2 E, with Rawn's Cd at Cd0 = 0.63
        assert k0 == pytest.approx(cd_over_cd0**2 * e, rel=1e-12)
        assert 0.63 * cd_over_cd0 == pytest.approx(0.63 - 0.58 * vh / e, rel=1e-12)
        h = 1e-8
        assert de_dk0 == pytest.approx(
            (kernel.port_head(k0 + h, vh, RAWN_CD_SLOPE)[0] - e) / h, rel=1e-5
        )
        assert de_dvh == pytest.approx(
            (kernel.port_head(k0, vh + h, RAWN_CD_SLOPE)[0] - e) / h, rel=1e-5
        )


def test_header_velocity_lowers_the_first_holes_share_with_rawns_law():
    """On an end-fed header the first holes see the fastest header: Rawn's Cd cuts them."""
    from .helpers import straight_header

    net = straight_header(16, 0.016, 0.005, flow_l_h=1500.0)
    rawn = Solver(net, SolveOptions(port="rawn")).solve().hole_flow_l_h
    const = Solver(net, SolveOptions(port="constant")).solve().hole_flow_l_h
    assert rawn.sum() == pytest.approx(const.sum(), rel=1e-9)  # a fixed flow
    assert rawn[0] < const[0] and rawn[-1] > const[-1]
    friction = Solver(net, SolveOptions(mode="friction", port="rawn")).solve()
    friction_const = Solver(net, SolveOptions(mode="friction", port="constant")).solve()
    # friction mode has no velocity heads: the switch does nothing there
    assert np.array_equal(friction.hole_flow_l_h, friction_const.hole_flow_l_h)


def test_a_symmetric_tree_splits_symmetrically():
    """The shipped centre-fed tree is mirror-symmetric in x (trunk from the front wall
    to the centre, bullhead tees at every split): mirror holes must get the same flow.
    With the first of two 90-degree legs taken as Crane's run they differed by 25 %
    (540 / 424 L/h at the first split); the friction-only mode, which has no fitting
    losses, gives the symmetric answer the momentum mode must keep."""
    from pathlib import Path

    from tankeco.hydraulics.layout_file import load_layout

    root = Path(__file__).parents[2]
    net = load_layout(root / "sims" / "layouts" / "centre_fed_tree.toml").network()
    c = net.compiled
    q = Solver(net).solve().hole_flow_l_h
    mirror = [
        int(np.argmin((c.hole_x_m - (net.tank_length_m - x)) ** 2 + (c.hole_y_m - y) ** 2))
        for x, y in zip(c.hole_x_m, c.hole_y_m, strict=True)
    ]
    assert np.max(np.abs(q - q[mirror])) / q.mean() < 1e-6
