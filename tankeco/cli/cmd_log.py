"""``tankeco log``: write down a test-kit reading, a water change or a feeding.

    tankeco log nitrate 20 --unit "mg/L NO3" --kit api
    tankeco log water-change 30%
    tankeco log feeding 2g

A value that is not on the kit's colour card is kept exactly as entered and flagged,
so later comparisons know it was interpolated by eye.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tankeco.errors import UserError


def register(sub: Any) -> None:
    from tankeco.cli.cmd_export import default_store

    p = sub.add_parser(
        "log",
        help="record a test-kit reading, water change, feeding or dose",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "what", help="nitrate, nitrite, ammonia, ph, ... or water-change, feeding, dosing"
    )
    p.add_argument(
        "amount", help="the value (20, or 20 ppm NO3) or amount with unit (30%%, 2g, 5mL)"
    )
    p.add_argument(
        "--unit", help='unit of a test-kit value, e.g. "mg/L NO3" (default: the card\'s)'
    )
    p.add_argument("--kit", default="", help="test kit whose colour card was read, e.g. api")
    p.add_argument("--tank", default="main")
    p.add_argument("--site", default="home")
    p.add_argument("--time", help="when (ISO 8601, UTC if no offset); default now")
    p.add_argument("--note", default="")
    p.add_argument("--store", default=default_store(), help="store URL (env TANKECO_STORE)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tankeco.bridge.event_messages import EVENT_UNITS, make_event, normalise_kind, parse_amount
    from tankeco.cli.timeparse import iso_utc, parse_time_ms
    from tankeco.reasons import Rejected
    from tankeco.store import Batch, open_store
    from tankeco.units.kits import kit_for

    ts_ms = parse_time_ms(args.time) if args.time else int(time.time() * 1000)
    batch = Batch()
    try:
        is_event = args.what.strip().lower().replace("-", "_") in EVENT_UNITS or args.what in (
            "wc",
            "feed",
            "dose",
        )
        if is_event:
            amount, unit = parse_amount(args.amount)
            event = make_event(
                ts_ms=ts_ms, site=args.site, tank=args.tank, kind=normalise_kind(args.what),
                amount=amount, unit=unit, note=args.note, source="cli",
            )  # fmt: skip
            batch.events.append(event)
            summary = f"{event.kind} {amount:g} {unit}"
        else:
            from tankeco.bridge.manual_entries import make_manual_entry

            value, kit_unit = _value_and_unit(args.what, args.amount, args.unit)
            entry = make_manual_entry(
                ts_ms=ts_ms, site=args.site, tank=args.tank, quantity=args.what, value=value,
                unit=kit_unit, kit=args.kit, note=args.note, source="cli",
            )  # fmt: skip
            batch.manual.append(entry)
            summary = (
                f"{args.what} {value:g} {entry.unit_entered} (= {entry.value:.4g} {entry.unit})"
            )
            if entry.off_card:
                steps = ", ".join(f"{s:g}" for s in kit_for(entry.kit, entry.quantity).steps)
                summary += (
                    f"; OFF the {entry.kit} colour card ({steps} {entry.unit_entered}):"
                    " kept as entered and flagged"
                )
    except Rejected as exc:
        raise UserError(f"log {args.what} {args.amount}: {exc.detail or exc.reason}") from None
    store = open_store(args.store)
    try:
        result = store.write(batch)
    finally:
        store.close()
    if result.events_inserted + result.manual_inserted == 0:
        raise UserError(
            f"{summary}: already logged for {args.site}/{args.tank} at {iso_utc(ts_ms)}"
        )
    print(f"logged {summary} for {args.site}/{args.tank} at {iso_utc(ts_ms)}")
    return 0


def _value_and_unit(what: str, amount: str, unit_option: str | None) -> tuple[float, str | None]:
    """The kit value and its unit, from ``20`` with ``--unit`` or from ``"20 ppm NO3"``.

    The number is split off by the one unit parser (:func:`tankeco.units.parse.split_number`);
    the unit itself is checked and converted by the bridge's validation, as for a device.
    """
    from tankeco.units.parse import normalise, split_number

    parts = split_number(amount)
    if parts is None:
        raise UserError(
            f"log {what} {amount!r}: the value must be a number, optionally with its unit"
            " (20, '20 ppm NO3')"
        )
    value, unit_text = parts
    if not unit_text:
        return value, unit_option
    if unit_option and normalise(unit_option) != normalise(unit_text):
        raise UserError(
            f"log {what} {amount!r} --unit {unit_option!r}: two different units; give one"
        )
    return value, unit_text
