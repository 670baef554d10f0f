"""A spreadsheet of readings or test-kit results, saved as CSV, in one of two shapes.

Long, one value per row, with a header naming the columns (any order, any case)::

    time,quantity,value,unit,kit
    2025-03-01 08:00,nitrate,20,mg/L NO3,api
    2025-03-01 08:00,temperature,77.5,°F,

Wide, one row per time and one column per quantity, the unit in the header::

    time,nitrate (mg/L NO3),ph,temperature [°F],kit
    2025-03-01 08:00,20,7.6,77.5,api

Optional columns: ``kit`` (the test kit whose colour card was read: the row's values become
manual entries with their kit, checked against the card, exactly as ``tankeco log`` keeps
them), ``note`` and, in the long shape, ``sensor`` (the name to store readings under;
default the quantity's name, which is also the sensor of a wide sheet's column).  A row
without a kit is a sensor reading.  Times are ISO 8601; a time without an offset is the
keeper's wall-clock time, read in ``--tz`` or else the computer's zone, and the keeper is
told.  Units go through the one unit parser, so "mg/L" alone for nitrate is refused as
everywhere else (is it as NO3 or as N?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from tankeco.bridge.candidate import Candidate
from tankeco.bridge.topics import SEGMENT
from tankeco.errors import UserError
from tankeco.importers.csvfile import open_rows
from tankeco.importers.sink import ImportSink
from tankeco.reasons import Rejected
from tankeco.units.quantities import lookup, to_canonical

TIME_NAMES = ("time", "timestamp", "date", "datetime")
LONG_COLUMNS = ("quantity", "value", "unit")
EXTRA_COLUMNS = ("kit", "sensor", "note")
_HEADER_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*(.*?)\s*[)\]]\s*$")


@dataclass(frozen=True)
class Column:
    """A wide sheet's quantity column: position, quantity, unit from the header."""

    index: int
    header: str
    quantity: str
    unit: str | None


def _wide_columns(path: Path, header: list[str], used: set[int], has_kit: bool) -> list[Column]:
    columns = []
    for i, text in enumerate(header):
        if i in used:
            continue
        m = _HEADER_UNIT.match(text)
        name, unit = (m.group(1), m.group(2)) if m else (text.strip(), None)
        try:
            q = lookup(name)
        except Rejected as exc:
            raise UserError(
                f"{path.name}: column {text!r}: {exc.detail}; a sheet has a time column and"
                " one column per quantity, or the columns time, quantity, value, unit"
            ) from None
        if unit is not None or not has_kit:
            try:
                to_canonical(q, 1.0, unit or "")
            except Rejected as exc:
                raise UserError(
                    f"{path.name}: column {text!r}: {exc.detail}; write the unit in the"
                    f" header, e.g. '{name} ({q.unit})'"
                ) from None
        columns.append(Column(i, text, q.name, unit))
    if not columns:
        raise UserError(f"{path.name}: no quantity columns next to the time column")
    return columns


def import_file(path: Path, sink: ImportSink, *, site: str, tank: str, tz: tzinfo | None) -> str:
    """Read one sheet into ``sink``; return its shape, "long" or "wide"."""
    header, rows = open_rows(path, "time,quantity,value,unit")
    cols = {name.strip().lower(): i for i, name in enumerate(header)}
    time_col = next((cols[n] for n in TIME_NAMES if n in cols), None)
    if time_col is None:
        raise UserError(
            f"{path.name}: header {','.join(header)[:120]!r} has no time column (one of"
            f" {', '.join(TIME_NAMES)})"
        )
    extra = {n: cols[n] for n in EXTRA_COLUMNS if n in cols}
    long = "quantity" in cols or "value" in cols
    if not long and "sensor" in extra:
        raise UserError(
            f"{path.name}: a wide sheet (one column per quantity) stores each column as the"
            " sensor of that name; drop the sensor column, or use the long shape"
            " time,quantity,value,unit,sensor"
        )
    if long:
        missing = [c for c in LONG_COLUMNS if c not in cols]
        allowed = {header[time_col].strip().lower(), *LONG_COLUMNS, *EXTRA_COLUMNS}
        unknown = [h for h in header if h.strip().lower() not in allowed]
        if missing or unknown:
            raise UserError(
                f"{path.name}: header {','.join(header)[:120]!r}: "
                + "; ".join(
                    ([f"lacks {', '.join(missing)}"] if missing else [])
                    + ([f"unknown column {unknown[0]!r}"] if unknown else [])
                )
                + f"; a long sheet has time, quantity, value, unit (and optionally"
                f" {', '.join(EXTRA_COLUMNS)})"
            )
        columns: list[Column] = []
    else:
        columns = _wide_columns(path, header, {time_col, *extra.values()}, "kit" in extra)

    for line, row in rows:
        where = f"{path.name} line {line}"
        ts_ms = sink.iso_time_ms(
            row[time_col], f"line {line}", tz, str(tz) if tz else "this computer's time zone"
        )
        kit = row[extra["kit"]].strip() if "kit" in extra else ""
        note = row[extra["note"]].strip() if "note" in extra else ""
        named = row[extra["sensor"]].strip() if "sensor" in extra else ""
        if named and not SEGMENT.match(named):
            raise UserError(f"{where}: sensor {named!r}: use 1 to 64 letters, digits, _ or -")
        if long:
            cells = [(row[cols["quantity"]].strip(), row[cols["value"]], row[cols["unit"]].strip())]
        else:
            cells = [(c.quantity, row[c.index], c.unit) for c in columns]
        for quantity, value, unit in cells:
            try:
                canonical = lookup(quantity).name
            except Rejected:
                canonical = quantity
            raw = ",".join(row)
            if not value.strip() and not long:
                sink.skip(f"kit {kit}: {canonical}" if kit else named or canonical, canonical)
                continue
            if kit:
                sink.manual(
                    ts_ms=ts_ms, site=site, tank=tank, quantity=canonical, value=value,
                    unit=unit or None, kit=kit, note=note, where=f"line {line}", raw=raw,
                )  # fmt: skip
                continue
            sink.reading(
                Candidate(
                    site=site, tank=tank, sensor=named or canonical, quantity=quantity,
                    value=value, unit=unit or "", ts=ts_ms, source=sink.topic,
                ),
                f"line {line}",
                raw,
            )  # fmt: skip
    return "long" if long else "wide"
