"""``tankeco import``: bring the history a keeper already has into the store.

    tankeco import apex datalog.xml --store sqlite:///tank.db --tank main
    tankeco import apex jan.xml feb.xml --store sqlite:///tank.db --tank main --temp-unit F \\
                        --map Tmp=tank_temp --map pH=tank_ph
    tankeco import ha history.csv --store sqlite:///tank.db --tank main \\
                      --map sensor.tank_temperature=temperature:°C \\
                      --map 'sensor.tank_nitrate=nitrate:mg/L NO3'
    tankeco import csv kits.csv --store sqlite:///tank.db --tank main --tz Europe/Berlin

then, on that history:

    tankeco compare --store sqlite:///tank.db --tank main --since 2025-03-01
    tankeco dashboard --store sqlite:///tank.db --tank main

apex: the datalog.xml an Apex controller serves and keepers save.  Times are placed with
the file's own <timezone>.  The file has no temperature unit: it is told from the values
(said so in the output; --temp-unit overrides).  ORP, salinity, outlet current, power,
voltage and flow are stored too; probe types with no tankeco quantity are kept in the
quarantine and listed.

ha: Home Assistant's History download (entity_id,state,last_changed).  Map each entity
to import: --map ENTITY=QUANTITY[:UNIT]; the unit comes from the map, else from the
file's unit_of_measurement or attributes column.  'unknown' and 'unavailable' are skipped.

csv: a spreadsheet saved as CSV, long (time,quantity,value,unit[,kit,sensor,note]) or wide
(time, then one column per quantity with its unit: 'nitrate (mg/L NO3)').  Rows with a
kit become test-kit entries checked against the kit's colour card.

Every value is checked as a live reading is (unit, range, time, jumps); refused values
go to the quarantine with their reason ('tankeco export --quarantine' lists them).
Importing the same file again stores nothing twice.  A broken file (cut-off XML, a date
that is not a date, an unknown unit, wrong columns) stops with one line naming the place;
what was read before it is stored, and running again on the fixed file adds the rest.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tankeco.errors import UserError

HELP = "import history from an Apex datalog, a Home Assistant CSV or a spreadsheet"


def register(sub: Any) -> None:
    from tankeco.cli.cmd_export import default_store
    from tankeco.cli.helptext import plain

    p = sub.add_parser(
        "import",
        help=HELP,
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    formats = p.add_subparsers(dest="format", metavar="FORMAT", parser_class=type(p))
    formats.required = True
    shapes = {
        "apex": "Neptune Apex datalog.xml (one or more files)",
        "ha": "Home Assistant history CSV (entity_id,state,last_changed)",
        "csv": "a spreadsheet of readings or test-kit results (long or wide CSV)",
    }
    for name, what in shapes.items():
        f = formats.add_parser(
            name,
            help=what,
            description=plain(__doc__),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        f.add_argument("files", nargs="+", metavar="FILE", help=what)
        f.add_argument("--store", default=default_store(), help="store URL (env TANKECO_STORE)")
        f.add_argument("--tank", required=True, help="tank name the history belongs to")
        f.add_argument("--site", default="home", help="site name (default: %(default)s)")
        if name == "apex":
            f.add_argument(
                "--map",
                dest="maps",
                action="append",
                default=[],
                metavar="PROBE=SENSOR",
                help="store probe PROBE as sensor SENSOR (repeatable; default: probe name)",
            )
            f.add_argument(
                "--temp-unit",
                choices=("C", "F"),
                help="unit of the temperatures (default: told from the values)",
            )
        elif name == "ha":
            f.add_argument(
                "--map",
                dest="maps",
                action="append",
                required=True,
                metavar="ENTITY=QUANTITY[:UNIT]",
                help="import entity ENTITY as QUANTITY, e.g. sensor.tank_temp=temperature:°F"
                " (repeatable; entities not mapped are counted, not imported)",
            )
        else:
            f.add_argument(
                "--tz", help="time zone of times without an offset (default: this computer's)"
            )
        f.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tankeco.cli.names import check_name
    from tankeco.store import StoreUnavailable, open_store

    check_name("--site", args.site)
    check_name("--tank", args.tank)
    paths = [Path(f) for f in args.files]
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
    reader = _reader(args)  # options checked before the store is opened or created
    store = open_store(args.store, say_if_new=True)
    try:
        for path in paths:
            _import_one(args, reader, store, path)
    except StoreUnavailable as exc:
        raise UserError(
            f"--store: the database went away during the import ({exc}); what was written"
            " stays, and the same command run again adds the rest without doubles"
        ) from None
    finally:
        store.close()
    return 0


def _reader(args: argparse.Namespace) -> Any:
    """A function (path, sink) -> header line, with the format's options already parsed."""
    if args.format == "apex":
        from tankeco.importers import apex_datalog

        sensor_of = apex_datalog.parse_map(args.maps)

        def apex(path: Path, sink: Any) -> str:
            h = apex_datalog.import_file(
                path, sink, site=args.site, tank=args.tank, sensor_of=sensor_of,
                temp_unit=args.temp_unit,
            )  # fmt: skip
            offset = "?" if h.utc_offset_h is None else f"{h.utc_offset_h:+.2f} h"
            return f"Apex {h.hostname or '?'} (serial {h.serial or '?'}), UTC offset {offset}"

        return apex
    if args.format == "ha":
        from tankeco.importers import ha_history

        targets = ha_history.parse_map(args.maps)

        def ha(path: Path, sink: Any) -> str:
            unmapped = ha_history.import_file(
                path, sink, site=args.site, tank=args.tank, targets=targets
            )
            if unmapped:
                listed = ", ".join(
                    f"{e} ({n} row{'s' * (n != 1)})" for e, n in sorted(unmapped.items())[:10]
                )
                more = f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else ""
                sink.notice(f"not imported, no --map for: {listed}{more}")
            return "Home Assistant history"

        return ha
    from tankeco.importers import sheet
    from tankeco.io.history import zone

    tz = zone(args.tz)

    def csv(path: Path, sink: Any) -> str:
        return f"{sheet.import_file(path, sink, site=args.site, tank=args.tank, tz=tz)} sheet"

    return csv


def _import_one(args: argparse.Namespace, reader: Any, store: Any, path: Path) -> None:
    """Import one file and print what became of it, also when it stops halfway."""
    from tankeco.cli.timeparse import iso_utc
    from tankeco.importers.sink import ImportSink

    described = ""
    with ImportSink(store, topic=f"import/{args.format}/{path.name}") as sink:
        try:
            described = reader(path, sink)
        finally:
            sink.flush()
            print(f"{path.name}: {described or 'stopped'} -> {args.site}/{args.tank}")
            for notice in sink.notices:
                print(f"  note: {notice}")
            for line in sink.summary():
                print(f"  {line}")
    if sink.first_ms is not None and sink.last_ms is not None:
        print(
            f"  history from {iso_utc(sink.first_ms)} to {iso_utc(sink.last_ms)}; compare it:"
            f" tankeco compare --store {args.store} --tank {args.tank}"
            f" --since {iso_utc(sink.first_ms)[:10]}"
        )
