"""Nitrifying biofilm on the bed's pebbles: how much ammonia and nitrite a film can take up.

The formulation (why and with which sources: ``docs/biofilm.md``) is the steady-state
"deep biofilm" flux of Rittmann & McCarty (2001, ch. 4) combined with the dual-substrate
limitation of Williamson & McCarty (1976), applied to a mixed film of ammonia and nitrite
oxidisers, without an external diffusion layer (the zones are flushed ~100 times an hour):

* A film with the biomass ``m`` g VSS per m2 of pebble, at the density ``x_film`` g VSS
  per m3 of film, is ``L = (m_aob + m_nob) / x_film`` thick.  Each guild holds its share of
  the film volume, so its largest volumetric rate is ``r = q * x_film * m / (m_aob + m_nob)``
  (g N/m3/d) with ``q = mu / Y`` its largest specific uptake rate.
* **Thin film** (every cell sees the bulk water): ``J_thin = q m S/(K+S) O/(K_O+O)``.
* **Deep film** (the substrate runs out inside the film), Monod kinetics, no flux at the
  support (Rittmann & McCarty 2001, ch. 4, the deep-biofilm limit):

      J_deep(S) = sqrt(2 D r (S - K ln(1 + S/K)))

  which is Harremoes' half-order flux sqrt(2 D r S) at S >> K and first order,
  sqrt(D r / K) S, at S << K.
* **Oxygen**: both guilds draw on the same oxygen; with their oxygen uptake capacity per
  volume ``r_O = nu_aob r_aob f_tan + nu_nob r_nob f_no2`` the film takes up at most
  ``J_O = J_deep(O2; K_O, D_O2, r_O)`` g O2/m2/d.  When the guilds' N fluxes would need
  more (``nu_aob J_aob + nu_nob J_nob > J_O``) oxygen is the rate-limiting substrate
  (Williamson & McCarty 1976) and both fluxes are scaled down to what it supplies.

The flux of each guild is ``J = min(J_thin, J_deep(own substrate))``, scaled by oxygen, and
the kernel applies it as an effectiveness factor ``eta = J / J_thin`` on the Monod growth
rate of the Petersen matrix.  Biomass then follows the load: at steady state
``m = Y J / (b + b_det)`` (decay plus detachment), so a film grows until the substrate
it removes feeds exactly what it loses, and a thin film holds the bulk at
``S_min = K b' / (Y q - b')`` (Rittmann & McCarty 2001, ch. 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from tankeco.chemistry.temperature import theta_factor
from tankeco.sim.petersen import (
    COD_PER_VSS,
    O2_PER_N_TO_NO2,
    O2_PER_N_TO_NO3,
    nitrifier_temperature_factors,
)

SECONDS_PER_DAY = 86400.0


@njit(cache=True)
def deep_flux_g_m2_d(s_g_m3, k_g_m3, d_m2_d, r_max_g_m3_d):
    """Flux into a deep biofilm with Monod kinetics, g/m2/d.

    J = sqrt(2 D r_max (S - K ln(1 + S/K))), S the concentration at the film surface
    (g/m3 = mg/L), K the half-saturation (g/m3), D the diffusivity in the film (m2/d),
    r_max the largest volumetric uptake rate (g/m3/d).  Exact for a film deep enough
    that the substrate is used up before the support (Rittmann & McCarty 2001, ch. 4).
    """
    if s_g_m3 <= 0.0 or r_max_g_m3_d <= 0.0:
        return 0.0
    x = s_g_m3 / k_g_m3
    # S - K ln(1 + S/K) loses all its digits for S << K: use the series there
    if x < 1e-3:
        g = k_g_m3 * x * x * (0.5 - x / 3.0 + x * x / 4.0)
    else:
        g = s_g_m3 - k_g_m3 * math.log1p(x)
    return math.sqrt(2.0 * d_m2_d * r_max_g_m3_d * g)


@njit(cache=True)
def nitrifier_fluxes(
    tan_g_m3,
    no2_g_m3,
    o2_g_m3,
    m_aob_g_m2,
    m_nob_g_m2,
    q_aob_d,
    q_nob_d,
    k_tan_g_m3,
    k_no2_g_m3,
    k_o2_aob_g_m3,
    k_o2_nob_g_m3,
    d_tan_m2_d,
    d_no2_m2_d,
    d_o2_m2_d,
    x_film_g_m3,
    o2_per_n_aob,
    o2_per_n_nob,
):
    """Areal N fluxes (g N/m2/d) of the ammonia and nitrite oxidisers, and their thin-film
    values: returns (j_aob, j_nob, j_thin_aob, j_thin_nob).

    ``q_*`` are the largest specific uptake rates at the film's temperature and pH,
    g N/g VSS/d (mu / Y times any inhibition factor); ``o2_per_n_*`` the oxygen each
    guild uses per g N it oxidises (g O2/g N, growth included).
    """
    f_tan = tan_g_m3 / (k_tan_g_m3 + tan_g_m3) if tan_g_m3 > 0.0 else 0.0
    f_no2 = no2_g_m3 / (k_no2_g_m3 + no2_g_m3) if no2_g_m3 > 0.0 else 0.0
    o2 = max(o2_g_m3, 0.0)
    j_thin_a = q_aob_d * m_aob_g_m2 * f_tan * o2 / (k_o2_aob_g_m3 + o2)
    j_thin_n = q_nob_d * m_nob_g_m2 * f_no2 * o2 / (k_o2_nob_g_m3 + o2)
    m_tot = m_aob_g_m2 + m_nob_g_m2
    if m_tot <= 0.0:
        return 0.0, 0.0, j_thin_a, j_thin_n
    r_a = q_aob_d * x_film_g_m3 * m_aob_g_m2 / m_tot
    r_n = q_nob_d * x_film_g_m3 * m_nob_g_m2 / m_tot
    j_a = min(j_thin_a, deep_flux_g_m2_d(tan_g_m3, k_tan_g_m3, d_tan_m2_d, r_a))
    j_n = min(j_thin_n, deep_flux_g_m2_d(no2_g_m3, k_no2_g_m3, d_no2_m2_d, r_n))
    need = o2_per_n_aob * j_a + o2_per_n_nob * j_n
    demand_a = o2_per_n_aob * r_a * f_tan
    demand_n = o2_per_n_nob * r_n * f_no2
    demand = demand_a + demand_n
    if need > 0.0 and demand > 0.0:
        # one oxygen half-saturation for the shared film: the demand-weighted mean
        k_o2 = (demand_a * k_o2_aob_g_m3 + demand_n * k_o2_nob_g_m3) / demand
        j_o2 = deep_flux_g_m2_d(o2, k_o2, d_o2_m2_d, demand)
        if j_o2 < need:
            # oxygen is the rate-limiting substrate: shared in proportion to what each
            # guild would take with oxygen to spare
            j_a *= j_o2 / need
            j_n *= j_o2 / need
    return j_a, j_n, j_thin_a, j_thin_n


def s_min_g_m3(k_g_m3: float, y_g_g: float, q_d: float, b_total_d: float) -> float:
    """The lowest bulk concentration that sustains a steady-state biofilm, g/m3:
    S_min = K b' / (Y q - b') (Rittmann & McCarty 2001, ch. 4); inf if Y q <= b'."""
    growth = y_g_g * q_d
    return math.inf if growth <= b_total_d else k_g_m3 * b_total_d / (growth - b_total_d)


def steady_bulk_g_m3(
    load_g_m2_d: float,
    k_g_m3: float,
    y_g_g: float,
    q_d: float,
    b_total_d: float,
    d_m2_d: float,
    r_max_g_m3_d: float,
) -> float:
    """Bulk concentration at which a steady-state film removes ``load_g_m2_d`` (oxygen not
    limiting): S_min while the film is thin (the biomass Y J / b' grows with the load and
    the bulk stays put), else the S at which J_deep(S) equals the load."""
    s_lo = s_min_g_m3(k_g_m3, y_g_g, q_d, b_total_d)
    if not math.isfinite(s_lo) or load_g_m2_d <= 0.0:
        return s_lo if load_g_m2_d > 0.0 else 0.0
    if deep_flux_g_m2_d(s_lo, k_g_m3, d_m2_d, r_max_g_m3_d) >= load_g_m2_d:
        return s_lo
    hi = max(2.0 * s_lo, 1.0)
    while deep_flux_g_m2_d(hi, k_g_m3, d_m2_d, r_max_g_m3_d) < load_g_m2_d:
        hi *= 2.0
        if hi > 1e9:
            return math.inf
    lo = s_lo
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if deep_flux_g_m2_d(mid, k_g_m3, d_m2_d, r_max_g_m3_d) < load_g_m2_d:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@njit(cache=True)
def _bisect_tan(j_target, no2, o2, m_a, m_n, kin):
    """Bulk TAN at which the AOB flux is ``j_target`` (g/m3), or inf if no TAN will do."""
    lo, hi = 0.0, 1.0
    while nitrifier_fluxes(hi, no2, o2, m_a, m_n, *kin)[0] < j_target:
        hi *= 4.0
        if hi > 1e4:
            return np.inf
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if nitrifier_fluxes(mid, no2, o2, m_a, m_n, *kin)[0] < j_target:
            lo = mid
        else:
            hi = mid
    return hi


@njit(cache=True)
def steady_film(load_g_m2_d, o2_g_m3, b_aob_total_d, b_nob_total_d, y_aob, y_nob, kin):
    """Steady state of a film that oxidises ``load_g_m2_d`` of TAN all the way to nitrate.

    At steady state both guilds carry the load, ``J_aob = J_nob = load``, and hold the
    biomass that load feeds, ``m = Y load / b'`` (b' = decay + detachment).  Returns
    (tan_g_m3, no2_g_m3, m_aob_g_m2, m_nob_g_m2); TAN or nitrite is inf when the film
    cannot carry the load (oxygen runs out, or the guild cannot outgrow its losses).
    ``kin`` is the tuple of :func:`nitrifier_fluxes`' arguments after the biomasses.
    """
    m_a = y_aob * load_g_m2_d / b_aob_total_d
    m_n = y_nob * load_g_m2_d / b_nob_total_d
    if load_g_m2_d <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    # nitrite: the NOB flux at the TAN that gives the AOB flux rises with nitrite
    lo, hi = 0.0, 1.0
    while True:
        tan = _bisect_tan(load_g_m2_d, hi, o2_g_m3, m_a, m_n, kin)
        if np.isfinite(tan) and nitrifier_fluxes(tan, hi, o2_g_m3, m_a, m_n, *kin)[1] >= (
            load_g_m2_d
        ):
            break
        hi *= 4.0
        if hi > 1e4:
            return tan, np.inf, m_a, m_n
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        tan = _bisect_tan(load_g_m2_d, mid, o2_g_m3, m_a, m_n, kin)
        if (not np.isfinite(tan)) or nitrifier_fluxes(tan, mid, o2_g_m3, m_a, m_n, *kin)[
            1
        ] < load_g_m2_d:
            lo = mid
        else:
            hi = mid
    return _bisect_tan(load_g_m2_d, hi, o2_g_m3, m_a, m_n, kin), hi, m_a, m_n


@njit(cache=True)
def _nob_keeps_up(tan_g_m3, load_g_m2_d, o2_g_m3, m_a, m_n, kin):
    """True if the AOB flux at bulk ``tan_g_m3`` reaches the load when nitrite stands where
    the NOB oxidise it as fast as it is made (the nitrite that gives J_nob = load)."""
    if nitrifier_fluxes(tan_g_m3, 1e4, o2_g_m3, m_a, m_n, *kin)[1] < load_g_m2_d:
        return False  # not even saturating nitrite lets the NOB carry the load
    lo, hi = 0.0, 1e4
    for _ in range(45):
        mid = 0.5 * (lo + hi) if hi < 1.0 else math.sqrt(max(lo, 1e-9) * hi)
        if nitrifier_fluxes(tan_g_m3, mid, o2_g_m3, m_a, m_n, *kin)[1] < load_g_m2_d:
            lo = mid
        else:
            hi = mid
    return nitrifier_fluxes(tan_g_m3, hi, o2_g_m3, m_a, m_n, *kin)[0] >= load_g_m2_d


@njit(cache=True)
def capacity_g_m2_d(tan_g_m3, o2_g_m3, b_aob_total_d, b_nob_total_d, y_aob, y_nob, kin):
    """The largest steady areal rate (g N/m2/d) a film sustains with bulk TAN held at
    ``tan_g_m3`` and bulk oxygen at ``o2_g_m3``: the largest load whose steady biomass
    (m = Y J / b') oxidises it to nitrate, nitrite oxidised as fast as it is made."""
    lo, hi = 0.0, 0.05
    while _nob_keeps_up(
        tan_g_m3, hi, o2_g_m3, y_aob * hi / b_aob_total_d, y_nob * hi / b_nob_total_d, kin
    ):
        lo = hi
        hi *= 2.0
        if hi > 1e3:
            return hi
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        m_a, m_n = y_aob * mid / b_aob_total_d, y_nob * mid / b_nob_total_d
        if _nob_keeps_up(tan_g_m3, mid, o2_g_m3, m_a, m_n, kin):
            lo = mid
        else:
            hi = mid
    return lo


def film_share_steady(y_aob: float, y_nob: float) -> tuple[float, float]:
    """Shares of the film volume at steady state when both guilds carry the same N flux
    and lose biomass at the same rate: m_i = Y_i J / b', so share_i = Y_i / (Y_a + Y_n)."""
    return y_aob / (y_aob + y_nob), y_nob / (y_aob + y_nob)


def o2_demand_per_n(stoich_o2_per_vss: float, yield_g_vss_g_n: float) -> float:
    """Oxygen used per g N oxidised, g O2/g N, from a growth row's O2 coefficient per
    g VSS grown (the Petersen row gives -O2 per unit of biomass made)."""
    return -stoich_o2_per_vss * yield_g_vss_g_n


@dataclass(frozen=True)
class FilmKinetics:
    """The film's constants at one temperature, in the units :func:`nitrifier_fluxes` takes.

    ``kin`` is the tuple that follows the biomasses in its arguments; ``b_*_total_d`` the
    biomass loss rates (decay + detachment), ``y_*`` the yields.
    """

    kin: tuple
    b_aob_total_d: float
    b_nob_total_d: float
    y_aob: float
    y_nob: float

    def steady(self, load_g_m2_d: float, o2_g_m3: float) -> tuple[float, float, float, float]:
        """:func:`steady_film` with these constants."""
        return steady_film(
            load_g_m2_d,
            o2_g_m3,
            self.b_aob_total_d,
            self.b_nob_total_d,
            self.y_aob,
            self.y_nob,
            self.kin,
        )

    def capacity(self, tan_g_m3: float, o2_g_m3: float) -> float:
        """:func:`capacity_g_m2_d` with these constants."""
        return capacity_g_m2_d(
            tan_g_m3,
            o2_g_m3,
            self.b_aob_total_d,
            self.b_nob_total_d,
            self.y_aob,
            self.y_nob,
            self.kin,
        )

    def fluxes(self, tan, no2, o2, m_aob_g_m2, m_nob_g_m2):
        """:func:`nitrifier_fluxes` with these constants."""
        return nitrifier_fluxes(tan, no2, o2, m_aob_g_m2, m_nob_g_m2, *self.kin)


def o2_per_n(p: dict[str, float]) -> tuple[float, float]:
    """Oxygen each guild uses per g N it oxidises, growth included (g O2/g N): the O2
    coefficient of its Petersen row times its yield."""
    y_a, y_n = p["y_aob_g_vss_g_n"], p["y_nob_g_vss_g_n"]
    return O2_PER_N_TO_NO2 - COD_PER_VSS * y_a, O2_PER_N_TO_NO3 - COD_PER_VSS * y_n


def film_diffusivities_m2_d(p: dict[str, float]) -> tuple[float, float, float]:
    """Diffusivities of TAN, nitrite and O2 in the film, m2/d."""
    f = p["film_diffusivity_ratio"] * SECONDS_PER_DAY
    return p["d_tan_m2_s"] * f, p["d_no2_m2_s"] * f, p["d_o2_m2_s"] * f


def film_kinetics(
    p: dict[str, float], temp_c: float, factor_aob: float = 1.0, factor_nob: float = 1.0
) -> FilmKinetics:
    """The film's constants for the parameter table ``p`` at ``temp_c``.

    ``factor_aob``, ``factor_nob`` multiply the guilds' uptake rates (the pH, inhibition
    and nutrient factors of their Petersen rows, when a caller knows the water; 1 = none).
    """
    ft_a, ft_n = nitrifier_temperature_factors(p, temp_c)
    y_a, y_n = p["y_aob_g_vss_g_n"], p["y_nob_g_vss_g_n"]
    d_tan, d_no2, d_o2 = film_diffusivities_m2_d(p)
    nu_a, nu_n = o2_per_n(p)
    kin = (
        p["mu_max_aob_d"] * ft_a / y_a * factor_aob,
        p["mu_max_nob_d"] * ft_n / y_n * factor_nob,
        p["k_tan_aob_mg_l"],
        p["k_no2_nob_mg_l"],
        p["k_o2_aob_mg_l"],
        p["k_o2_nob_mg_l"],
        d_tan,
        d_no2,
        d_o2,
        p["x_film_g_vss_m3"],
        nu_a,
        nu_n,
    )
    decay = float(theta_factor(temp_c, p["theta_decay"]))
    return FilmKinetics(
        kin,
        p["b_aob_d"] * decay + p["b_detach_d"],
        p["b_nob_d"] * decay + p["b_detach_d"],
        y_a,
        y_n,
    )


def water_factors(p: dict[str, float], ph: float, alk_mg_l: float, tan_mg_l: float):
    """The factors of the growth rows that do not depend on the film, for water of this
    pH, alkalinity and TAN (inhibition by free ammonia and nitrous acid left out: they are
    1 at the low TAN and nitrite of a cycled tank): (AOB, NOB)."""
    f_ph = min(1.0, max(0.0, 1.0 - p["ph_slope_nitrif"] * (p["ph_opt_nitrif"] - ph)))
    f_alk = alk_mg_l / (p["k_alk_mg_l_caco3"] + alk_mg_l)
    f_nutrient = tan_mg_l / (p["k_tan_nutrient_mg_l"] + tan_mg_l)
    return f_ph * f_alk, f_ph * f_nutrient
