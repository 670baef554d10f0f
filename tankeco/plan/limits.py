"""The water-quality limits a schedule must keep, read in the units keepers use.

Every limit is held as the model holds it (nitrogen species as N, alkalinity as CaCO3);
text such as ``"40 ppm NO3"`` or ``"2.2 dKH"`` is converted once, here, by
:func:`tankeco.units.parse.parse_quantity`.  Free ammonia is the exception that keepers' kits
and toxicity tables force on us: a plain number for ``--max-nh3`` is mg NH3/L (the EIFAC
0.02), as the option's name says; ``"0.016 mg/L NH3-N"`` gives it as N.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tankeco.errors import ScenarioError
from tankeco.scenario import thresholds as default_limits
from tankeco.units import parse as units


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


#: a bare number, optionally with 'mg/L' or 'ppm' and no basis
_PLAIN = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?:mg\s*/\s*l|ppm)?\s*$",
    re.IGNORECASE,
)


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
    """Free-ammonia limit, returned as N: a plain number, 'mg/L' or 'ppm' is mg NH3/L."""
    plain = _PLAIN.match(value)
    if plain is not None:
        return _positive(flag, value, float(plain.group(1)) / units.NH3_PER_N)
    text = value.lower().replace(" ", "")
    if "nh4" in text or "tan" in text:
        raise ScenarioError(
            flag,
            value,
            "a free-ammonia limit is NH3, not total ammonia; allowed: mg/L NH3 (plain "
            "number), mg/L NH3-N, ppm NH3",
        )
    return _positive(flag, value, _quantity(flag, "max_nh3_tan_mg_l", value))


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
    """``units.parse_quantity`` with the error naming the command-line flag."""
    try:
        return units.parse_quantity(key, value)
    except ScenarioError as exc:
        raise ScenarioError(flag, value, exc.allowed) from None
