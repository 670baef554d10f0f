"""``tankeco export``: readings (or quarantined messages) to CSV or Parquet.

CSV cells that a spreadsheet would run as a formula (starting with = + - @) are prefixed
with an apostrophe: device-supplied text is data, never something to evaluate.  Raw
quarantined payloads are exported as hex so any byte sequence survives the trip.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from tankeco.errors import UserError

DEFAULT_STORE = "sqlite:///tankeco.db"
READING_COLUMNS = ("time", "tank", "sensor", "quantity", "value", "unit", "quality", "source")
QUARANTINE_COLUMNS = ("received", "topic", "reason", "detail", "payload_hex")


def default_store() -> str:
    return os.environ.get("TANKECO_STORE", DEFAULT_STORE)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write readings (or quarantined messages) as CSV or Parquet",
        description="Write readings, one row per reading in canonical units, for a"
        " spreadsheet or notebook.",
    )
    p.add_argument("--store", default=default_store(), help="store URL (env TANKECO_STORE)")
    p.add_argument("--tank")
    p.add_argument("--since", help="7d, 12h, 30m, 2w or an ISO date/time")
    p.add_argument("--format", choices=("csv", "parquet"), help="default: from --out, else csv")
    p.add_argument("--out", help="output file (CSV goes to stdout without it)")
    p.add_argument("--quarantine", action="store_true", help="export rejected messages")
    p.set_defaults(func=run)


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def rows_for(args: argparse.Namespace) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
    from tankeco.cli.timeparse import iso_utc, parse_since_ms
    from tankeco.store import open_store

    since_ms = parse_since_ms(args.since, int(time.time() * 1000)) if args.since else None
    store = open_store(args.store)
    try:
        if args.quarantine:
            if args.tank:
                raise UserError("export --quarantine: --tank does not apply (rows have no tank)")
            q = store.quarantined(since_ms=since_ms)
            return QUARANTINE_COLUMNS, [
                (iso_utc(r.received_ms), r.topic, r.reason, r.detail, r.payload.hex()) for r in q
            ]
        readings = store.readings(tank=args.tank, since_ms=since_ms)
        return READING_COLUMNS, [
            (iso_utc(r.ts_ms), r.tank, r.sensor, r.quantity, r.value, r.unit, r.quality, r.source)
            for r in readings
        ]
    finally:
        store.close()


def write_csv(columns: Sequence[str], rows: Iterable[tuple[Any, ...]], out: Any) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_safe_cell(v) for v in row])


def write_parquet(columns: Sequence[str], rows: list[tuple[Any, ...]], path: str) -> None:
    import pyarrow as pa  # the 'parquet' extra; tankeco.cli.main names it if missing
    import pyarrow.parquet as pq

    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    table = pa.table(data) if rows else pa.table({c: pa.array([], pa.string()) for c in columns})
    pq.write_table(table, path)


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("parquet" if (args.out or "").endswith(".parquet") else "csv")
    if fmt == "parquet" and not args.out:
        raise UserError("--format parquet needs --out FILE (Parquet is not written to a terminal)")
    columns, rows = rows_for(args)
    if fmt == "parquet":
        write_parquet(columns, rows, args.out)
    elif args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as f:
            write_csv(columns, rows, f)
    else:
        write_csv(columns, rows, sys.stdout)
    if args.out:
        what = "quarantined messages" if args.quarantine else "readings"
        print(f"wrote {len(rows)} {what} to {args.out}", file=sys.stderr)
    return 0
