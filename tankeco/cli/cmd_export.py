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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tankeco.errors import UserError

DEFAULT_STORE = "sqlite:///tankeco.db"
READING_COLUMNS = ("time", "tank", "sensor", "quantity", "value", "unit", "quality", "source")
#: ``payload_hex`` is the stored prefix (at most 4096 bytes); size and SHA-256 are of
#: the whole payload as received.
QUARANTINE_COLUMNS = (
    "received", "topic", "reason", "detail", "payload_hex", "payload_bytes", "payload_sha256",
)  # fmt: skip


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


def rows_for(args: argparse.Namespace, store: Any) -> tuple[Sequence[str], Iterator[tuple]]:
    """The columns and a lazy iterator of rows: nothing is held beyond one page."""
    from tankeco.cli.timeparse import iso_utc, parse_since_ms

    since_ms = parse_since_ms(args.since, int(time.time() * 1000)) if args.since else None
    if args.quarantine:
        if args.tank:
            raise UserError("export --quarantine: --tank does not apply (rows have no tank)")
        return QUARANTINE_COLUMNS, (
            (iso_utc(r.received_ms), r.topic, r.reason, r.detail, r.payload.hex(),
             r.payload_size, r.payload_sha256)
            for r in store.iter_quarantined(since_ms=since_ms)
        )  # fmt: skip
    return READING_COLUMNS, (
        (iso_utc(r.ts_ms), r.tank, r.sensor, r.quantity, r.value, r.unit, r.quality, r.source)
        for r in store.iter_readings(tank=args.tank, since_ms=since_ms)
    )


def write_csv(columns: Sequence[str], rows: Iterable[tuple[Any, ...]], out: Any) -> int:
    """Write the rows as they come; return how many."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    n = 0
    for row in rows:
        w.writerow([_safe_cell(v) for v in row])
        n += 1
    return n


#: Rows per Parquet row group (and per batch held in memory while writing).
PARQUET_GROUP_ROWS = 50_000


def write_parquet(columns: Sequence[str], rows: Iterable[tuple[Any, ...]], path: str) -> int:
    """Write the rows in row groups of :data:`PARQUET_GROUP_ROWS`; return how many."""
    import pyarrow as pa  # the 'parquet' extra; tankeco.cli.main names it if missing
    import pyarrow.parquet as pq

    writer = None
    n = 0
    chunk: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal writer
        table = pa.table({c: [r[i] for r in chunk] for i, c in enumerate(columns)})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        chunk.clear()

    for row in rows:
        chunk.append(row)
        n += 1
        if len(chunk) >= PARQUET_GROUP_ROWS:
            flush()
    if chunk:
        flush()
    if writer is None:
        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), path)
    else:
        writer.close()
    return n


def run(args: argparse.Namespace) -> int:
    from tankeco.store import open_store

    fmt = args.format or ("parquet" if (args.out or "").endswith(".parquet") else "csv")
    if fmt == "parquet" and not args.out:
        raise UserError("--format parquet needs --out FILE (Parquet is not written to a terminal)")
    store = open_store(args.store)
    try:
        columns, rows = rows_for(args, store)
        if fmt == "parquet":
            n = write_parquet(columns, rows, args.out)
        elif args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as f:
                n = write_csv(columns, rows, f)
        else:
            n = write_csv(columns, rows, sys.stdout)
    finally:
        store.close()
    if args.out:
        what = "quarantined messages" if args.quarantine else "readings"
        print(f"wrote {n} {what} to {args.out}", file=sys.stderr)
    return 0
