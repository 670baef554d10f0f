"""The Petersen matrix and the compiled kernel: conservation by construction, and the
kernel's inline chemistry against :mod:`tankeco.chemistry`."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tankeco.chemistry.ammonia import (
    anthonisen_free_ammonia_mg_l,
    free_nitrous_acid_mg_l,
    pka_ammonium,
)
from tankeco.chemistry.carbonate import carbonate_constants, ph_from_alk_dic
from tankeco.scenario.loading import load_scenario
from tankeco.scenario.params import defaults
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim.engine import Tank
from tankeco.sim.petersen import (
    C,
    build_processes,
    charge_content,
    cod_content,
    n_content,
    stoichiometry_matrix,
)


@pytest.fixture(scope="module")
def tank():
    scenario = load_scenario(None, ["plants.uptake_max_mg_n_d=20"])
    return Tank(scenario, days=1.0)


def test_every_process_conserves_nitrogen():
    p = defaults()
    procs = build_processes(p, temp_c=25.0, fish_mass_kg=0.03, plant_uptake_max_mg_n_d=20.0)
    nu = stoichiometry_matrix(procs)
    residual = nu @ n_content(p)
    for proc, r in zip(procs, residual, strict=True):
        assert abs(r) < 1e-12, f"{proc.name} creates or destroys {r} g N per unit rate"


def test_every_process_conserves_charge():
    """The charge of the ions no process touches, ALK - TAN + NO2 + NO3 in equivalents, is
    kept by every row: excretion, plants and urea book their alkalinity."""
    p = defaults()
    procs = build_processes(p, temp_c=25.0, fish_mass_kg=0.03, plant_uptake_max_mg_n_d=20.0)
    residual = stoichiometry_matrix(procs) @ charge_content()
    for proc, r in zip(procs, residual, strict=True):
        assert abs(r) < 1e-14, f"{proc.name} creates or destroys {r} meq per unit rate"


def test_every_process_conserves_cod_but_respiration():
    """COD continuity of every row (ASM: organic COD, biomass 1.42, O2 -1, nitrite -3.43,
    nitrate -4.57, N2 -1.71 g COD/g N; methane leaves as its own column).  Fish respiration
    burns the fish's own body, which the model does not hold: it alone uses O2 only."""
    p = defaults()
    procs = build_processes(p, temp_c=25.0, fish_mass_kg=0.03, plant_uptake_max_mg_n_d=20.0)
    residual = stoichiometry_matrix(procs) @ cod_content(p)
    for proc, r in zip(procs, residual, strict=True):
        if proc.name == "fish_respiration":
            assert r == pytest.approx(1.0)  # one g O2 used = one g of the fish's COD
        else:
            assert abs(r) < 1e-12, f"{proc.name} creates or destroys {r} g COD per unit rate"


def test_nitrification_stoichiometry_matches_metcalf_eddy():
    """Per g N oxidised all the way to nitrate (no growth): 4.57 g O2 and 7.14 g CaCO3."""
    p = defaults() | {"y_aob_g_vss_g_n": 1e-9, "y_nob_g_vss_g_n": 1e-9}
    procs = {pr.name: pr for pr in build_processes(p, 20.0, 0.0, 0.0)}
    aob, nob = procs["aob_growth"].stoich, procs["nob_growth"].stoich
    n_oxidised = aob[C.NO2]
    o2 = -(aob[C.O2] + nob[C.O2] * (aob[C.NO2] / nob[C.NO3]))
    alk = -aob[C.ALK]
    assert o2 / n_oxidised == pytest.approx(4.57, rel=1e-3)
    assert alk / n_oxidised == pytest.approx(7.14, rel=1e-3)


def test_jacobian_conserves_nitrogen(tank):
    """w.J = 0: the integrator's linear stages cannot create nitrogen (ROS2 conservation)."""
    rng = np.random.default_rng(3)
    m = tank.m * rng.uniform(0.5, 1.5, tank.m.shape)
    m[:, C.XS_N] += 5.0
    m[0, C.GUT_N_FISH] = 40.0
    jac = tank.model.jacobian_dense(m, tank.forcing)
    w = np.tile(tank.model.n_weights, tank.model.ncompart)
    assert np.abs(w @ jac).max() < 1e-9 * np.abs(jac).max()
    f = tank.model.rhs(m, tank.forcing).ravel()
    assert abs(w @ f) < 1e-9 * np.abs(f).max()


def test_block_solver_equals_dense_solve(tank):
    m = tank.m.copy()
    tab = tank.model.tables()
    f, jloc, czw, cwz, _ = kernel.evaluate(m, tank.model.conditions(tank.forcing), tab, True)
    gh = kernel.GAMMA * 0.05
    inv_a = kernel.factor(jloc, czw, cwz, gh, tab.act_water, tab.act_zone)
    x = kernel.solve(inv_a, czw, cwz, gh, f, tab.act_water, tab.act_zone)
    dense = np.eye(m.size) - gh * tank.model.jacobian_dense(m, tank.forcing)
    np.testing.assert_allclose(dense @ x.ravel(), f.ravel(), atol=1e-9 * np.abs(f).max())


def test_kernel_jacobian_matches_frozen_environment_finite_differences(tank):
    """Every column of the analytic Jacobian against central differences of the rhs with
    the environment (pH, inhibition, the biofilm's eta, the deposit's oxic share) frozen at
    the base state, which is what the Jacobian differentiates.  Substrates, biomass, guts,
    plants and the cells that are not state all included; the state has every pool away
    from zero."""
    rng = np.random.default_rng(11)
    m = tank.m * rng.uniform(0.7, 1.3, tank.m.shape)
    m[:, C.XS_N] += 2.0
    m[:, C.XS_COD] += 20.0
    m[:, C.TAN] += 0.5 * tank.model.volumes_l(tank.forcing)
    m[:, C.NO2] += 0.3 * tank.model.volumes_l(tank.forcing)
    m[0, C.GUT_N_FISH] += 40.0
    cond, tab = tank.model.conditions(tank.forcing), tank.model.tables()
    conc = kernel.concentrations(m, cond.vol)
    env = np.empty((kernel.N_ENV, m.shape[0]))
    ph = np.empty(m.shape[0])
    kernel.environment(conc, m, cond.sc, tab.film, tab.area, env, ph)
    jac = tank.model.jacobian_dense(m, tank.forcing)

    def rhs_frozen(x):
        x = x.reshape(m.shape)
        conc_x = kernel.concentrations(x, cond.vol)
        dm, *_ = kernel.evaluate_in(x, conc_x, env, ph, cond, tab, False)
        return dm.ravel()

    n = m.size
    fd = np.zeros((n, n))
    for j in range(n):
        eps = 1e-6 * max(1.0, abs(m.ravel()[j]))
        mp, mm = m.ravel().copy(), m.ravel().copy()
        mp[j] += eps
        mm[j] -= eps
        fd[:, j] = (rhs_frozen(mp) - rhs_frozen(mm)) / (2 * eps)
    # the frozen rhs is the kernel's own at the base state
    np.testing.assert_array_equal(rhs_frozen(m.ravel()), tank.model.rhs(m, tank.forcing).ravel())
    assert np.count_nonzero(jac) > 3 * n  # the comparison is not between two empty matrices
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-7 * np.abs(fd).max())


@settings(max_examples=300, deadline=None)
@given(
    alk=st.floats(-50, 500),
    dic=st.floats(0, 200),
    tan=st.floats(0, 20),
    temp=st.floats(5, 35),
)
def test_kernel_ph_matches_chemistry(alk, dic, tan, temp):
    k1, k2, kw = (float(k) for k in carbonate_constants(temp))
    ka = 10.0 ** -float(pka_ammonium(temp))
    ph = kernel.ph_charge_balance(alk, dic, tan, k1, k2, kw, ka)
    assert ph == pytest.approx(float(ph_from_alk_dic(alk, dic, temp, tan)), abs=1e-8)


def test_kernel_inhibition_uses_anthonisen_forms(tank):
    m = tank.m.copy()
    m[:, C.TAN] *= 100.0  # some free ammonia
    m[:, C.NO2] = 5.0 * tank.model.volumes_l(tank.forcing)
    vol = tank.model.volumes_l(tank.forcing)
    conc = m / vol[:, None]
    sc = tank.model.scalars(tank.forcing)
    env = np.empty((kernel.N_ENV, m.shape[0]))
    ph = np.empty(m.shape[0])
    kernel.environment(conc, m, sc, tank.model.film_constants(), tank.model.area_m2, env, ph)
    fa = anthonisen_free_ammonia_mg_l(conc[:, C.TAN], ph, tank.temp_c)
    fna = free_nitrous_acid_mg_l(conc[:, C.NO2], ph, tank.temp_c)
    p = tank.p
    np.testing.assert_allclose(
        env[kernel.ENV_I_FA_AOB], p["ki_fa_aob_mg_l"] / (p["ki_fa_aob_mg_l"] + fa), rtol=1e-3
    )
    np.testing.assert_allclose(
        env[kernel.ENV_I_FA_NOB], p["ki_fa_nob_mg_l"] / (p["ki_fa_nob_mg_l"] + fa), rtol=1e-3
    )
    np.testing.assert_allclose(
        env[kernel.ENV_I_FNA_NOB], p["ki_fna_nob_mg_l"] / (p["ki_fna_nob_mg_l"] + fna), rtol=1e-3
    )
