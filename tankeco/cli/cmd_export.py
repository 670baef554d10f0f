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

from tankeco.errors import UserError, writing

DEFAULT_STORE = "sqlite:///tankeco.db"
READING_COLUMNS = ("time", "tank", "sensor", "quantity", "value", "unit", "quality", "source")
#: ``payload_hex`` is the stored prefix (at most 4096 bytes); size and SHA-256 are of
#: the whole payload as received.
QUARANTINE_COLUMNS = (
    "received", "topic", "reason", "detail", "payload_hex", "payload_bytes", "payload_sha256",
)  # fmt: skip
MANUAL_COLUMNS = (
    "time", "site", "tank", "quantity", "value", "unit", "value_entered", "unit_entered",
    "kit", "off_card", "note", "source",
)  # fmt: skip
EVENT_COLUMNS = ("time", "site", "tank", "kind", "amount", "unit", "note", "source")


#: Output formats and the file suffixes that name them.
FORMATS = ("csv", "parquet")
SUFFIXES = {".csv": "csv", ".parquet": "parquet"}


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
    p.add_argument("--tank", help="only this tank (default: every tank)")
    p.add_argument(
        "--since", help="7d, 12h, 30m, 2w or an ISO date/time (local time without an offset)"
    )
    p.add_argument("--format", choices=FORMATS, help="default: from --out, else csv")
    p.add_argument("--out", help="output file, .csv or .parquet (CSV goes to stdout without it)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--quarantine", action="store_true", help="export rejected messages")
    what.add_argument(
        "--manual", action="store_true", help="export logged test-kit readings ('tankeco log')"
    )
    what.add_argument(
        "--events",
        action="store_true",
        help="export logged water changes, feedings and doses",
    )
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
    if getattr(args, "manual", False):
        return MANUAL_COLUMNS, (
            (iso_utc(m.ts_ms), m.site, m.tank, m.quantity, m.value, m.unit,
             m.value_entered, m.unit_entered, m.kit, m.off_card, m.note, m.source)
            for m in store.manual_entries(tank=args.tank, since_ms=since_ms)
        )  # fmt: skip
    if getattr(args, "events", False):
        return EVENT_COLUMNS, (
            (iso_utc(e.ts_ms), e.site, e.tank, e.kind, e.amount, e.unit, e.note, e.source)
            for e in store.events(tank=args.tank, since_ms=since_ms)
        )
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


def output_format(out: str | None, fmt: str | None) -> str:
    """The format to write: ``--format``, else the suffix of ``--out``; refuse a mismatch.

    ``--out week.xlsx`` used to write CSV into a file a spreadsheet then failed to open.
    """
    if out is None:
        return fmt or "csv"
    suffix = os.path.splitext(out)[1].lower()
    named = SUFFIXES.get(suffix)
    if named is None and (suffix or fmt is None):
        raise UserError(
            f"--out {out!r}: cannot write {suffix or 'a file without suffix'};"
            " allowed: .csv or .parquet"
        )
    if fmt is not None and named is not None and named != fmt:
        raise UserError(f"--out {out!r} with --format {fmt}: the suffix says {named}")
    return fmt or named or "csv"


def check_out_path(out: str) -> None:
    """A one-line error, before any work, for an output path that cannot be written."""
    if os.path.isdir(out):
        raise UserError(f"--out {out!r}: is a directory; allowed: a file name, e.g. week.csv")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UserError(f"--out {out!r}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(out) and not os.access(out, os.W_OK)):
        raise UserError(f"--out {out!r}: not writable (permission denied)")


def run(args: argparse.Namespace) -> int:
    from tankeco.store import open_store

    if args.out:
        check_out_path(args.out)
    fmt = output_format(args.out, args.format)
    if fmt == "parquet" and not args.out:
        raise UserError("--format parquet needs --out FILE (Parquet is not written to a terminal)")
    store = open_store(args.store, create=False)
    try:
        columns, rows = rows_for(args, store)
        if fmt == "parquet":
            with writing("--out", args.out):
                n = write_parquet(columns, rows, args.out)
        elif args.out:
            with writing("--out", args.out), open(args.out, "w", newline="", encoding="utf-8") as f:
                n = write_csv(columns, rows, f)
        else:
            n = write_csv(columns, rows, sys.stdout)
    finally:
        store.close()
    if args.out:
        what = (
            "quarantined messages" if args.quarantine
            else "test-kit readings" if getattr(args, "manual", False)
            else "events" if getattr(args, "events", False)
            else "readings"
        )  # fmt: skip
        print(f"wrote {n} {what} to {args.out}", file=sys.stderr)
    return 0
