"""Temperature factors for rate constants.

Model rates are given at a reference temperature (20 °C unless the parameter's name says
otherwise); these factors carry them to the water's temperature:
``rate(T) = rate(T_ref) * factor(T)``.

Two conventions are in use in the literature and in the parameter table:

* the "theta" (van 't Hoff-Arrhenius, Streeter-Phelps) form of sanitary engineering,
  ``theta ** (T - T_ref)`` (Metcalf & Eddy);
* the Arrhenius form with an activation energy, ``exp(Ea/R (1/T_ref - 1/T))``.

Near ``T_ref`` they agree when ``ln(theta) = Ea / (R T_ref^2)``
(:func:`theta_from_activation_energy`). All functions are pure and vectorised.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tankeco.units.molar import KELVIN_OFFSET

FloatOrArray = np.float64 | NDArray[np.float64]

#: Molar gas constant, J/(mol K) (CODATA 2018, exact).
GAS_CONSTANT_J_MOL_K = 8.314462618


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    return x[()] if x.ndim == 0 else x


def theta_factor(temp_c: ArrayLike, theta: ArrayLike, ref_temp_c: ArrayLike = 20.0) -> FloatOrArray:
    """Temperature factor of the "theta" form.

    .. math:: f(T) = \\theta^{\\,T - T_{ref}}

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.
    theta : array-like
        Temperature coefficient, dimensionless (e.g. 1.072 for ammonia oxidisers).
    ref_temp_c : array-like, default 20
        Temperature at which the rate is given, °C.

    Returns
    -------
    Multiplier for a rate given at ``ref_temp_c``; 1 at ``ref_temp_c``.

    References
    ----------
    Metcalf & Eddy (2014) Wastewater Engineering: Treatment and Resource Recovery, 5th
    ed. (temperature effects on reaction rate coefficients).
    """
    t = np.asarray(temp_c, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    ref = np.asarray(ref_temp_c, dtype=np.float64)
    return _out(np.power(th, t - ref))


def arrhenius_factor(
    temp_c: ArrayLike, activation_energy_j_mol: ArrayLike, ref_temp_c: ArrayLike = 20.0
) -> FloatOrArray:
    """Temperature factor of the Arrhenius form.

    .. math::

        f(T) = \\exp\\left[\\frac{E_a}{R}\\left(\\frac{1}{T_{ref}} - \\frac{1}{T}\\right)\\right]

    with absolute temperatures ``T = T_C + 273.15`` and R = 8.314462618 J/(mol K).

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.
    activation_energy_j_mol : array-like
        Activation energy, J/mol (e.g. 68e3 for ammonia oxidisers, 44e3 for nitrite
        oxidisers, Vannecke & Volcke 2015).
    ref_temp_c : array-like, default 20
        Temperature at which the rate is given, °C.

    Returns
    -------
    Multiplier for a rate given at ``ref_temp_c``; 1 at ``ref_temp_c``.

    References
    ----------
    Arrhenius, S. (1889) Z. Phys. Chem. 4:226-248.
    """
    t_k = np.asarray(temp_c, dtype=np.float64) + KELVIN_OFFSET
    ref_k = np.asarray(ref_temp_c, dtype=np.float64) + KELVIN_OFFSET
    ea = np.asarray(activation_energy_j_mol, dtype=np.float64)
    return _out(np.exp(ea / GAS_CONSTANT_J_MOL_K * (1.0 / ref_k - 1.0 / t_k)))


def theta_from_activation_energy(
    activation_energy_j_mol: ArrayLike, ref_temp_c: ArrayLike = 20.0
) -> FloatOrArray:
    """The theta whose factor has the same slope as the Arrhenius factor at ``ref_temp_c``.

    .. math:: \\theta = \\exp\\left(\\frac{E_a}{R\\,T_{ref}^2}\\right)

    Useful to compare parameters quoted in the two conventions (68 kJ/mol is
    theta ≈ 1.10 at 20 °C; 44 kJ/mol is theta ≈ 1.06).

    Parameters
    ----------
    activation_energy_j_mol : array-like
        Activation energy, J/mol.
    ref_temp_c : array-like, default 20
        Reference temperature, °C.

    Returns
    -------
    Equivalent theta, dimensionless.
    """
    ref_k = np.asarray(ref_temp_c, dtype=np.float64) + KELVIN_OFFSET
    ea = np.asarray(activation_energy_j_mol, dtype=np.float64)
    return _out(np.exp(ea / (GAS_CONSTANT_J_MOL_K * ref_k**2)))


def cardinal_temperature_factor(
    temp_c: ArrayLike, t_min_c: ArrayLike, t_opt_c: ArrayLike, t_max_c: ArrayLike
) -> FloatOrArray:
    """Growth-rate factor with an optimum and a decline: the cardinal temperature model
    with inflection (CTMI), 1 at the optimum and 0 at and beyond the two limits.

    .. math::

        \\phi(T) = \\frac{(T - T_{max})(T - T_{min})^2}
        {(T_{opt} - T_{min})\\left[(T_{opt} - T_{min})(T - T_{opt})
        - (T_{opt} - T_{max})(T_{opt} + T_{min} - 2T)\\right]}

    for :math:`T_{min} < T < T_{max}`, else 0.  Why not theta: an exponential has no
    optimum, so it makes nitrifiers ever faster up to a temperature that kills them.

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.
    t_min_c, t_opt_c, t_max_c : array-like
        Cardinal temperatures, °C, with ``t_min_c < t_opt_c < t_max_c``.

    Returns
    -------
    Factor in [0, 1]; divide by its value at the reference temperature to carry a rate
    given there to ``temp_c``.

    References
    ----------
    Rosso, L., Lobry, J. R. & Flandrois, J. P. (1993) An unexpected correlation between
    cardinal temperatures of microbial growth highlighted by a new model. J. Theor. Biol.
    162:447-463 (eq. 5).
    """
    t = np.asarray(temp_c, dtype=np.float64)
    lo = np.asarray(t_min_c, dtype=np.float64)
    opt = np.asarray(t_opt_c, dtype=np.float64)
    hi = np.asarray(t_max_c, dtype=np.float64)
    if np.any(lo >= opt) or np.any(opt >= hi):
        raise ValueError("cardinal temperatures must satisfy t_min < t_opt < t_max")
    num = (t - hi) * (t - lo) ** 2
    den = (opt - lo) * ((opt - lo) * (t - opt) - (opt - hi) * (opt + lo - 2.0 * t))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where((t > lo) & (t < hi), num / den, 0.0)
    return _out(np.clip(phi, 0.0, 1.0))
