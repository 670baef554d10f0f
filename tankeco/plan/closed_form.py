"""The periodic steady state of a substance under regular partial water changes.

A substance made in the tank at a constant rate ``P`` (mg/d; nitrate from nitrification)
and diluted by changing a fraction ``f`` of the free water column ``V_col`` every ``T``
days with tap water at ``C_tap`` settles into a saw-tooth.  Production spreads through all
the water, column and bed pores together (``V_tot``), while a change draws only on the
column.  Balancing what one period makes against what one change removes:

.. math::

    C_{before} = C_{tap} + \\frac{P T}{f V_{col}}, \\qquad
    C_{after} = C_{before} - \\frac{P T}{V_{tot}}

With no pore water (``V_tot = V_col = V``) this is the textbook form
``C_after = C_tap + (1 - f) P T / (f V)``, ``C_before = C_after + P T / V``.  A substance
used up instead (alkalinity, consumed by nitrification) has a negative ``P``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def periodic_steady_state(
    production_mg_d: ArrayLike,
    fraction: ArrayLike,
    interval_d: ArrayLike,
    column_volume_l: float,
    total_volume_l: float,
    tap_mg_l: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Concentrations just before and just after a change at the periodic steady state.

    Parameters
    ----------
    production_mg_d : array-like
        Net production in the whole tank, mg/d (negative for consumption).
    fraction : array-like
        Share of the water column changed each time, 0 < f <= 1.
    interval_d : array-like
        Days between changes.
    column_volume_l : float
        Free water column, L (what a change draws on).
    total_volume_l : float
        Column plus pore water of the bed, L (what production spreads through).
    tap_mg_l : float
        Concentration in the tap water, mg/L.

    Returns
    -------
    before_mg_l, after_mg_l : ndarray
        Concentration just before and just after each change, mg/L.

    References
    ----------
    Mass balance over one period at steady state (the change removes what one period
    made); cf. the dilution rule of recirculating aquaculture, Timmons & Ebeling (2010)
    Recirculating Aquaculture, 2nd ed., ch. 2 (water exchange and nitrate).
    """
    p = np.asarray(production_mg_d, dtype=float)
    f = np.asarray(fraction, dtype=float)
    t = np.asarray(interval_d, dtype=float)
    before = tap_mg_l + p * t / (f * column_volume_l)
    after = before - p * t / total_volume_l
    return before, after


def water_per_month_l(
    fraction: ArrayLike, interval_d: ArrayLike, column_volume_l: float
) -> np.ndarray:
    """Tap water a schedule uses in 30 days, L (evaporation top-ups not counted)."""
    return np.asarray(fraction, dtype=float) * column_volume_l * 30.0 / np.asarray(interval_d)
