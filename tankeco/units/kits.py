"""Test kits read by eye: their colour cards, in the units printed on them.

A colour card has steps; a keeper who writes down "24" for nitrate on a card that jumps
from 20 to 40 is interpolating, and that is worth knowing.  Such entries are kept exactly
as entered and flagged ``off_card`` — never rounded to the nearest step — so the
comparison with the model can weigh them accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass

from tankeco import reasons
from tankeco.reasons import Rejected
from tankeco.units.quantities import lookup, to_canonical


@dataclass(frozen=True)
class Kit:
    """One colour card (or drop count): the unit printed on it and its steps, in that unit.

    ``drops``: a titration read by counting drops until the colour turns (KH, GH), where
    each step is one drop.  A reading of N means the colour had not turned after N - 1
    drops and had after N, so the value lies between those two steps, not halfway around
    N as on a colour card (:func:`tankeco.compare.align.kit_interval`).
    """

    name: str
    quantity: str
    unit: str
    steps: tuple[float, ...]
    drops: bool = False


#: API Freshwater Master Test Kit colour cards, steps as printed on the cards (Mars
#: Fishcare).  The ammonia card reads total ammonia expressed as NH3; nitrite as NO2;
#: nitrate as NO3.  The pH card is the union of the standard (6.0–7.6) and high-range
#: (7.4–8.8) tubes.  The API GH & KH kit counts drops into a 5 mL sample until the colour
#: turns, one drop = 1 dKH or 1 dGH (17.9 mg/L as CaCO3); 20 drops (357 mg/L) is past any
#: freshwater tank.
KITS: dict[tuple[str, str], Kit] = {
    (k.name, k.quantity): k
    for k in (
        Kit("api", "no3_n", "mg/L NO3", (0, 5, 10, 20, 40, 80, 160)),
        Kit("api", "no2_n", "mg/L NO2", (0, 0.25, 0.5, 1, 2, 5)),
        Kit("api", "tan_n", "mg/L NH3", (0, 0.25, 0.5, 1, 2, 4, 8)),
        Kit(
            "api",
            "ph",
            "pH",
            (6.0, 6.4, 6.6, 6.8, 7.0, 7.2, 7.4, 7.6, 7.8, 8.0, 8.2, 8.4, 8.8),
        ),
        Kit("api", "alk", "dKH", tuple(float(n) for n in range(21)), drops=True),
        Kit("api", "gh", "dGH", tuple(float(n) for n in range(21)), drops=True),
    )
}

#: Relative tolerance when matching a value entered in another unit to a card step.
_STEP_RTOL = 0.005


def kit_for(kit: str, quantity: str) -> Kit:
    """The card of ``kit`` for ``quantity``, or Rejected naming what exists."""
    found = KITS.get((kit.strip().lower(), quantity))
    if found is None:
        known = ", ".join(sorted(f"{k}/{q}" for k, q in KITS))
        raise Rejected(
            reasons.BAD_SCHEMA, f"no colour card for kit {kit!r} and {quantity} ({known})"
        )
    return found


def is_on_card(kit: Kit, value_canonical: float) -> bool:
    """True if the value is one of the card's steps (compared in canonical units)."""
    q = lookup(kit.quantity)
    for step in kit.steps:
        step_c = to_canonical(q, float(step), kit.unit)
        if abs(value_canonical - step_c) <= max(1e-9, _STEP_RTOL * abs(step_c)):
            return True
    return False
