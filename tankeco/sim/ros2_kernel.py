"""Compiled inner loop: rates, right-hand side, Jacobian and ROS2 steps between events.

Why compiled: the tank is ~160 coupled masses (9 compartments x 18 components) and a
90-day run takes a few thousand implicit steps; with numpy the per-call overhead of ~100
small array operations costs ~0.5 ms a step.  numba compiles this module once (cached on
disk), after which a step costs tens of microseconds.

What it computes is defined elsewhere and only evaluated here:

* the Petersen matrix (kinetic factor tables and stoichiometry) from
  :mod:`tankeco.sim.petersen`, laid out as arrays by :class:`tankeco.sim.model.TankModel`;
* pH from alkalinity and DIC by the charge balance of
  :func:`tankeco.chemistry.carbonate.ph_from_alk_dic` (quadratic start + 2 Newton steps;
  tests check the two agree to 1e-6 pH over aquarium ranges);
* free ammonia and free nitrous acid in the form of Anthonisen et al. (1976), as
  :mod:`tankeco.chemistry.ammonia` (tests check agreement);
* the biofilm's fluxes of :func:`tankeco.sim.biofilm.nitrifier_fluxes` (the same compiled
  function the tests check against a numerical film), applied as effectiveness factors;
* the ROS2 method of Verwer et al. (1999; see :mod:`tankeco.sim.integrators`), with the
  linear systems solved by block elimination: every bed zone couples only to the water
  column, so (I - g h J) is an "arrow" matrix of 18 x 18 blocks.

State layout: ``m[c, k]`` is the mass of component k in compartment c (0 = water column).
Inputs come as named tuples of arrays (:class:`Tables`, :class:`Conditions`,
:class:`StepControl`, :class:`Record`), which numba compiles like structs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tankeco.sim.biofilm import nitrifier_fluxes
from tankeco.sim.petersen import COD_PER_VSS, C
from tankeco.units.molar import (
    ALK_MG_CACO3_PER_MEQ,
    MOLAR_MASS_C_G_MOL,
    MOLAR_MASS_N_G_MOL,
)

GAMMA = 1.0 + 1.0 / np.sqrt(2.0)

#: indices into the scalar-constants vector ``Conditions.sc`` (filled by
#: :meth:`tankeco.sim.model.TankModel.scalars`)
(
    K1,
    K2,
    KW,
    PH_OPT,
    PH_SLOPE,
    FA_INV_KA,
    FNA_KA,
    KI_FA_AOB,
    KI_FA_NOB,
    KI_FNA_NOB,
    K_SETTLE,
    KLA_O2,
    O2_SAT,
    KLA_CO2,
    CO2_SAT,
    LIGHT,
    KA_NH4,
) = range(17)
N_SCALARS = 17

#: rows of the environment table (factors that hold pH, the biofilm's diffusion limit,
#: inhibition, light, the deposit's oxic share and CO2 for plants); a process's
#: ``Tables.e_idx`` points at these rows, padding at ``ENV_ONE`` (exactly 1)
ENV_NAMES = (
    "f_ph",
    "eta_aob",
    "eta_nob",
    "i_fa_aob",
    "i_fa_nob",
    "i_fna_nob",
    "light",
    "f_oxic",
    "f_anoxic",
    "f_co2_plant",
)
(
    ENV_F_PH,
    ENV_ETA_AOB,
    ENV_ETA_NOB,
    ENV_I_FA_AOB,
    ENV_I_FA_NOB,
    ENV_I_FNA_NOB,
    ENV_LIGHT,
    ENV_F_OXIC,
    ENV_F_ANOXIC,
    ENV_F_CO2_PLANT,
    ENV_ONE,
) = range(11)
N_ENV = 11

#: indices into the film constants ``Tables.film`` (filled by
#: :meth:`tankeco.sim.model.TankModel.film_constants`); the first twelve are, in order,
#: the constants :func:`tankeco.sim.biofilm.nitrifier_fluxes` takes after the biomasses
(
    FILM_Q_AOB,
    FILM_Q_NOB,
    FILM_K_TAN,
    FILM_K_NO2,
    FILM_K_O2_AOB,
    FILM_K_O2_NOB,
    FILM_D_TAN,
    FILM_D_NO2,
    FILM_D_O2,
    FILM_X,
    FILM_O2_PER_N_AOB,
    FILM_O2_PER_N_NOB,
    FILM_K_ALK,
    FILM_K_TAN_NUTRIENT,
    FILM_K_MIN,
    FILM_X_DEPOSIT,
    FILM_K_O2_HET,
    FILM_CO2_COMP_PLANT,
    FILM_K_CO2_PLANT,
) = range(19)
N_FILM = 19

#: slots of the solver counters ``Record.stats``
STAT_ACCEPTED, STAT_REJECTED_ERROR, STAT_REJECTED_NEGATIVE, STAT_RHS_EVALUATIONS = range(4)
N_STATS = 4

_TAN, _NO2, _O2, _ALK, _DIC = int(C.TAN), int(C.NO2), int(C.O2), int(C.ALK), int(C.DIC)
_AOB, _NOB, _XS_COD = int(C.AOB), int(C.NOB), int(C.XS_COD)
#: first step and longest step of a run, d (the engine's and the ensemble's)
H_START_D = 1e-3
H_MAX_D = 0.25
#: round-off allowance below zero, as a fraction of the cell's absolute tolerance
CLIP_FRACTION = 1e-6


class Tables(NamedTuple):
    """The model's Petersen tables as the kernel reads them: fixed for a whole run.

    Built in one place, :meth:`tankeco.sim.model.TankModel.tables`; the ensemble stacks
    one per member along a new first axis (:func:`member_tables` takes one back out).
    A rate is ``k_where[p, c] * prod(env[e_idx[p]]) * prod((a C + b)/(K + C)) * m[mass]``.
    """

    #: film constants at the run's temperature, indexed by FILM_*
    film: np.ndarray  # (N_FILM,) float
    #: pebble (biofilm) area and plan area of each compartment, m2 (0 in the water column)
    area: np.ndarray  # (2, nc) float: row 0 media, row 1 plan
    #: component of each Monod/inhibition factor (NCOMP: padding, concentration 0)
    f_comp: np.ndarray  # (process, factor) int
    f_k: np.ndarray  # (process, factor) half-saturation constant K, mg/L
    f_a: np.ndarray  # (process, factor) a of (a C + b)/(K + C)
    f_b: np.ndarray  # (process, factor) b of (a C + b)/(K + C)
    #: environment rows each process is multiplied by (ENV_ONE: padding)
    e_idx: np.ndarray  # (process, env factor) int
    #: rate constant where the process runs, 0 where it does not, 1/d
    k_where: np.ndarray  # (process, compartment) float
    #: component whose mass multiplies the rate (NCOMP: none, NCOMP + 1: a constant 1)
    mass_idx: np.ndarray  # (process,) int
    nu: np.ndarray  # (process, component) stoichiometry
    nz_idx: np.ndarray  # (process, max nonzero) components with nu != 0
    nz_cnt: np.ndarray  # (process,) how many of nz_idx are used
    dissolved: np.ndarray  # (component,) bool: carried by the pump exchange
    partic: np.ndarray  # (component,) bool: settles from the column onto the bed
    act_water: np.ndarray  # components that are state in the water column
    act_zone: np.ndarray  # components that are state in a bed zone


class Conditions(NamedTuple):
    """What the discrete events change between two integrations (pump, light, volume)."""

    vol: np.ndarray  # (nc,) water volume of each compartment, L
    sc: np.ndarray  # (N_SCALARS,) scalar constants, indexed by K1 ... KA_NH4
    exch: np.ndarray  # (nz,) water exchanged between each zone and the column, L/d
    share: np.ndarray  # (nz,) where settling waste lands, share per zone


class StepControl(NamedTuple):
    """Error control of the ROS2 steps (error norm, weighted RMS over the active cells)."""

    rtol: np.ndarray  # (nc, NCOMP) relative tolerance per cell
    atol: np.ndarray  # (nc, NCOMP) absolute tolerance per cell, mg
    weight: np.ndarray  # (nc, NCOMP) 1 for a state cell, 0 for a cell that does not exist
    h_max_d: float  # longest step, d


class Record(NamedTuple):
    """Where :func:`advance` writes: dense output on a time grid, counters, clipped mass."""

    out_t: np.ndarray  # (sample,) output times, d
    out_m: np.ndarray  # (sample, nc, NCOMP) masses at those times, mg
    stats: np.ndarray  # (N_STATS,) int64, indexed by STAT_*
    clipped: np.ndarray  # (nc, NCOMP) round-off mass added by zeroing negatives, mg


@njit(cache=True)
def member_tables(stacked, s):
    """Member ``s``'s :class:`Tables` from tables stacked along a first member axis."""
    return Tables(
        stacked.film[s],
        stacked.area[s],
        stacked.f_comp[s],
        stacked.f_k[s],
        stacked.f_a[s],
        stacked.f_b[s],
        stacked.e_idx[s],
        stacked.k_where[s],
        stacked.mass_idx[s],
        stacked.nu[s],
        stacked.nz_idx[s],
        stacked.nz_cnt[s],
        stacked.dissolved[s],
        stacked.partic[s],
        stacked.act_water[s],
        stacked.act_zone[s],
    )


@njit(cache=True)
def _carbonate_root(alk, ct, k1, k2):
    """[H+] of the carbonate-only quadratic Alk h^2 + (Alk - C_T) K1 h + (Alk - 2 C_T) K1 K2."""
    a = max(alk, 1e-12)
    b = (alk - ct) * k1
    c = min((alk - 2.0 * ct) * k1 * k2, -1e-30)
    sq = np.sqrt(b * b - 4.0 * a * c)
    return 2.0 * c / (-b - sq) if b >= 0.0 else (-b + sq) / (2.0 * a)


@njit(cache=True)
def ph_charge_balance(alk_mg_l_caco3, dic_mg_c_l, tan_mg_l, k1, k2, kw, ka_nh4):
    """pH solving Alk = C_T (a1 + 2 a2) + N_T b + Kw/h - h (Stumm & Morgan 1996, ch. 4).

    Start: the carbonate-only quadratic, repeated with the free ammonia at that first pH
    taken off the alkalinity; then Newton steps on the full balance, kept inside a bracket
    that holds the root (bisection when a step leaves it), to 1e-10 pH.
    """
    alk = alk_mg_l_caco3 / ALK_MG_CACO3_PER_MEQ / 1000.0
    ct = max(dic_mg_c_l, 0.0) / MOLAR_MASS_C_G_MOL / 1000.0
    nt = max(tan_mg_l, 0.0) / MOLAR_MASS_N_G_MOL / 1000.0
    h = _carbonate_root(alk, ct, k1, k2)
    if nt > 0.0:
        h = _carbonate_root(alk - nt * ka_nh4 / (ka_nh4 + h), ct, k1, k2)
    # bracket as in tankeco.chemistry.carbonate.ph_from_alk_dic: f < 0 at ph_lo, > 0 at ph_hi
    ph_lo = -np.log10(2.0 * ct + nt + abs(alk) + 1e-6)
    ph_hi = -np.log10(kw / (abs(alk) + 1e-6))
    ph = -np.log10(h) if h > 0.0 and np.isfinite(h) else 0.5 * (ph_lo + ph_hi)
    ph = min(ph_hi, max(ph_lo, ph))
    ln10 = np.log(10.0)
    for _ in range(60):
        h = 10.0 ** (-ph)
        num = k1 * h + 2.0 * k1 * k2
        den = h * h + k1 * h + k1 * k2
        beta = ka_nh4 / (ka_nh4 + h)
        f = ct * num / den + nt * beta + kw / h - h - alk
        if f > 0.0:
            ph_hi = ph
        else:
            ph_lo = ph
        dcarb_dh = (k1 * den - num * (2.0 * h + k1)) / (den * den)
        df_dh = ct * dcarb_dh - nt * beta / (ka_nh4 + h) - kw / (h * h) - 1.0
        new = ph - f / (-ln10 * h * df_dh)
        if not (ph_lo <= new <= ph_hi):
            new = 0.5 * (ph_lo + ph_hi)
        step = abs(new - ph)
        ph = new
        if step < 1e-10:
            break
    return ph


@njit(cache=True)
def environment(conc, mass, sc, film, area, env, ph):
    """Fill env[ENV_*, c] and ph[c] for every compartment.

    * f_ph, the free ammonia and free nitrous acid inhibition (Anthonisen et al. 1976);
    * eta_aob, eta_nob: the biofilm's effectiveness factors J / J_thin of
      :func:`tankeco.sim.biofilm.nitrifier_fluxes`, with the guilds' uptake rates reduced
      by the same pH, inhibition and nutrient factors their Petersen rows carry;
    * f_oxic, f_anoxic: the oxic and anoxic shares of the waste deposit on a zone: a layer
      of ``XS / (1.42 X_dep A)`` m with the zero-order O2 demand of mineralisation, into
      which O2 penetrates ``sqrt(2 D O2 / r)`` (Harremoes 1978); in the water column the
      ASM1 switch K_OH / (K_OH + O2) for suspended flocs;
    * f_co2_plant: free CO2 above the plants' compensation point, (CO2 - c)/(K + CO2 - c).
    """
    nc = conc.shape[0]
    kin = (
        film[FILM_K_TAN],
        film[FILM_K_NO2],
        film[FILM_K_O2_AOB],
        film[FILM_K_O2_NOB],
        film[FILM_D_TAN],
        film[FILM_D_NO2],
        film[FILM_D_O2],
        film[FILM_X],
        film[FILM_O2_PER_N_AOB],
        film[FILM_O2_PER_N_NOB],
    )
    for c in range(nc):
        p = ph_charge_balance(
            conc[c, _ALK], conc[c, _DIC], conc[c, _TAN], sc[K1], sc[K2], sc[KW], sc[KA_NH4]
        )
        ph[c] = p
        f_ph = min(1.0, max(0.0, 1.0 - sc[PH_SLOPE] * (sc[PH_OPT] - p)))
        env[ENV_F_PH, c] = f_ph
        fa = (17.0 / 14.0) * conc[c, _TAN] / (1.0 + sc[FA_INV_KA] * 10.0 ** (-p))
        fna = (46.0 / 14.0) * conc[c, _NO2] / (sc[FNA_KA] * 10.0**p)
        i_fa_a = sc[KI_FA_AOB] / (sc[KI_FA_AOB] + fa)
        i_fa_n = sc[KI_FA_NOB] / (sc[KI_FA_NOB] + fa)
        i_fna_n = sc[KI_FNA_NOB] / (sc[KI_FNA_NOB] + fna)
        env[ENV_I_FA_AOB, c] = i_fa_a
        env[ENV_I_FA_NOB, c] = i_fa_n
        env[ENV_I_FNA_NOB, c] = i_fna_n
        env[ENV_LIGHT, c] = sc[LIGHT]
        env[ENV_ONE, c] = 1.0
        o2 = max(conc[c, _O2], 0.0)
        media, plan = area[0, c], area[1, c]
        env[ENV_ETA_AOB, c] = 1.0
        env[ENV_ETA_NOB, c] = 1.0
        if media > 0.0:
            tan, alk = max(conc[c, _TAN], 0.0), max(conc[c, _ALK], 0.0)
            q_a = film[FILM_Q_AOB] * f_ph * i_fa_a * alk / (film[FILM_K_ALK] + alk)
            q_n = (
                film[FILM_Q_NOB] * f_ph * i_fa_n * i_fna_n * tan / (film[FILM_K_TAN_NUTRIENT] + tan)
            )
            j_a, j_n, thin_a, thin_n = nitrifier_fluxes(
                tan,
                max(conc[c, _NO2], 0.0),
                o2,
                max(mass[c, _AOB], 0.0) / 1000.0 / media,
                max(mass[c, _NOB], 0.0) / 1000.0 / media,
                q_a,
                q_n,
                *kin,
            )
            if thin_a > 0.0:
                env[ENV_ETA_AOB, c] = j_a / thin_a
            if thin_n > 0.0:
                env[ENV_ETA_NOB, c] = j_n / thin_n
        if plan > 0.0:
            waste_g = max(mass[c, _XS_COD], 0.0) / 1000.0
            anoxic = 0.0
            if waste_g > 0.0 and film[FILM_K_MIN] > 0.0:
                layer_m3 = waste_g / COD_PER_VSS / film[FILM_X_DEPOSIT]
                demand_g_m3_d = film[FILM_K_MIN] * waste_g / layer_m3
                reach_m = np.sqrt(2.0 * film[FILM_D_O2] * o2 / demand_g_m3_d)
                anoxic = max(0.0, 1.0 - reach_m * plan / layer_m3)
            env[ENV_F_ANOXIC, c] = anoxic
            env[ENV_F_OXIC, c] = 1.0 - anoxic
        else:
            env[ENV_F_ANOXIC, c] = film[FILM_K_O2_HET] / (film[FILM_K_O2_HET] + o2)
            env[ENV_F_OXIC, c] = 1.0
        h = 10.0 ** (-p)
        co2 = max(conc[c, _DIC], 0.0) * h * h / (h * h + sc[K1] * h + sc[K1] * sc[K2])
        excess = max(0.0, co2 - film[FILM_CO2_COMP_PLANT])
        env[ENV_F_CO2_PLANT, c] = excess / (film[FILM_K_CO2_PLANT] + excess)


@njit(cache=True)
def concentrations(m, vol):
    """conc[c, k] = m[c, k] / vol[c], mg/L."""
    nc, ncomp = m.shape
    conc = np.empty((nc, ncomp))
    for c in range(nc):
        for k in range(ncomp):
            conc[c, k] = m[c, k] / vol[c]
    return conc


@njit(cache=True)
def evaluate(m, cond, tab, want_jac):
    """dm/dt (nc, NC) and, if want_jac, the compartment blocks J[c] and the couplings.

    ``cond`` is the :class:`Conditions`, ``tab`` the :class:`Tables`.  The environment
    (pH and the factors of :func:`environment`) is computed from ``m`` here, then
    :func:`evaluate_in` does the rest.
    Returns (dm, jloc, czw, cwz, ph): czw[i-1, k] = d(dm[i, k])/d(m[0, k]) for zone i,
    cwz[i-1, k] = d(dm[0, k])/d(m[i, k]).
    """
    nc = m.shape[0]
    conc = concentrations(m, cond.vol)
    env = np.empty((N_ENV, nc))
    ph = np.empty(nc)
    environment(conc, m, cond.sc, tab.film, tab.area, env, ph)
    return evaluate_in(m, conc, env, ph, cond, tab, want_jac)


@njit(cache=True)
def evaluate_in(m, conc, env, ph, cond, tab, want_jac):
    """:func:`evaluate` in a given environment ``env`` (N_ENV, nc) and pH ``ph`` (nc,).

    The Jacobian returned is exact for this function, i.e. for :func:`evaluate` with the
    environment (pH effects, inhibition by free ammonia and nitrous acid, the biofilm's
    effectiveness factors, the deposit's oxic share, CO2 for plants, the CO2 fraction of
    DIC at the surface) held fixed; ROS2 uses it as its Jacobian approximation and its
    error control absorbs the rest.  The tests compare every column with finite
    differences of this function.  ``conc`` must be m / vol.
    """
    vol, sc, exch, share = cond.vol, cond.sc, cond.exch, cond.share
    f_comp, f_k, f_a, f_b = tab.f_comp, tab.f_k, tab.f_a, tab.f_b
    e_idx, k_where, mass_idx, nu = tab.e_idx, tab.k_where, tab.mass_idx, tab.nu
    nz_idx, nz_cnt, dissolved, partic = tab.nz_idx, tab.nz_cnt, tab.dissolved, tab.partic
    nc, ncomp = m.shape
    nz = nc - 1
    npr, nf = f_comp.shape
    dm = np.zeros((nc, ncomp))
    jloc = np.zeros((nc, ncomp, ncomp))
    fac = np.empty(nf)
    dfac = np.empty(nf)
    for p in range(npr):
        for c in range(nc):
            base = k_where[p, c]
            if base == 0.0:
                continue
            for j in range(e_idx.shape[1]):
                base *= env[e_idx[p, j], c]
            mi = mass_idx[p]
            mterm = 1.0 if mi == ncomp + 1 else (0.0 if mi == ncomp else m[c, mi])
            prod = 1.0
            for j in range(nf):
                k = f_comp[p, j]
                x = conc[c, k] if k < ncomp else 0.0
                den = f_k[p, j] + x
                fac[j] = (f_a[p, j] * x + f_b[p, j]) / den
                dfac[j] = (f_a[p, j] * f_k[p, j] - f_b[p, j]) / (den * den)
                prod *= fac[j]
            rate = base * prod * mterm
            for q in range(nz_cnt[p]):
                i = nz_idx[p, q]
                dm[c, i] += nu[p, i] * rate
            if want_jac:
                # d rate / d mass of the rate's own mass component
                if mi < ncomp:
                    d = base * prod
                    for q in range(nz_cnt[p]):
                        i = nz_idx[p, q]
                        jloc[c, i, mi] += nu[p, i] * d
                # d rate / d mass of each Monod/inhibition factor's component
                for j in range(nf):
                    k = f_comp[p, j]
                    if k >= ncomp:
                        continue
                    others = 1.0
                    for jj in range(nf):
                        if jj != j:
                            others *= fac[jj]
                    d = base * mterm * others * dfac[j] / vol[c]
                    for q in range(nz_cnt[p]):
                        i = nz_idx[p, q]
                        jloc[c, i, k] += nu[p, i] * d
    # transport between the water column and the zones (dissolved), settling (particulate)
    czw = np.zeros((nz, ncomp))
    cwz = np.zeros((nz, ncomp))
    for z in range(nz):
        c = z + 1
        q = exch[z]
        for k in range(ncomp):
            if dissolved[k]:
                flux = q * (conc[0, k] - conc[c, k])
                dm[c, k] += flux
                dm[0, k] -= flux
                czw[z, k] = q / vol[0]
                cwz[z, k] = q / vol[c]
                jloc[c, k, k] -= q / vol[c]
                jloc[0, k, k] -= q / vol[0]
            elif partic[k]:
                flux = sc[K_SETTLE] * share[z] * m[0, k]
                dm[c, k] += flux
                dm[0, k] -= flux
                czw[z, k] = sc[K_SETTLE] * share[z]
                jloc[0, k, k] -= sc[K_SETTLE] * share[z]
    # gas exchange at the surface of the water column
    dm[0, _O2] += sc[KLA_O2] * (sc[O2_SAT] - conc[0, _O2])
    jloc[0, _O2, _O2] -= sc[KLA_O2] / vol[0]
    h = 10.0 ** (-ph[0])
    alpha0 = h * h / (h * h + sc[K1] * h + sc[K1] * sc[K2])
    dm[0, _DIC] += sc[KLA_CO2] * (sc[CO2_SAT] - alpha0 * conc[0, _DIC])
    jloc[0, _DIC, _DIC] -= sc[KLA_CO2] * alpha0 / vol[0]
    return dm, jloc, czw, cwz, ph


@njit(cache=True)
def invert_into(a, act, out):
    """out[act][:, act] = inverse of a[act][:, act]; out is the identity elsewhere.

    Gauss-Jordan elimination with partial pivoting on the active cells only (12 of 17
    in a bed zone, 15 in the water column): the other rows of I - gh J are identity rows.
    For blocks this small it is several times faster than a LAPACK call from numba.
    """
    n = act.shape[0]
    ncomp = out.shape[0]
    w = np.empty((n, n))
    inv = np.zeros((n, n))
    for i in range(n):
        for k in range(n):
            w[i, k] = a[act[i], act[k]]
        inv[i, i] = 1.0
    for col in range(n):
        piv = col
        best = abs(w[col, col])
        for r in range(col + 1, n):
            v = abs(w[r, col])
            if v > best:
                best, piv = v, r
        if piv != col:
            for k in range(n):
                w[col, k], w[piv, k] = w[piv, k], w[col, k]
                inv[col, k], inv[piv, k] = inv[piv, k], inv[col, k]
        inv_p = 1.0 / w[col, col]
        for k in range(n):
            w[col, k] *= inv_p
            inv[col, k] *= inv_p
        for r in range(n):
            if r != col:
                f = w[r, col]
                if f != 0.0:
                    for k in range(n):
                        w[r, k] -= f * w[col, k]
                        inv[r, k] -= f * inv[col, k]
    for i in range(ncomp):
        for k in range(ncomp):
            out[i, k] = 0.0
        out[i, i] = 1.0
    for i in range(n):
        for k in range(n):
            out[act[i], act[k]] = inv[i, k]


@njit(cache=True)
def factor(jloc, czw, cwz, gh, act_water, act_zone):
    """Block elimination of M = I - gh J for the arrow structure.

    Zone blocks A_i = I - gh J_i couple to the water column through diagonal matrices
    C_i = -gh diag(czw_i) (zone rows, column cols) and B_i = -gh diag(cwz_i).  Returns
    inv(A_i) for every compartment's block and inv(S), S = A_0 - sum_i B_i A_i^-1 C_i.
    ``act_water``/``act_zone`` list the components that are state in each kind of block.
    """
    nc, ncomp, _ = jloc.shape
    inv_a = np.empty((nc, ncomp, ncomp))
    a = np.empty((ncomp, ncomp))
    for c in range(1, nc):
        for i in range(ncomp):
            for k in range(ncomp):
                a[i, k] = -gh * jloc[c, i, k]
            a[i, i] += 1.0
        invert_into(a, act_zone, inv_a[c])
    s = np.empty((ncomp, ncomp))
    for i in range(ncomp):
        for k in range(ncomp):
            s[i, k] = -gh * jloc[0, i, k]
        s[i, i] += 1.0
    for z in range(nc - 1):
        c = z + 1
        for i in range(ncomp):
            bi = -gh * cwz[z, i]
            if bi == 0.0:
                continue
            for k in range(ncomp):
                ck = -gh * czw[z, k]
                if ck != 0.0:
                    s[i, k] -= bi * inv_a[c, i, k] * ck
    invert_into(s, act_water, inv_a[0])
    return inv_a


@njit(cache=True)
def solve(inv_a, czw, cwz, gh, b, act_water, act_zone):
    """x with M x = b, using the factors of :func:`factor` (inactive cells: x = b)."""
    nc, ncomp = b.shape
    x = b.copy()
    rhs0 = b[0].copy()
    nw, nzc = act_water.shape[0], act_zone.shape[0]
    for c in range(1, nc):
        for ii in range(nzc):
            i = act_zone[ii]
            acc = 0.0
            for kk in range(nzc):
                k = act_zone[kk]
                acc += inv_a[c, i, k] * b[c, k]
            x[c, i] = acc  # y_c = A_c^-1 b_c, corrected below
            rhs0[i] += gh * cwz[c - 1, i] * acc
    for ii in range(nw):
        i = act_water[ii]
        acc = 0.0
        for kk in range(nw):
            k = act_water[kk]
            acc += inv_a[0, i, k] * rhs0[k]
        x[0, i] = acc
    for c in range(1, nc):
        for ii in range(nzc):
            i = act_zone[ii]
            acc = 0.0
            for kk in range(nzc):
                k = act_zone[kk]
                acc += inv_a[c, i, k] * (-gh * czw[c - 1, k] * x[0, k])
            x[c, i] -= acc
    return x


@njit(cache=True)
def advance(m, t0, t1, h, k_out, ctl, cond, tab, rec):
    """ROS2 from (t0, m) to t1; samples rec.out_t[k_out:] in (t0, t1] into rec.out_m.

    ``ctl`` is the :class:`StepControl`, ``cond`` the :class:`Conditions` (constant over
    the interval), ``tab`` the :class:`Tables`, ``rec`` the :class:`Record`.
    rec.stats[STAT_*] += accepted, rejected (error), rejected (negative), rhs evaluations.
    A step that leaves a cell below -CLIP_FRACTION * atol is rejected and halved; smaller
    round-off below zero (the linear stages can leave -1e-13 mg in a cell that is exactly
    empty) is set to zero and the mass added is summed in ``rec.clipped`` so the ledger
    can book it.
    Returns (m, h, k_out, ok); ok is False if the step size collapsed below 1e-12 d.
    """
    rtol, atol, weight, h_max = ctl.rtol, ctl.atol, ctl.weight, ctl.h_max_d
    act_water, act_zone = tab.act_water, tab.act_zone
    out_t, out_m, stats, clipped = rec.out_t, rec.out_m, rec.stats, rec.clipped
    nc, ncomp = m.shape
    nweight = 0.0
    for c in range(nc):
        for k in range(ncomp):
            nweight += weight[c, k]
    t = t0
    span = max(1.0, abs(t1))
    while t1 - t > 1e-12 * span:
        # np.bool_, not a bare True/False: numba compiles a separate copy of evaluate (and
        # of everything it calls) for each literal bool it is passed, besides the plain-bool
        # one Python callers use; three copies tripled the kernel's compile time
        f0, jloc, czw, cwz, _ = evaluate(m, cond, tab, np.bool_(True))
        stats[STAT_RHS_EVALUATIONS] += 1
        while True:
            hh = min(h, h_max, t1 - t)
            gh = GAMMA * hh
            inv_a = factor(jloc, czw, cwz, gh, act_water, act_zone)
            k1 = solve(inv_a, czw, cwz, gh, f0, act_water, act_zone)
            f1, _, _, _, _ = evaluate(m + hh * k1, cond, tab, np.bool_(False))
            stats[STAT_RHS_EVALUATIONS] += 1
            k2 = solve(inv_a, czw, cwz, gh, f1 - 2.0 * k1, act_water, act_zone)
            m_new = m + hh * (1.5 * k1 + 0.5 * k2)
            est = solve(inv_a, czw, cwz, gh, 0.5 * hh * (k1 + k2), act_water, act_zone)
            acc = 0.0
            negative = False
            finite = True
            for c in range(nc):
                for k in range(ncomp):
                    v = m_new[c, k]
                    if not np.isfinite(v):
                        finite = False
                    if v < -CLIP_FRACTION * atol[c, k]:
                        negative = True
                    scale = atol[c, k] + rtol[c, k] * max(abs(m[c, k]), abs(v))
                    e = est[c, k] / scale
                    acc += weight[c, k] * e * e
            err = np.sqrt(acc / nweight) if finite else np.inf
            if err <= 1.0 and not negative:
                break
            if negative and err <= 1.0:
                stats[STAT_REJECTED_NEGATIVE] += 1
                h = 0.5 * hh
            else:
                stats[STAT_REJECTED_ERROR] += 1
                h = hh * max(0.2, 0.9 / np.sqrt(err)) if np.isfinite(err) else 0.1 * hh
            if h < 1e-12:
                return m, h, k_out, False
        t_new = t + hh
        # round-off below zero (at most CLIP_FRACTION * atol) is set to zero and booked
        for c in range(nc):
            for k in range(ncomp):
                if m_new[c, k] < 0.0:
                    clipped[c, k] -= m_new[c, k]
                    m_new[c, k] = 0.0
        # dense output: linear interpolation keeps samples non-negative
        while k_out < out_t.shape[0] and out_t[k_out] <= t_new + 1e-9 * span:
            w = (out_t[k_out] - t) / hh
            w = min(1.0, max(0.0, w))
            out_m[k_out] = (1.0 - w) * m + w * m_new
            k_out += 1
        stats[STAT_ACCEPTED] += 1
        t = t_new
        m = m_new
        growth = 2.0 if err == 0.0 else min(2.0, max(0.2, 0.9 / np.sqrt(err)))
        if hh < h:  # a step cut short by the event: keep the longer step for the next one
            h = max(h, hh * growth)
        else:
            h = hh * growth
    return m, h, k_out, True
