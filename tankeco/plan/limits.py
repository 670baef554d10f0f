"""The water-quality limits a schedule must keep, read in the units keepers use.

Every limit is held as the model holds it (nitrogen species as N, alkalinity as CaCO3);
text such as ``"40 ppm NO3"`` or ``"2.2 dKH"`` is converted once, here, by
:func:`tankeco.units.parse.parse_quantity`, the parser of scenario files, so a nitrogen
unit without its basis (``"40 ppm"``) is refused here as there.  Free ammonia is the
exception that keepers' kits and toxicity tables force on us: a plain number for
``--max-nh3`` is mg NH3/L (the EIFAC 0.02), as the option's name says; ``"0.016 mg/L
NH3-N"`` gives it as N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tankeco.errors import ScenarioError
from tankeco.scenario import thresholds as default_limits
from tankeco.units.molar import NH3_PER_NH3_N
from tankeco.units.parse import parse_quantity, split_number


@dataclass(frozen=True)
class WaterLimits:
    """Limits a schedule must keep at every moment of its run.

    Attributes
    ----------
    max_no3_n_mg_l : float
        Nitrate, mg N/L.
    max_nh3_n_mg_l : float
        Free ammonia, mg N/L.
    max_no2_n_mg_l : float
        Nitrite, mg N/L.
    min_alk_mg_l_caco3 : float
        Alkalinity, mg/L as CaCO3.
    min_ph : float
        pH.
    """

    max_no3_n_mg_l: float = default_limits.NO3_N_MG_L
    max_nh3_n_mg_l: float = default_limits.FREE_NH3_N_MG_L
    max_no2_n_mg_l: float = default_limits.NO2_N_MG_L
    min_alk_mg_l_caco3: float = default_limits.ALK_MIN_MG_L_CACO3
    min_ph: float = default_limits.PH_MIN

    def breaches(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Which limit each row of an ensemble summary breaks (bool columns per limit)."""
        return pd.DataFrame(
            {
                "no3": summary["no3_n_max_mg_l"] > self.max_no3_n_mg_l,
                "nh3": summary["nh3_max_mg_l"] > self.max_nh3_n_mg_l,
                "no2": summary["no2_n_max_mg_l"] > self.max_no2_n_mg_l,
                "alk": summary["alk_min_mg_l_caco3"] < self.min_alk_mg_l_caco3,
                "ph": summary["ph_min"] < self.min_ph,
                "failed": ~summary["ok"].astype(bool),
            }
        )

    def kept(self, summary: pd.DataFrame) -> np.ndarray:
        """True for each row that keeps every limit."""
        return ~self.breaches(summary).any(axis=1).to_numpy()


def _positive(flag: str, value: str, number: float) -> float:
    if not math.isfinite(number) or number <= 0:
        raise ScenarioError(flag, value, "allowed a number above 0")
    return number


def parse_no3_n(value: str, flag: str = "--max-no3-n") -> float:
    """Nitrate limit as N: '9', '9 mg/L N', '40 ppm NO3' (= 9.04 mg N/L)."""
    return _positive(flag, value, _quantity(flag, "max_no3_n_mg_l", value))


def parse_no2_n(value: str, flag: str = "--max-no2-n") -> float:
    """Nitrite limit as N: '1', '3.3 mg/L NO2'."""
    return _positive(flag, value, _quantity(flag, "max_no2_n_mg_l", value))


def parse_alk(value: str, flag: str = "--min-alk") -> float:
    """Alkalinity floor, mg/L CaCO3: '40', '2.2 dKH', '0.8 meq/L'."""
    number = _quantity(flag, "min_alk_mg_l_caco3", value)
    if not math.isfinite(number) or number < 0:
        raise ScenarioError(flag, value, "allowed 0 or more mg/L CaCO3")
    return number


def parse_nh3(value: str, flag: str = "--max-nh3") -> float:
    """Free-ammonia limit, returned as N.

    A plain number is mg NH3/L, as the option's name says (the EIFAC 0.02); text needs its
    basis like every nitrogen value: '0.02 ppm NH3' or '0.016 mg/L NH3-N'.  Total ammonia
    (NH4, TAN) is refused: free ammonia is a different quantity.
    """
    parts = split_number(value)
    if parts is not None and parts[1] == "":
        return _positive(flag, value, parts[0] / NH3_PER_NH3_N)
    return _positive(flag, value, _quantity(flag, "max_nh3_n_mg_l", value))


def parse_ph(value: str, flag: str = "--min-ph") -> float:
    """pH floor, a plain number from 4 to 10."""
    try:
        number = float(value)
    except ValueError:
        raise ScenarioError(flag, value, "allowed a pH from 4 to 10") from None
    if not 4.0 <= number <= 10.0:
        raise ScenarioError(flag, value, "allowed a pH from 4 to 10")
    return number


def _quantity(flag: str, key: str, value: str) -> float:
    """:func:`parse_quantity` with the error naming the command-line flag."""
    try:
        return parse_quantity(key, value)
    except ScenarioError as exc:
        raise ScenarioError(flag, value, exc.allowed) from None
