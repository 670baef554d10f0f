"""Unit and basis conversion, done once at the edge into each quantity's canonical unit.

Keepers' kits report ions (mg/L NO3), models work "as N"; probes report °F or mS/cm.  The
factors below are the molar-mass ratios (IUPAC 2013) (NO3 = 4.427 × NO3-N, NO2 = 3.284 ×
NO2-N, NH4 = 1.288 × NH4-N, NH3 = 1.216 × NH3-N).  A bare "mg/L" for a nitrogen species is
refused rather than guessed: the two bases differ by a factor of up to 4.4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from tankeco import reasons
from tankeco.reasons import Rejected
from tankeco.units.quantities import Quantity

NO3_PER_N = 4.427
NO2_PER_N = 3.284
NH4_PER_N = 1.288
NH3_PER_N = 1.216

Converter = Callable[[float], float]


def _scale(factor: float) -> Converter:
    return lambda v: v * factor


_IDENTITY: Converter = _scale(1.0)

#: quantity name → normalised unit string → function to canonical.
_UNITS: dict[str, dict[str, Converter]] = {
    "temperature": {
        "°C": _IDENTITY,
        "C": _IDENTITY,
        "degC": _IDENTITY,
        "celsius": _IDENTITY,
        "°F": lambda f: (f - 32.0) * 5.0 / 9.0,
        "F": lambda f: (f - 32.0) * 5.0 / 9.0,
        "degF": lambda f: (f - 32.0) * 5.0 / 9.0,
        "fahrenheit": lambda f: (f - 32.0) * 5.0 / 9.0,
        "K": lambda k: k - 273.15,
    },
    "ph": {"pH": _IDENTITY, "": _IDENTITY},
    "ec": {
        "µS/cm": _IDENTITY,
        "mS/cm": _scale(1000.0),
        "S/m": _scale(10_000.0),
        "mS/m": _scale(10.0),
        "µS/m": _scale(0.01),
    },
    "tds": {"mg/L": _IDENTITY, "g/L": _scale(1000.0), "ppt": _scale(1000.0)},
    "no3_n": {
        "mg/L NO3-N": _IDENTITY,
        "mg/L N": _IDENTITY,
        "mg/L NO3": _scale(1.0 / NO3_PER_N),
    },
    "no2_n": {
        "mg/L NO2-N": _IDENTITY,
        "mg/L N": _IDENTITY,
        "mg/L NO2": _scale(1.0 / NO2_PER_N),
    },
    "tan_n": {
        "mg/L TAN-N": _IDENTITY,
        "mg/L TAN": _IDENTITY,
        "mg/L N": _IDENTITY,
        "mg/L NH4-N": _IDENTITY,
        "mg/L NH3-N": _IDENTITY,
        "mg/L NH4": _scale(1.0 / NH4_PER_N),
        "mg/L NH3": _scale(1.0 / NH3_PER_N),
    },
    "nh3_n": {
        "mg/L NH3-N (free)": _IDENTITY,
        "mg/L NH3-N": _IDENTITY,
        "mg/L N": _IDENTITY,
        "mg/L NH3": _scale(1.0 / NH3_PER_N),
    },
    "do": {"mg/L O2": _IDENTITY, "mg/L": _IDENTITY},
}

_SPACES = re.compile(r"\s+")


def normalise_unit(unit: str) -> str:
    """Spell a unit one way: µ for micro, mg/L for ppm, 'mg/L NO3-N' for 'ppm NO3 as N'."""
    u = _SPACES.sub(" ", unit.strip())
    u = u.replace("\u03bc", "\u00b5")  # Greek mu → micro sign
    u = re.sub(r"^u(S)", r"µ\1", u)
    u = u.replace("º", "°").replace("˚", "°")
    u = re.sub(r"(?i)^(ppm|mg/l|mg l-1|mg\*l-1)(?=$| )", "mg/L", u)
    m = re.match(r"^mg/L (?:as )?(.+?)(?: \(free\))?$", u)
    if m:
        basis = m.group(1).replace(" ", "").upper()
        basis = {"N-NO3": "NO3-N", "NO3N": "NO3-N", "NO3ASN": "NO3-N", "N-NO2": "NO2-N"}.get(
            basis, basis
        )
        basis = {"NO2N": "NO2-N", "NH4N": "NH4-N", "NH3N": "NH3-N", "TANN": "TAN-N"}.get(
            basis, basis
        )
        basis = basis.replace("ASN", "-N")
        u = f"mg/L {basis}" + (" (free)" if unit.strip().endswith("(free)") else "")
    return u


def to_canonical(quantity: Quantity, value: float, unit: str | None) -> float:
    """``value`` in ``unit`` converted to the quantity's canonical unit, or Rejected."""
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        raise Rejected(reasons.BAD_SCHEMA, f"unit must be a string, got {unit!r:.60}")
    table = _UNITS[quantity.name]
    norm = normalise_unit(unit)
    if norm.endswith(" (free)"):
        if quantity.name != "nh3_n":
            raise Rejected(
                reasons.UNKNOWN_UNIT,
                f"{unit!r:.40} is free ammonia but the quantity is {quantity.name}; free and"
                " total ammonia are different quantities (use nh3_n for free)",
            )
        norm = norm.removesuffix(" (free)")
    conv = table.get(norm) or table.get(unit)
    if conv is None:
        hint = ""
        if quantity.name in ("no3_n", "no2_n", "tan_n", "nh3_n") and norm in ("mg/L", ""):
            hint = "; say the basis, e.g. 'mg/L NO3' (as ion) or 'mg/L NO3-N' (as N)"
        allowed = ", ".join(k for k in table if k)
        raise Rejected(
            reasons.UNKNOWN_UNIT,
            f"{unit!r:.40} for {quantity.name} (known: {allowed}){hint}",
        )
    return conv(value)


def ammonia_free_fraction(ph: float, temp_c: float) -> float:
    """Fraction of total ammonia present as free NH3 (Emerson et al. 1975).

    pKa = 0.09018 + 2729.92 / T[K]; fraction = 1 / (1 + 10^(pKa − pH)).  Free and total
    ammonia are kept as separate quantities in the store; this converts between them when
    pH and temperature are known, e.g. to compare a free-NH3 monitor with a total-ammonia kit.
    """
    pka = 0.09018 + 2729.92 / (temp_c + 273.15)
    return 1.0 / (1.0 + math.pow(10.0, pka - ph))


def total_ammonia_n_from_free(nh3_n_mg_l: float, ph: float, temp_c: float) -> float:
    """Total ammonia nitrogen (mg/L TAN-N) from free ammonia as N at a given pH and °C."""
    return nh3_n_mg_l / ammonia_free_fraction(ph, temp_c)
