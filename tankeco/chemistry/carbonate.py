"""Fresh-water carbonate system: constants, speciation, pH from alkalinity and DIC.

Units at this module's interface:

* alkalinity ``alk_mg_l_caco3`` - mg/L as CaCO3 (1 meq/L = 50.04 mg/L; 1 dKH = 17.848);
* dissolved inorganic carbon ``dic_mg_c_l`` - mg C/L (CO2* + HCO3- + CO3--; 12.011 g/mol);
* ``co2`` - dissolved CO2* (CO2(aq) + H2CO3) as mg C/L (times 3.664 for mg CO2/L).

Constants are the thermodynamic (infinite-dilution) values of Plummer & Busenberg (1982)
for K1, K2, the Harned & Owen fit for Kw and Weiss (1974) for the CO2 solubility. They
are used directly as concentration constants in mol/L: this neglects activity
coefficients (at the ionic strength of aquarium water, about 0.005-0.01 M, the Davies
equation shifts the apparent pK1 by -0.03 to -0.05 and pK2 by -0.10 to -0.13) and the
molal/molar difference (density 0.997 kg/L, 0.001-0.003 in pK). The alkalinity is
carbonate alkalinity plus the water terms; borate, phosphate, silicate and organic bases
are ignored. Pure and vectorised.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tankeco.chemistry.ammonia import pka_ammonium
from tankeco.units.molar import (
    ALK_MG_CACO3_PER_MEQ,
    KELVIN_OFFSET,
    MOLAR_MASS_C_G_MOL,
    MOLAR_MASS_N_G_MOL,
)

FloatOrArray = np.float64 | NDArray[np.float64]

_LN10 = np.log(10.0)
#: Newton/bisection iterations are stopped when every pH has moved less than this.
_PH_TOLERANCE = 1e-12
_MAX_ITERATIONS = 200


def _f(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    return x[()] if x.ndim == 0 else x


def _alk_eq_l(alk_mg_l_caco3: ArrayLike) -> NDArray[np.float64]:
    return _f(alk_mg_l_caco3) / ALK_MG_CACO3_PER_MEQ / 1000.0


def _dic_mol_l(dic_mg_c_l: ArrayLike) -> NDArray[np.float64]:
    return _f(dic_mg_c_l) / MOLAR_MASS_C_G_MOL / 1000.0


def carbonate_constants(
    temp_c: ArrayLike,
) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    """First and second dissociation constants of carbonic acid and the ion product of water.

    With ``T`` in kelvin (``T_C + 273.15``), ``log`` base 10:

    K1 (CO2* = H+ + HCO3-) and K2 (HCO3- = H+ + CO3--), Plummer & Busenberg (1982):

    .. math::

        \\log K_1 = -356.3094 - 0.06091964\\,T + \\frac{21834.37}{T}
                    + 126.8339 \\log T - \\frac{1684915}{T^2}

        \\log K_2 = -107.8871 - 0.03252849\\,T + \\frac{5151.79}{T}
                    + 38.92561 \\log T - \\frac{563713.9}{T^2}

    Kw (H2O = H+ + OH-), the Harned & Robinson (1940) fit tabulated by Harned & Owen
    (1958) and quoted by Stumm & Morgan:

    .. math:: \\log K_w = -\\frac{4470.99}{T} + 6.0875 - 0.01706\\,T

    At 25 °C: pK1 = 6.352, pK2 = 10.329, pKw = 13.995. Valid 0-50 °C (K1, K2 to 250 °C).

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    (K1, K2, Kw) : tuple
        K1 and K2 in mol/L, Kw in (mol/L)^2, each broadcast to the shape of ``temp_c``.

    References
    ----------
    Plummer, L.N., Busenberg, E. (1982) The solubilities of calcite, aragonite and
    vaterite in CO2-H2O solutions between 0 and 90 °C, and an evaluation of the aqueous
    model for the system CaCO3-CO2-H2O. Geochim. Cosmochim. Acta 46:1011-1040.

    Harned, H.S., Robinson, R.A. (1940) Trans. Faraday Soc. 36:973-978; Harned, H.S.,
    Owen, B.B. (1958) The Physical Chemistry of Electrolytic Solutions, 3rd ed.
    Reinhold; Stumm, W., Morgan, J.J. Aquatic Chemistry (Wiley).
    """
    t_k = _f(temp_c) + KELVIN_OFFSET
    log_t = np.log10(t_k)
    log_k1 = -356.3094 - 0.06091964 * t_k + 21834.37 / t_k + 126.8339 * log_t - 1684915.0 / t_k**2
    log_k2 = -107.8871 - 0.03252849 * t_k + 5151.79 / t_k + 38.92561 * log_t - 563713.9 / t_k**2
    log_kw = -4470.99 / t_k + 6.0875 - 0.01706 * t_k
    return _out(10.0**log_k1), _out(10.0**log_k2), _out(10.0**log_kw)


def co2_henry_mol_l_atm(temp_c: ArrayLike) -> FloatOrArray:
    """Solubility (Henry) constant of CO2 in fresh water, mol/(L atm), Weiss (1974).

    .. math::

        \\ln K_0 = -58.0931 + 90.5069\\,\\frac{100}{T} + 22.2940 \\ln\\frac{T}{100}

    (the volumetric, salinity-zero set of Weiss's Table 1; ``T = T_C + 273.15`` K).
    ``[CO2*] = K0 * fCO2``; in air the CO2 fugacity and partial pressure are practically
    equal. 0.0340 mol/(L atm) at 25 °C (pK_H = 1.469).

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    K0, mol L-1 atm-1.

    References
    ----------
    Weiss, R.F. (1974) Carbon dioxide in water and seawater: the solubility of a
    non-ideal gas. Mar. Chem. 2:203-215.
    """
    t_k = _f(temp_c) + KELVIN_OFFSET
    return _out(np.exp(-58.0931 + 90.5069 * (100.0 / t_k) + 22.2940 * np.log(t_k / 100.0)))


def _alphas(
    h: NDArray[np.float64], k1: NDArray[np.float64], k2: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Ionisation fractions (alpha0, alpha1, alpha2) of DIC at [H+] = h."""
    d = h * h + k1 * h + k1 * k2
    return h * h / d, k1 * h / d, k1 * k2 / d


def co2_fraction(ph: ArrayLike, temp_c: ArrayLike) -> FloatOrArray:
    """Fraction of DIC present as dissolved CO2* (alpha0).

    .. math:: \\alpha_0 = \\frac{[H^+]^2}{[H^+]^2 + K_1 [H^+] + K_1 K_2}, \\qquad [H^+] = 10^{-pH}

    Parameters
    ----------
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    alpha0 in [0, 1], dimensionless.

    References
    ----------
    Stumm, W., Morgan, J.J. (1996) Aquatic Chemistry, 3rd ed., ch. 4; constants from
    :func:`carbonate_constants`.
    """
    k1, k2, _ = carbonate_constants(temp_c)
    h = np.power(10.0, -_f(ph))
    a0, _, _ = _alphas(h, _f(k1), _f(k2))
    return _out(a0)


def co2_mg_c_l(dic_mg_c_l: ArrayLike, ph: ArrayLike, temp_c: ArrayLike) -> FloatOrArray:
    """Dissolved CO2* as mg C/L: ``CO2 = DIC * alpha0(pH, T)``.

    Multiply by 44.009/12.011 = 3.664 for mg CO2/L.

    Parameters
    ----------
    dic_mg_c_l : array-like
        Dissolved inorganic carbon, mg C/L.
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    CO2*, mg C/L.
    """
    return _out(_f(dic_mg_c_l) * _f(co2_fraction(ph, temp_c)))


def co2_saturation_mg_c_l(temp_c: ArrayLike, pco2_uatm: ArrayLike) -> FloatOrArray:
    """Dissolved CO2* in equilibrium with air of a given CO2 partial pressure, mg C/L.

    .. math:: [CO_2^*]_{sat} = K_0(T)\\, p_{CO_2} \\cdot 12.011 \\cdot 10^{3}

    with ``K0`` from :func:`co2_henry_mol_l_atm` and ``pCO2`` in atm (µatm × 1e-6).
    Indoor air usually holds more CO2 than outdoor air; use the room's value.

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.
    pco2_uatm : array-like
        Partial pressure of CO2 in the air over the water, µatm.

    Returns
    -------
    Equilibrium CO2*, mg C/L.

    References
    ----------
    Weiss, R.F. (1974) Mar. Chem. 2:203-215.
    """
    k0 = _f(co2_henry_mol_l_atm(temp_c))
    return _out(k0 * _f(pco2_uatm) * 1e-6 * MOLAR_MASS_C_G_MOL * 1000.0)


def dic_from_alk_ph(
    alk_mg_l_caco3: ArrayLike, ph: ArrayLike, temp_c: ArrayLike, tan_mg_l: ArrayLike = 0.0
) -> FloatOrArray:
    """DIC that gives the stated pH at the stated alkalinity (inverse of ph_from_alk_dic).

    From the charge balance ``Alk = DIC (alpha1 + 2 alpha2) + TAN beta + Kw/[H+] - [H+]``
    (beta the free-ammonia fraction, see :func:`ph_from_alk_dic`):

    .. math:: DIC = \\frac{Alk - TAN\\,\\beta - K_w/[H^+] + [H^+]}{\\alpha_1 + 2\\alpha_2}

    Parameters
    ----------
    alk_mg_l_caco3 : array-like
        Total alkalinity, mg/L as CaCO3.
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    DIC, mg C/L. Negative where no non-negative DIC satisfies the charge balance (e.g.
    zero alkalinity with pH above that of pure water); callers decide how to treat that.

    References
    ----------
    Stumm, W., Morgan, J.J. (1996) Aquatic Chemistry, 3rd ed., ch. 4.
    """
    k1, k2, kw = (_f(k) for k in carbonate_constants(temp_c))
    h = np.power(10.0, -_f(ph))
    _, a1, a2 = _alphas(h, k1, k2)
    ka_nh4 = _ka_ammonium(temp_c)
    nh3_mol = _tan_mol_l(tan_mg_l) * ka_nh4 / (ka_nh4 + h)
    dic_mol = (_alk_eq_l(alk_mg_l_caco3) - nh3_mol - kw / h + h) / (a1 + 2.0 * a2)
    return _out(dic_mol * MOLAR_MASS_C_G_MOL * 1000.0)


def _ka_ammonium(temp_c: ArrayLike) -> NDArray[np.float64]:
    """Ka of NH4+ from the pKa of Emerson et al. (1975), mol/L."""
    return np.power(10.0, -_f(pka_ammonium(temp_c)))


def _tan_mol_l(tan_mg_l: ArrayLike) -> NDArray[np.float64]:
    return np.maximum(_f(tan_mg_l), 0.0) / MOLAR_MASS_N_G_MOL / 1000.0


def _charge_balance(
    ph: NDArray[np.float64],
    alk: NDArray[np.float64],
    ct: NDArray[np.float64],
    k1: NDArray[np.float64],
    k2: NDArray[np.float64],
    kw: NDArray[np.float64],
    nt: NDArray[np.float64],
    ka_nh4: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Residual f(pH) = DIC(a1 + 2 a2) + N_T b + Kw/h - h - Alk (eq/L) and df/dpH (> 0)."""
    h = np.power(10.0, -ph)
    num = k1 * h + 2.0 * k1 * k2
    den = h * h + k1 * h + k1 * k2
    f = ct * num / den + nt * ka_nh4 / (ka_nh4 + h) + kw / h - h - alk
    # d/dh of num/den, then chain rule with dh/dpH = -ln(10) h.
    dcarb_dh = (k1 * den - num * (2.0 * h + k1)) / (den * den)
    df_dh = ct * dcarb_dh - nt * ka_nh4 / (ka_nh4 + h) ** 2 - kw / (h * h) - 1.0
    return f, -_LN10 * h * df_dh


def ph_from_alk_dic(
    alk_mg_l_caco3: ArrayLike, dic_mg_c_l: ArrayLike, temp_c: ArrayLike, tan_mg_l: ArrayLike = 0.0
) -> FloatOrArray:
    """pH of fresh water from total alkalinity, dissolved inorganic carbon and ammonia.

    Solves the proton condition / charge balance for ``h = [H+] = 10^-pH``:

    .. math::

        Alk = C_T(\\alpha_1 + 2\\alpha_2) + N_T \\beta + \\frac{K_w}{h} - h, \\qquad
        \\beta = \\frac{K_{a,NH4}}{K_{a,NH4} + h},\\
        \\alpha_1 = \\frac{K_1 h}{D},\\ \\alpha_2 = \\frac{K_1 K_2}{D},\\
        D = h^2 + K_1 h + K_1 K_2

    The right-hand side falls strictly as h rises, so there is exactly one root. Method:
    start from the closed-form root of the carbonate-only quadratic
    ``Alk h^2 + (Alk - C_T) K1 h + (Alk - 2 C_T) K1 K2 = 0`` (when ``0 < Alk < 2 C_T``),
    then Newton iterations on pH (i.e. on log h), each safeguarded by a bracket that is
    known to contain the root: a step that leaves the bracket is replaced by bisection.
    Converges to 1e-12 pH in a few iterations; never NaN for finite input.

    Alkalinity at or below zero gives the acidic solution (mineral acidity: pH below
    that of the CO2 alone). Negative DIC is treated as zero.

    ``Alk`` is the total alkalinity in the sense of Dickson (1981), which counts free
    ammonia (NH3) as a proton acceptor: dosing NH3 raises it by one equivalent per mole,
    and the ammonia buffer (pKa 9.25, Emerson et al. 1975) then holds the pH down.  With
    ``tan_mg_l`` = 0 this is the carbonate-only balance.

    Parameters
    ----------
    alk_mg_l_caco3 : array-like
        Total alkalinity, mg/L as CaCO3 (may be negative: mineral acidity).
    dic_mg_c_l : array-like
        Dissolved inorganic carbon, mg C/L.
    temp_c : array-like
        Water temperature, °C.
    tan_mg_l : array-like, optional
        Total ammonia nitrogen, mg N/L (default 0).

    Returns
    -------
    pH, broadcast shape of the inputs.

    References
    ----------
    Stumm, W., Morgan, J.J. (1996) Aquatic Chemistry, 3rd ed., ch. 4 (alkalinity and
    the carbonate system); constants from :func:`carbonate_constants`.
    """
    k1_, k2_, kw_ = carbonate_constants(temp_c)
    alk, ct, k1, k2, kw, nt, ka_nh4 = np.broadcast_arrays(
        _alk_eq_l(alk_mg_l_caco3),
        np.maximum(_dic_mol_l(dic_mg_c_l), 0.0),
        _f(k1_),
        _f(k2_),
        _f(kw_),
        _tan_mol_l(tan_mg_l),
        _ka_ammonium(temp_c),
    )
    abs_alk = np.abs(alk)
    # Bracket. At h_hi = 2 C_T + N_T + |Alk| + 1e-6 the residual is < 0 (the carbonate
    # term is at most 2 C_T, the ammonia term at most N_T and Kw/h_hi < 1e-6); at
    # h_lo = Kw / (|Alk| + 1e-6) it is > 0
    # (Kw/h_lo = |Alk| + 1e-6 exceeds Alk + h_lo because h_lo < 1e-6).
    ph_lo = -np.log10(2.0 * ct + nt + abs_alk + 1e-6)
    ph_hi = -np.log10(kw / (abs_alk + 1e-6))

    # Absurd magnitudes (|Alk| ~ 1e300) can overflow intermediate terms; the bracket
    # logic below turns any non-finite Newton step into bisection, so silence them.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Initial guess: carbonate-only quadratic where it has a root, else mid-bracket.
        a = alk
        b = (alk - ct) * k1
        c = (alk - 2.0 * ct) * k1 * k2
        sq = np.sqrt(b * b - 4.0 * a * c)
        # Cancellation-free form of the positive root (c < 0 < a here).
        h0 = np.where(b >= 0.0, 2.0 * c / (-b - sq), (-b + sq) / (2.0 * a))
        ph0 = -np.log10(h0)
        usable = (alk > 0.0) & (alk < 2.0 * ct) & np.isfinite(ph0)
        ph = np.where(usable, ph0, 0.5 * (ph_lo + ph_hi))
        ph = np.clip(ph, ph_lo, ph_hi)

        for _ in range(_MAX_ITERATIONS):
            f, dfdph = _charge_balance(ph, alk, ct, k1, k2, kw, nt, ka_nh4)
            # f increases with pH: f > 0 means the root lies below.
            ph_hi = np.where(f > 0.0, ph, ph_hi)
            ph_lo = np.where(f <= 0.0, ph, ph_lo)
            newton = ph - f / dfdph
            inside = (newton >= ph_lo) & (newton <= ph_hi)  # False for NaN too
            new_ph = np.where(inside, newton, 0.5 * (ph_lo + ph_hi))
            step = np.abs(new_ph - ph)
            ph = new_ph
            if not np.any(step > _PH_TOLERANCE):
                break
    return _out(ph)
