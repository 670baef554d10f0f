"""A tank's history out of the store, as the tables :mod:`tankeco.compare` works on.

This is the I/O edge between the readings store and the pure comparison code: it reads
readings, manual (test-kit) entries and logged events for one tank, turns the colour
cards of the known kits into canonical-unit steps, and fixes the model's day 0 at local
midnight in the keeper's time zone.  ``tankeco compare`` and the dashboard both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from tankeco.compare.align import Clock
from tankeco.compare.replay import Action
from tankeco.errors import UserError
from tankeco.store import Store


@dataclass(frozen=True)
class History:
    """Everything measured and done to one tank over a stretch of time."""

    readings: pd.DataFrame  # ts_ms, sensor, quantity, value, unit, quality
    manual: pd.DataFrame  # ts_ms, quantity, value, kit, off_card
    events: pd.DataFrame  # ts_ms, kind, amount, unit, note


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (None: the machine's local zone), or a one-line error."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"--tz {name!r}: unknown time zone; use e.g. Europe/Berlin or UTC"
        ) from None


def local_midnight_ms(ts_ms: int, tz: ZoneInfo | None) -> int:
    """UTC epoch ms of midnight (in ``tz``; None: local) on the day that holds ``ts_ms``."""
    dt = datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(tz)
    midnight = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def clock_for(since_ms: int, tz: ZoneInfo | None) -> Clock:
    return Clock(local_midnight_ms(since_ms, tz))


def weekday_name(ts_ms: int, tz: ZoneInfo | None) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(tz).strftime("%A")


@cache
def kit_steps() -> dict[tuple[str, str], tuple[float, ...]]:
    """Colour-card steps of every known kit, in canonical units (for kit resolution)."""
    from tankeco.units.kits import KITS
    from tankeco.units.quantities import lookup, to_canonical

    out = {}
    for (name, quantity), kit in KITS.items():
        q = lookup(quantity)
        out[(name, quantity)] = tuple(to_canonical(q, float(s), kit.unit) for s in kit.steps)
    return out


@cache
def drop_kits() -> frozenset[tuple[str, str]]:
    """The (kit, quantity) pairs read by counting drops (KH, GH), for their intervals."""
    from tankeco.units.kits import KITS

    return frozenset(key for key, kit in KITS.items() if kit.drops)


def load_history(
    store: Store, tank: str, since_ms: int | None, until_ms: int | None = None
) -> History:
    """Readings, manual entries and events of ``tank`` in [since, until)."""
    rs = store.readings(tank=tank, since_ms=since_ms, until_ms=until_ms)
    readings = _frame(rs, ("ts_ms", "sensor", "quantity", "value", "unit", "quality"))
    ms = [
        m
        for m in store.manual_entries(tank=tank, since_ms=since_ms)
        if until_ms is None or m.ts_ms < until_ms
    ]
    manual = _frame(ms, ("ts_ms", "quantity", "value", "kit", "off_card"))
    es = [
        e
        for e in store.events(tank=tank, since_ms=since_ms)
        if until_ms is None or e.ts_ms < until_ms
    ]
    events = _frame(es, ("ts_ms", "kind", "amount", "unit", "note"))
    return History(readings, manual, events)


def actions(events: pd.DataFrame, clock: Clock) -> list[Action]:
    """Logged events as replay actions in model time (events without an amount dropped)."""
    out = []
    for ts, kind, amount, unit, note in zip(
        events.get("ts_ms", []),
        events.get("kind", []),
        events.get("amount", []),
        events.get("unit", []),
        events.get("note", []),
        strict=True,
    ):
        if amount is None or pd.isna(amount):
            continue
        out.append(Action(float(clock.days(ts)), str(kind), float(amount), str(unit), str(note)))
    return out


def _frame(records, fields: tuple[str, ...]) -> pd.DataFrame:
    """One column per field of the store's records (empty records give empty columns)."""
    return pd.DataFrame({f: [getattr(r, f) for r in records] for f in fields})
