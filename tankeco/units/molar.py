"""Molar masses and every factor derived from them, in one place, with the conversions.

Inside the model every nitrogen concentration is "as N" (``tan_mg_l``, ``no2_n_mg_l``,
``no3_n_mg_l``), alkalinity is mg/L as CaCO3, dissolved inorganic carbon is mg C/L and
temperature is °C.  Test kits and keepers speak in ions (mg/L NO3), German degrees (dKH)
and °F; the functions below convert once, at the edge, and the text parser
(:mod:`tankeco.units.parse`) uses the same factors.  No other module types a molar mass.

Molar masses are the IUPAC abridged standard atomic weights (IUPAC 2013: Meija et al.
2016, Pure Appl. Chem. 88:265): N 14.007, O 15.999, H 1.008, C 12.011, Na 22.990,
Cl 35.45, Ca 40.078 g/mol.
The ion/N factors are their ratios rounded to four significant figures, as instrument
makers print them (Hach technical note TE387: "multiply NO3-N by 4.427"):

========  ==========================  ======
ion       ratio                       factor
========  ==========================  ======
NO3       (N + 3 O) / N               4.427
NO2       (N + 2 O) / N               3.284
NH4       (N + 4 H) / N               1.288
NH3       (N + 3 H) / N               1.216
========  ==========================  ======

All functions are pure and vectorised: scalars or array-likes in, same shape out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatOrArray = np.float64 | NDArray[np.float64]

# --- molar masses, g/mol (IUPAC abridged standard atomic weights) -------------------
MOLAR_MASS_H_G_MOL = 1.008
MOLAR_MASS_C_G_MOL = 12.011
MOLAR_MASS_N_G_MOL = 14.007
MOLAR_MASS_O_G_MOL = 15.999
MOLAR_MASS_CA_G_MOL = 40.078
MOLAR_MASS_NA_G_MOL = 22.990
MOLAR_MASS_CL_G_MOL = 35.45
MOLAR_MASS_NH3_G_MOL = MOLAR_MASS_N_G_MOL + 3 * MOLAR_MASS_H_G_MOL
MOLAR_MASS_NH4_G_MOL = MOLAR_MASS_N_G_MOL + 4 * MOLAR_MASS_H_G_MOL
MOLAR_MASS_NO2_G_MOL = MOLAR_MASS_N_G_MOL + 2 * MOLAR_MASS_O_G_MOL
MOLAR_MASS_NO3_G_MOL = MOLAR_MASS_N_G_MOL + 3 * MOLAR_MASS_O_G_MOL
MOLAR_MASS_NH4CL_G_MOL = MOLAR_MASS_NH4_G_MOL + MOLAR_MASS_CL_G_MOL
MOLAR_MASS_CAO_G_MOL = MOLAR_MASS_CA_G_MOL + MOLAR_MASS_O_G_MOL
MOLAR_MASS_CACO3_G_MOL = MOLAR_MASS_CA_G_MOL + MOLAR_MASS_C_G_MOL + 3 * MOLAR_MASS_O_G_MOL
#: Baking soda, NaHCO3: 84.006 g/mol.
MOLAR_MASS_NAHCO3_G_MOL = (
    MOLAR_MASS_NA_G_MOL + MOLAR_MASS_H_G_MOL + MOLAR_MASS_C_G_MOL + 3 * MOLAR_MASS_O_G_MOL
)
#: Bacterial biomass as C5H7O2N (Hoover & Porges 1952, the formula Metcalf & Eddy use):
#: 113.116 g/mol.
MOLAR_MASS_C5H7O2N_G_MOL = (
    5 * MOLAR_MASS_C_G_MOL + 7 * MOLAR_MASS_H_G_MOL + 2 * MOLAR_MASS_O_G_MOL + MOLAR_MASS_N_G_MOL
)

# --- nitrogen basis: mg ion per mg N (the ratio to the printed 4 significant figures) --
NO3_PER_NO3_N = round(MOLAR_MASS_NO3_G_MOL / MOLAR_MASS_N_G_MOL, 3)  # 4.427
NO2_PER_NO2_N = round(MOLAR_MASS_NO2_G_MOL / MOLAR_MASS_N_G_MOL, 3)  # 3.284
NH4_PER_NH4_N = round(MOLAR_MASS_NH4_G_MOL / MOLAR_MASS_N_G_MOL, 3)  # 1.288
NH3_PER_NH3_N = round(MOLAR_MASS_NH3_G_MOL / MOLAR_MASS_N_G_MOL, 3)  # 1.216

# --- alkalinity ----------------------------------------------------------------------
#: mg/L as CaCO3 per meq/L: half the molar mass of CaCO3 (100.086 / 2), printed 50.04.
ALK_MG_CACO3_PER_MEQ = round(MOLAR_MASS_CACO3_G_MOL / 2.0, 2)  # 50.04
#: mg/L as CaCO3 per German degree of carbonate hardness. 1 dKH = 10 mg CaO/L
#: = 0.17833 mmol/L (the definition of the German degree); times M(CaCO3) = 17.848.
ALK_MG_CACO3_PER_DKH = round(10.0 / MOLAR_MASS_CAO_G_MOL * MOLAR_MASS_CACO3_G_MOL, 3)  # 17.848

# --- general hardness (calcium + magnesium, expressed as CaCO3) -----------------------
#: mg/L as CaCO3 per German degree of general hardness: the same German degree as dKH
#: (10 mg CaO/L), so the same 17.848.
GH_MG_CACO3_PER_DGH = ALK_MG_CACO3_PER_DKH
#: mg/L as CaCO3 per mmol/L of Ca + Mg: the whole molar mass of CaCO3 (a divalent ion per
#: mole), printed 100.09; per meq/L it is half that, :data:`ALK_MG_CACO3_PER_MEQ`.
GH_MG_CACO3_PER_MMOL = round(MOLAR_MASS_CACO3_G_MOL, 2)  # 100.09

# --- volume, mass --------------------------------------------------------------------
#: litres per US gallon (231 in³ exactly; NIST Handbook 44, Appendix C).
L_PER_US_GAL = 3.785411784
#: grams per avoirdupois ounce (NIST Handbook 44, Appendix C).
G_PER_OZ = 28.349523125

# --- temperature ---------------------------------------------------------------------
#: 0 °C in kelvin.
KELVIN_OFFSET = 273.15

#: Default linear temperature coefficient of electrical conductivity, 1/°C.
EC_ALPHA_PER_C = 0.02


def _f(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    """Return a numpy scalar for 0-d results, the array otherwise."""
    return x[()] if x.ndim == 0 else x


# --- nitrogen ------------------------------------------------------------------------
def no3_n_from_no3(no3_mg_l: ArrayLike) -> FloatOrArray:
    """Nitrate as N from nitrate as the ion: ``NO3-N = NO3 / 4.427`` (mg/L)."""
    return _out(_f(no3_mg_l) / NO3_PER_NO3_N)


def no3_from_no3_n(no3_n_mg_l: ArrayLike) -> FloatOrArray:
    """Nitrate as the ion from nitrate as N: ``NO3 = 4.427 * NO3-N`` (mg/L)."""
    return _out(_f(no3_n_mg_l) * NO3_PER_NO3_N)


def no2_n_from_no2(no2_mg_l: ArrayLike) -> FloatOrArray:
    """Nitrite as N from nitrite as the ion: ``NO2-N = NO2 / 3.284`` (mg/L)."""
    return _out(_f(no2_mg_l) / NO2_PER_NO2_N)


def no2_from_no2_n(no2_n_mg_l: ArrayLike) -> FloatOrArray:
    """Nitrite as the ion from nitrite as N: ``NO2 = 3.284 * NO2-N`` (mg/L)."""
    return _out(_f(no2_n_mg_l) * NO2_PER_NO2_N)


def nh4_n_from_nh4(nh4_mg_l: ArrayLike) -> FloatOrArray:
    """Ammonium as N from ammonium as the ion: ``NH4-N = NH4 / 1.288`` (mg/L).

    Kits that report "ammonia as NH4" mean total ammonia (NH3 + NH4+) expressed as NH4.
    """
    return _out(_f(nh4_mg_l) / NH4_PER_NH4_N)


def nh4_from_nh4_n(nh4_n_mg_l: ArrayLike) -> FloatOrArray:
    """Ammonium as the ion from ammonium as N: ``NH4 = 1.288 * NH4-N`` (mg/L)."""
    return _out(_f(nh4_n_mg_l) * NH4_PER_NH4_N)


def nh3_n_from_nh3(nh3_mg_l: ArrayLike) -> FloatOrArray:
    """Ammonia as N from ammonia as the molecule: ``NH3-N = NH3 / 1.216`` (mg/L).

    Kits that report "ammonia as NH3" usually mean total ammonia expressed as NH3; free-
    ammonia monitors (Seneye type) mean un-ionised NH3 only. The factor is the same.
    """
    return _out(_f(nh3_mg_l) / NH3_PER_NH3_N)


def nh3_from_nh3_n(nh3_n_mg_l: ArrayLike) -> FloatOrArray:
    """Ammonia as the molecule from ammonia as N: ``NH3 = 1.216 * NH3-N`` (mg/L)."""
    return _out(_f(nh3_n_mg_l) * NH3_PER_NH3_N)


# --- alkalinity ----------------------------------------------------------------------
def alk_mg_l_caco3_from_dkh(dkh: ArrayLike) -> FloatOrArray:
    """Alkalinity in mg/L as CaCO3 from German degrees: ``alk = 17.848 * dKH``."""
    return _out(_f(dkh) * ALK_MG_CACO3_PER_DKH)


def dkh_from_alk_mg_l_caco3(alk_mg_l_caco3: ArrayLike) -> FloatOrArray:
    """German degrees of carbonate hardness from mg/L as CaCO3: ``dKH = alk / 17.848``."""
    return _out(_f(alk_mg_l_caco3) / ALK_MG_CACO3_PER_DKH)


def alk_meq_l_from_mg_l_caco3(alk_mg_l_caco3: ArrayLike) -> FloatOrArray:
    """Alkalinity in meq/L from mg/L as CaCO3: ``meq = alk / 50.04``."""
    return _out(_f(alk_mg_l_caco3) / ALK_MG_CACO3_PER_MEQ)


def alk_mg_l_caco3_from_meq_l(alk_meq_l: ArrayLike) -> FloatOrArray:
    """Alkalinity in mg/L as CaCO3 from meq/L: ``alk = 50.04 * meq``."""
    return _out(_f(alk_meq_l) * ALK_MG_CACO3_PER_MEQ)


# --- temperature ---------------------------------------------------------------------
def temp_c_from_temp_f(temp_f: ArrayLike) -> FloatOrArray:
    """Degrees Celsius from degrees Fahrenheit: ``T_C = (T_F - 32) * 5 / 9``."""
    return _out((_f(temp_f) - 32.0) * (5.0 / 9.0))


def temp_f_from_temp_c(temp_c: ArrayLike) -> FloatOrArray:
    """Degrees Fahrenheit from degrees Celsius: ``T_F = T_C * 9 / 5 + 32``."""
    return _out(_f(temp_c) * (9.0 / 5.0) + 32.0)


def temp_k_from_temp_c(temp_c: ArrayLike) -> FloatOrArray:
    """Kelvin from degrees Celsius: ``T = T_C + 273.15``."""
    return _out(_f(temp_c) + KELVIN_OFFSET)


# --- conductivity --------------------------------------------------------------------
def ec25_from_ec(
    ec_us_cm: ArrayLike, temp_c: ArrayLike, alpha_per_c: ArrayLike = EC_ALPHA_PER_C
) -> FloatOrArray:
    """Electrical conductivity referred to 25 °C (linear temperature compensation).

    .. math:: EC_{25} = \\frac{EC_T}{1 + \\alpha (T - 25)}

    Parameters
    ----------
    ec_us_cm : array-like
        Conductivity measured at ``temp_c``, µS/cm (any unit; the result has the same).
    temp_c : array-like
        Water temperature at the measurement, °C.
    alpha_per_c : array-like, default 0.02
        Temperature coefficient, 1/°C. About 0.019-0.021 for natural fresh waters.

    Returns
    -------
    EC at 25 °C, same unit as ``ec_us_cm``.

    Notes
    -----
    Linear compensation as implemented by hobby and laboratory EC meters; the
    coefficient depends on the salts (about 0.019 /°C for KCl, 0.021 /°C for NaCl) and
    the linear form is accurate only within some 10 °C of 25 °C.

    References
    ----------
    Greisinger G 7500 manual §6.5.2 (2 %/K usual): ``EC25 = EC / (1 + 0.02 (T - 25))``.
    """
    return _out(_f(ec_us_cm) / (1.0 + _f(alpha_per_c) * (_f(temp_c) - 25.0)))
