"""What the bridge knows about each measured quantity: canonical unit, range, jump limit.

Nitrogen species carry their basis in the name (``no3_n`` is nitrate *as N*), following
docs/model.md, so a number in the store never needs its unit guessed.  Ranges are what water
in an aquarium can physically show, not comfort zones: their job is to catch broken
sensors and wrong units, not to alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from tankeco import reasons
from tankeco.reasons import Rejected


@dataclass(frozen=True)
class Quantity:
    """One measured quantity and its plausibility limits, in its canonical unit."""

    name: str
    unit: str
    low: float
    high: float
    #: Largest believable change per minute between two readings of one sensor.
    max_change_per_min: float


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity("temperature", "°C", 0.0, 45.0, 2.0),
        Quantity("ph", "pH", 0.0, 14.0, 1.0),
        Quantity("ec", "µS/cm", 0.0, 100_000.0, 5_000.0),
        Quantity("tds", "mg/L", 0.0, 60_000.0, 2_500.0),
        Quantity("tan_n", "mg/L TAN-N", 0.0, 100.0, 5.0),
        Quantity("nh3_n", "mg/L NH3-N (free)", 0.0, 10.0, 1.0),
        Quantity("no2_n", "mg/L NO2-N", 0.0, 50.0, 5.0),
        Quantity("no3_n", "mg/L NO3-N", 0.0, 500.0, 50.0),
        Quantity("do", "mg/L O2", 0.0, 25.0, 5.0),
    )
}

#: Names devices and people use for the same quantities.
ALIASES: dict[str, str] = {
    "temp": "temperature",
    "water_temperature": "temperature",
    "conductivity": "ec",
    "nitrate": "no3_n",
    "nitrite": "no2_n",
    "ammonia": "tan_n",
    "total_ammonia": "tan_n",
    "tan": "tan_n",
    "free_ammonia": "nh3_n",
    "nh3": "nh3_n",
    "oxygen": "do",
    "dissolved_oxygen": "do",
}


def lookup(name: object) -> Quantity:
    """The quantity a device calls ``name``, or Rejected(unknown_quantity)."""
    if not isinstance(name, str):
        raise Rejected(reasons.BAD_SCHEMA, f"quantity must be a string, got {name!r:.60}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in QUANTITIES:
        allowed = ", ".join(sorted(QUANTITIES))
        raise Rejected(reasons.UNKNOWN_QUANTITY, f"{name!r:.60} (known: {allowed})")
    return QUANTITIES[key]
