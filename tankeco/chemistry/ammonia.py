"""Ammonia / ammonium and nitrite / nitrous acid speciation in fresh water.

Total ammonia nitrogen (TAN, mg N/L) is NH3 + NH4+; only the un-ionised NH3 crosses gills
and inhibits nitrifiers at high levels, and its share rises about tenfold per pH unit.
Two published parameterisations are provided:

* Emerson et al. (1975) - the fit used by toxicologists and by the US EPA ammonia criteria
  (:func:`pka_ammonium`, :func:`nh3_fraction`, :func:`free_ammonia_n_mg_l`);
* Anthonisen et al. (1976) - the form in which the nitrification-inhibition thresholds
  (free ammonia, free nitrous acid) were published
  (:func:`anthonisen_free_ammonia_mg_l`, :func:`free_nitrous_acid_mg_l`). Use these when
  comparing with those thresholds.

The two give pKa within 0.01 of each other between 0 and 40 °C. Activity corrections
are neglected (fresh water, ionic strength below about 0.01 M). All functions are pure and
vectorised.

References
----------
Emerson, K., Russo, R.C., Lund, R.E., Thurston, R.V. (1975) Aqueous ammonia equilibrium
calculations: effect of pH and temperature. J. Fish. Res. Board Can. 32:2379-2383.

Anthonisen, A.C., Loehr, R.C., Prakasam, T.B.S., Srinath, E.G. (1976) Inhibition of
nitrification by ammonia and nitrous acid. J. Water Pollut. Control Fed. 48:835-852.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tankeco.units.molar import KELVIN_OFFSET

FloatOrArray = np.float64 | NDArray[np.float64]

#: Anthonisen et al. (1976) write absolute temperature as 273 + T.
_ANTHONISEN_KELVIN_OFFSET = 273.0


def _f(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    return x[()] if x.ndim == 0 else x


def pka_ammonium(temp_c: ArrayLike) -> FloatOrArray:
    """Acid dissociation constant of NH4+ (pKa) in fresh water, Emerson et al. (1975).

    .. math:: pK_a = 0.09018 + \\frac{2729.92}{T}, \\qquad T = T_C + 273.15\\ \\mathrm{K}

    Valid 0-50 °C, zero ionic strength. pKa is 9.246 at 25 °C.

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    pKa, dimensionless.

    Notes
    -----
    Emerson et al.'s printed percentage table is reproduced to all its digits only when
    the equation is evaluated with ``T = T_C + 273.2``; with 273.15 the pKa is 0.0015
    higher and the NH3 fraction 0.3 % (relative) lower - far below the error of a pH
    reading. This module uses 273.15 throughout.

    References
    ----------
    Emerson et al. (1975) J. Fish. Res. Board Can. 32:2379-2383.
    """
    t_k = _f(temp_c) + KELVIN_OFFSET
    return _out(0.09018 + 2729.92 / t_k)


def nh3_fraction(ph: ArrayLike, temp_c: ArrayLike) -> FloatOrArray:
    """Fraction of total ammonia present as un-ionised NH3 (Emerson et al. 1975).

    .. math:: f_{NH_3} = \\frac{1}{1 + 10^{\\,pK_a(T) - pH}}

    Parameters
    ----------
    ph : array-like
        pH (NBS/activity scale as read by a glass electrode).
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    Fraction in [0, 1], dimensionless.

    References
    ----------
    Emerson et al. (1975) J. Fish. Res. Board Can. 32:2379-2383.
    """
    exponent = _f(pka_ammonium(temp_c)) - _f(ph)
    # The exponent is clipped so that absurd pH never overflows 10**x (the result is
    # already exactly 0 or 1 in double precision long before the clip).
    exponent = np.clip(exponent, -300.0, 300.0)
    return _out(1.0 / (1.0 + np.power(10.0, exponent)))


def free_ammonia_n_mg_l(tan_mg_l: ArrayLike, ph: ArrayLike, temp_c: ArrayLike) -> FloatOrArray:
    """Un-ionised ammonia, as N (Emerson et al. 1975).

    .. math:: NH_3\\text{-}N = TAN \\cdot f_{NH_3}(pH, T)

    Multiply by 1.216 (:data:`tankeco.units.molar.NH3_PER_NH3_N`) for mg NH3/L, the
    unit of free-ammonia monitors and of most toxicity thresholds.

    Parameters
    ----------
    tan_mg_l : array-like
        Total ammonia nitrogen (NH3-N + NH4-N), mg N/L.
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    Free ammonia, mg N/L.

    References
    ----------
    Emerson et al. (1975) J. Fish. Res. Board Can. 32:2379-2383.
    """
    return _out(_f(tan_mg_l) * _f(nh3_fraction(ph, temp_c)))


def anthonisen_free_ammonia_mg_l(
    tan_mg_l: ArrayLike, ph: ArrayLike, temp_c: ArrayLike
) -> FloatOrArray:
    """Free ammonia as mg NH3/L in the form of Anthonisen et al. (1976).

    .. math::

        FA = \\frac{17}{14}\\,\\frac{TAN \\cdot 10^{pH}}{\\exp\\left(\\frac{6344}{273 + T_C}\\right)
        + 10^{pH}}

    where ``exp(6344 / (273 + T)) = K_b / K_w = 1 / K_a``. Evaluated as
    ``17/14 * TAN / (1 + exp(6344/(273+T)) * 10**-pH)``, which is algebraically the same
    and cannot overflow. Anthonisen et al. report inhibition of ammonia oxidisers from
    10-150 mg NH3/L and of nitrite oxidisers from 0.1-1.0 mg NH3/L on this scale.

    Parameters
    ----------
    tan_mg_l : array-like
        Total ammonia nitrogen, mg N/L.
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    Free ammonia, mg NH3/L (note: as NH3, not as N).

    References
    ----------
    Anthonisen et al. (1976) J. Water Pollut. Control Fed. 48:835-852.
    """
    t_abs = _f(temp_c) + _ANTHONISEN_KELVIN_OFFSET
    log10_inv_ka = 6344.0 / t_abs / np.log(10.0)
    exponent = np.clip(log10_inv_ka - _f(ph), -300.0, 300.0)
    return _out((17.0 / 14.0) * _f(tan_mg_l) / (1.0 + np.power(10.0, exponent)))


def free_nitrous_acid_mg_l(no2_n_mg_l: ArrayLike, ph: ArrayLike, temp_c: ArrayLike) -> FloatOrArray:
    """Free nitrous acid as mg HNO2/L in the form of Anthonisen et al. (1976).

    .. math::

        FNA = \\frac{46}{14}\\,\\frac{NO_2\\text{-}N}{K_a\\,10^{pH}}, \\qquad
        K_a = \\exp\\left(\\frac{-2300}{273 + T_C}\\right)

    (pKa of HNO2 = 3.35 at 25 °C). This is the published form: it takes the nitrite
    ion as the whole of the nitrite, so it is exact to better than 0.1 % above pH 6.4,
    overestimates by 7 % at pH 4.5 and exceeds the total nitrite below pH 3.35.
    Anthonisen et al. report inhibition of nitrite oxidisers from about 0.2 mg HNO2/L
    (other sources: 0.02-2.8).

    Parameters
    ----------
    no2_n_mg_l : array-like
        Total nitrite (NO2- + HNO2) as N, mg N/L.
    ph : array-like
        pH.
    temp_c : array-like
        Water temperature, °C.

    Returns
    -------
    Free nitrous acid, mg HNO2/L.

    References
    ----------
    Anthonisen et al. (1976) J. Water Pollut. Control Fed. 48:835-852.
    """
    t_abs = _f(temp_c) + _ANTHONISEN_KELVIN_OFFSET
    log10_ka = -2300.0 / t_abs / np.log(10.0)
    exponent = np.clip(-log10_ka - _f(ph), -300.0, 300.0)
    return _out((46.0 / 14.0) * _f(no2_n_mg_l) * np.power(10.0, exponent))
