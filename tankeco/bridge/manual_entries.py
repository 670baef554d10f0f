"""Manual entries (test-kit readings a keeper logs): checked, converted, off-card flagged.

A colour card has steps; a keeper who writes down "24" for nitrate on a card that jumps
from 20 to 40 is interpolating, and that is worth knowing.  Such entries are kept exactly
as entered and flagged ``off_card`` — never rounded to the nearest step — so the
comparison with the model can weigh them accordingly.
"""

from __future__ import annotations

from tankeco import reasons
from tankeco.bridge.validate import check_range
from tankeco.reasons import Rejected
from tankeco.store import ManualEntry
from tankeco.units.kits import is_on_card, kit_for
from tankeco.units.quantities import lookup, to_canonical


def make_manual_entry(
    *,
    ts_ms: int,
    site: str,
    tank: str,
    quantity: str,
    value: float,
    unit: str | None,
    kit: str = "",
    note: str = "",
    source: str = "manual",
) -> ManualEntry:
    """A checked manual entry: canonical value, entered value kept, off-card flagged.

    Without a unit, the kit's card unit is assumed (that is what the keeper read).
    Raises Rejected for an unknown quantity/unit/kit or a value outside the physical range.
    """
    q = lookup(quantity)
    card = kit_for(kit, q.name) if kit else None
    if unit is None or unit == "":
        if card is None and q.name != "ph":
            raise Rejected(reasons.UNKNOWN_UNIT, f"give the unit of {quantity} (e.g. {q.unit})")
        unit = card.unit if card else "pH"
    canonical = to_canonical(q, float(value), unit)
    check_range(q, canonical)
    return ManualEntry(
        ts_ms=ts_ms,
        site=site,
        tank=tank,
        quantity=q.name,
        value=canonical,
        unit=q.unit,
        value_entered=float(value),
        unit_entered=unit,
        kit=card.name if card else "",
        off_card=bool(card) and not is_on_card(card, canonical),  # type: ignore[arg-type]
        note=note,
        source=source,
    )
