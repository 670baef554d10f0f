"""Dissolved-oxygen saturation (solubility in equilibrium with moist air).

Benson & Krause (1984), in the form adopted by APHA Standard Methods 4500-O and by the
USGS (Office of Water Quality Technical Memorandum 2011.03, which made these equations
the basis of the USGS DOTABLES). Pure and vectorised.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tankeco.units.molar import KELVIN_OFFSET

FloatOrArray = np.float64 | NDArray[np.float64]

#: One standard atmosphere, kPa.
STANDARD_ATMOSPHERE_KPA = 101.325


def o2_saturation_mg_l(
    temp_c: ArrayLike,
    pressure_kpa: ArrayLike = STANDARD_ATMOSPHERE_KPA,
    salinity_psu: ArrayLike = 0.0,
) -> FloatOrArray:
    """Oxygen concentration of water in equilibrium with water-saturated air, mg O2/L.

    With ``T`` in kelvin (``T_C + 273.15``) and ``t = T_C``:

    Solubility at 1 atm total pressure (Benson & Krause 1984; APHA 4500-O):

    .. math::

        \\ln C^*_0 = -139.34411 + \\frac{1.575701\\times10^5}{T}
                     - \\frac{6.642308\\times10^7}{T^2}
                     + \\frac{1.243800\\times10^{10}}{T^3}
                     - \\frac{8.621949\\times10^{11}}{T^4}

    Salinity factor (S in PSU; ``S = 0`` for fresh water):

    .. math::

        C^* = C^*_0 \\exp\\left[-S\\left(0.017674 - \\frac{10.754}{T}
              + \\frac{2140.7}{T^2}\\right)\\right]

    Pressure correction (P total barometric pressure in atm; water-vapour pressure
    ``P_wv`` in atm; ``theta`` from the second virial coefficient of oxygen):

    .. math::

        C_p = C^* P \\frac{(1 - P_{wv}/P)(1 - \\theta P)}{(1 - P_{wv})(1 - \\theta)}

        \\ln P_{wv} = 11.8571 - \\frac{3840.70}{T} - \\frac{216961}{T^2}

        \\theta = 0.000975 - 1.426\\times10^{-5}\\,t + 6.436\\times10^{-8}\\,t^2

    Valid 0-40 °C, 0-40 PSU, 0.5-1.1 atm. The result is clipped at 0 when ``P`` does
    not exceed the vapour pressure (the water would boil).

    Parameters
    ----------
    temp_c : array-like
        Water temperature, °C.
    pressure_kpa : array-like, default 101.325
        Barometric (total) pressure at the water surface, kPa - the local station
        pressure, not the sea-level-corrected value of weather reports.
    salinity_psu : array-like, default 0
        Salinity, PSU (about g/kg). Fresh-water aquaria: 0-0.5.

    Returns
    -------
    Saturation concentration, mg O2/L. 9.09 mg/L at 20 °C and 8.26 mg/L at 25 °C,
    fresh water, 1 atm.

    References
    ----------
    Benson, B.B., Krause, D. (1984) The concentration and isotopic fractionation of
    oxygen dissolved in freshwater and seawater in equilibrium with the atmosphere.
    Limnol. Oceanogr. 29:620-632.

    APHA, AWWA, WEF. Standard Methods for the Examination of Water and Wastewater,
    method 4500-O (oxygen solubility table and equations).

    USGS Office of Water Quality (2011) Change to solubility equations for oxygen in
    water. Technical Memorandum 2011.03.
    """
    t_c = np.asarray(temp_c, dtype=np.float64)
    t_k = t_c + KELVIN_OFFSET
    s = np.asarray(salinity_psu, dtype=np.float64)
    p_atm = np.asarray(pressure_kpa, dtype=np.float64) / STANDARD_ATMOSPHERE_KPA

    ln_c0 = (
        -139.34411
        + 1.575701e5 / t_k
        - 6.642308e7 / t_k**2
        + 1.243800e10 / t_k**3
        - 8.621949e11 / t_k**4
    )
    ln_fs = -s * (0.017674 - 10.754 / t_k + 2140.7 / t_k**2)
    c_star = np.exp(ln_c0 + ln_fs)

    p_wv = np.exp(11.8571 - 3840.70 / t_k - 216961.0 / t_k**2)
    theta = 0.000975 - 1.426e-5 * t_c + 6.436e-8 * t_c**2
    pressure_factor = (p_atm - p_wv) * (1.0 - theta * p_atm) / ((1.0 - p_wv) * (1.0 - theta))
    c_p = np.maximum(c_star * pressure_factor, 0.0)
    return c_p[()] if c_p.ndim == 0 else c_p
