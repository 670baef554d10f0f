"""Home Assistant's history download: a CSV with ``entity_id,state,last_changed``.

The History panel's download has one row per state change of every entity shown.  Only
the entities the keeper maps (``--map sensor.tank_nitrate=nitrate:mg/L NO3``) are
imported; rows of other entities are counted and named, so nothing goes unmentioned.  The
states ``unknown`` and ``unavailable`` are Home Assistant saying there was no value (the
integration was down): they are skipped and counted, not quarantined.

A value's unit comes from the map, else from the row's ``unit_of_measurement`` column or
its ``attributes`` column (JSON, read as data with :func:`json.loads`, never evaluated)
where the download has them.  ``last_changed`` is ISO 8601 in UTC; a time without an
offset is read as UTC, Home Assistant's own clock, and the keeper is told.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from tankeco.bridge.candidate import Candidate
from tankeco.bridge.topics import SEGMENT
from tankeco.errors import UserError
from tankeco.importers.csvfile import open_rows
from tankeco.importers.sink import ImportSink
from tankeco.reasons import Rejected
from tankeco.units.quantities import lookup, to_canonical

#: States Home Assistant writes when an entity has no value.
NO_VALUE_STATES = frozenset({"unknown", "unavailable"})
REQUIRED = ("entity_id", "state", "last_changed")


@dataclass(frozen=True)
class Target:
    """Where one entity's states go: sensor name, quantity, and unit if the map gives it."""

    sensor: str
    quantity: str
    unit: str | None


def parse_map(pairs: list[str]) -> dict[str, Target]:
    """``--map ENTITY=QUANTITY[:UNIT]`` options; the sensor is the entity's object id."""
    out: dict[str, Target] = {}
    for pair in pairs:
        entity, sep, rest = pair.partition("=")
        entity = entity.strip()
        quantity, colon, unit = rest.partition(":")
        sensor = entity.partition(".")[2]
        if not sep or not SEGMENT.match(sensor) or not quantity.strip():
            raise UserError(
                f"--map {pair!r}: use ENTITY=QUANTITY or ENTITY=QUANTITY:UNIT, e.g."
                " --map sensor.tank_temp=temperature:°F (the entity as DOMAIN.OBJECT_ID)"
            )
        try:
            q = lookup(quantity)
            if colon:
                to_canonical(q, 1.0, unit.strip())
        except Rejected as exc:
            raise UserError(f"--map {pair!r}: {exc.detail}") from None
        out[entity] = Target(sensor, q.name, unit.strip() if colon else None)
    return out


def _unit_from_row(row: list[str], cols: dict[str, int]) -> str | None:
    if "unit_of_measurement" in cols and row[cols["unit_of_measurement"]].strip():
        return row[cols["unit_of_measurement"]].strip()
    if "attributes" in cols and row[cols["attributes"]].strip():
        try:
            attributes = json.loads(row[cols["attributes"]])
        except ValueError:
            return None
        unit = attributes.get("unit_of_measurement") if isinstance(attributes, dict) else None
        return unit if isinstance(unit, str) else None
    return None


def import_file(
    path: Path, sink: ImportSink, *, site: str, tank: str, targets: dict[str, Target]
) -> dict[str, int]:
    """Read one history CSV into ``sink``; return rows per entity that is not mapped."""
    unmapped: dict[str, int] = {}
    header, rows = open_rows(path, ",".join(REQUIRED))
    cols = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise UserError(
            f"{path.name}: header {','.join(header)[:120]!r} lacks {', '.join(missing)};"
            f" a Home Assistant history download has {','.join(REQUIRED)}"
        )
    for line, row in rows:
        entity = row[cols["entity_id"]].strip()
        target = targets.get(entity)
        if target is None:
            unmapped[entity] = unmapped.get(entity, 0) + 1
            continue
        state = row[cols["state"]].strip()
        if state.lower() in NO_VALUE_STATES:
            sink.skip(target.sensor, target.quantity)
            continue
        ts_ms = sink.iso_time_ms(
            row[cols["last_changed"]], f"line {line}", UTC, "UTC (Home Assistant's clock)"
        )
        unit = target.unit if target.unit is not None else _unit_from_row(row, cols)
        sink.reading(
            Candidate(
                site=site, tank=tank, sensor=target.sensor, quantity=target.quantity,
                value=state, unit=unit, ts=ts_ms, source=f"homeassistant:{entity}",
            ),
            f"line {line}",
            ",".join(row),
            f"; give the unit with --map {entity}={target.quantity}:UNIT",
        )  # fmt: skip
    return unmapped
