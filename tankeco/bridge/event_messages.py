"""Things done to a tank — feedings, water changes, dosing — parsed and checked.

They explain jumps in the readings (a 30 % water change drops nitrate by about 30 %), so
their amounts are kept with a unit that is checked against the kind of event.
"""

from __future__ import annotations

import math

from tankeco import reasons
from tankeco.reasons import Rejected
from tankeco.store import Event
from tankeco.units.parse import split_number

#: Allowed units per event kind, with the largest believable amount in that unit.
EVENT_UNITS: dict[str, dict[str, float]] = {
    "feeding": {"g": 1000.0, "mg": 1_000_000.0, "pinch": 100.0},
    "water_change": {"%": 100.0, "L": 10_000.0},
    "dosing": {"mL": 10_000.0, "drops": 1000.0, "g": 1000.0},
}
ALIASES = {
    "water-change": "water_change",
    "wc": "water_change",
    "feed": "feeding",
    "dose": "dosing",
}


def normalise_kind(kind: object) -> str:
    if not isinstance(kind, str):
        raise Rejected(reasons.BAD_SCHEMA, f"event kind must be a string, got {kind!r:.40}")
    k = ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if k not in EVENT_UNITS:
        raise Rejected(
            reasons.BAD_SCHEMA, f"event kind {kind!r:.40} (known: {', '.join(EVENT_UNITS)})"
        )
    return k


def parse_amount(text: str) -> tuple[float, str]:
    """``"30%"`` → (30.0, "%"), ``"2g"``/``"2 g"`` → (2.0, "g")."""
    parts = split_number(text)
    if parts is None or not parts[1]:
        raise Rejected(
            reasons.BAD_SCHEMA, f"amount {text!r:.40}: write a number and a unit, e.g. 30% or 2g"
        )
    number, unit = parts
    unit = {"l": "L", "ml": "mL", "G": "g", "MG": "mg", "drop": "drops"}.get(unit, unit)
    return number, unit


def make_event(
    *,
    ts_ms: int,
    site: str,
    tank: str,
    kind: object,
    amount: object,
    unit: object,
    note: str = "",
    source: str = "",
) -> Event:
    """A checked event, or Rejected with what was wrong and what is allowed."""
    k = normalise_kind(kind)
    if not isinstance(unit, str) or unit not in EVENT_UNITS[k]:
        allowed = ", ".join(EVENT_UNITS[k])
        raise Rejected(reasons.UNKNOWN_UNIT, f"{k} amount unit {unit!r:.20} (allowed: {allowed})")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        raise Rejected(reasons.NOT_A_NUMBER, f"{k} amount {amount!r:.30}")
    high = EVENT_UNITS[k][unit]
    if not 0 < amount <= high:
        raise Rejected(
            reasons.OUT_OF_RANGE, f"{k} of {amount:g} {unit} (allowed: above 0, at most {high:g})"
        )
    return Event(ts_ms, site, tank, k, float(amount), unit, note, source)
