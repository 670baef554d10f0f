"""``tankeco log``: write down a test-kit reading, a water change or a feeding.

    tankeco log nitrate 20 --unit "mg/L NO3" --kit api
    tankeco log water-change 30%
    tankeco log feeding 2g
    tankeco log kh 6 --unit dKH --kit api
    tankeco log list                 # the last entries for the tank, newest last, with ids
    tankeco log undo                 # remove the last entry logged here (or: log undo m12)

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
    from tankeco.cli.helptext import plain

    p = sub.add_parser(
        "log",
        help="record a test-kit reading, water change, feeding or dose",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "what",
        help="nitrate, nitrite, ammonia, ph, kh, gh, ... or water-change, feeding, dosing;"
        " 'list' to show what was logged (with ids), 'undo [ID]' to remove an entry",
    )
    p.add_argument(
        "amount",
        nargs="?",
        help="the value (20, or 20 ppm NO3) or amount with unit (30%%, 10L or 5gal (US), 2g,"
        " 5mL); for undo, the id 'log list' shows (default: the last entry logged here)",
    )
    p.add_argument(
        "--unit", help='unit of a test-kit value, e.g. "mg/L NO3" (default: the card\'s)'
    )
    p.add_argument("--kit", default="", help="test kit whose colour card was read, e.g. api")
    p.add_argument("--tank", default="main", help="tank name (default: %(default)s)")
    p.add_argument("--site", default="home", help="site name (default: %(default)s)")
    p.add_argument(
        "--time",
        help="when: ISO 8601, e.g. '2026-12-01 18:00' (in --tz; add Z or +01:00 to give the"
        " offset); default now; a time in the future is refused",
    )
    p.add_argument("--tz", help="time zone of a --time without offset (default: local)")
    p.add_argument("--last", type=int, default=10, help="log list: how many entries (%(default)s)")
    p.add_argument("--note", default="", help="free text kept with the entry")
    p.add_argument("--store", default=default_store(), help="store URL (env TANKECO_STORE)")
    p.add_argument(
        "--new-store",
        action="store_true",
        help="create the SQLite store if it does not exist yet (otherwise a missing"
        " file is an error, so a mistyped path cannot start an empty store)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tankeco import reasons
    from tankeco.bridge.event_messages import EVENT_UNITS, make_event, normalise_kind, parse_amount
    from tankeco.bridge.validate import check_time
    from tankeco.cli.names import check_name
    from tankeco.cli.timeparse import iso_utc, parse_time_ms
    from tankeco.io.history import zone
    from tankeco.reasons import Rejected
    from tankeco.store import Batch, open_store
    from tankeco.units.kits import kit_for
    from tankeco.units.molar import L_PER_US_GAL

    check_name("--site", args.site)
    check_name("--tank", args.tank)
    now_ms = int(time.time() * 1000)
    tz = zone(args.tz)
    if args.what.strip().lower() == "list":
        return _list(args, tz)
    if args.what.strip().lower() == "undo":
        return _undo(args, tz)
    if args.amount is None:
        raise UserError(f"log {args.what}: give the value or amount, e.g. 20 or 30%")
    ts_ms = parse_time_ms(args.time, "--time", tz) if args.time else now_ms
    try:
        check_time(ts_ms, now_ms)
    except Rejected as exc:  # the bridge's check, worded for the keeper who typed the time
        problem = (
            f"in the future (now is {iso_utc(now_ms)})"
            if exc.reason == reasons.TS_FUTURE
            else "before 2020"
        )
        raise UserError(
            f"--time {args.time!r}: {problem}; allowed from 2020 to a few minutes from now"
        ) from None
    batch = Batch()
    try:
        is_event = args.what.strip().lower().replace("-", "_") in EVENT_UNITS or args.what in (
            "wc",
            "feed",
            "dose",
        )
        if is_event:
            amount, unit = parse_amount(args.amount)
            entered = f"{amount:g} {unit}"
            if unit.lower() in US_GALLONS:  # converted once, on reading (US gallons)
                amount, unit = amount * L_PER_US_GAL, "L"
                entered += f" = {amount:.3g} L"
            event = make_event(
                ts_ms=ts_ms, site=args.site, tank=args.tank, kind=normalise_kind(args.what),
                amount=amount, unit=unit, note=args.note, source=SOURCE,
            )  # fmt: skip
            batch.events.append(event)
            summary = f"{event.kind} {entered}"
        else:
            from tankeco.bridge.manual_entries import make_manual_entry

            value, kit_unit = _value_and_unit(args.what, args.amount, args.unit)
            entry = make_manual_entry(
                ts_ms=ts_ms, site=args.site, tank=args.tank, quantity=args.what, value=value,
                unit=kit_unit, kit=args.kit, note=args.note, source=SOURCE,
            )  # fmt: skip
            batch.manual.append(entry)
            summary = (
                f"{args.what} {value:g} {entry.unit_entered} (= {entry.value:.4g} {entry.unit})"
            )
            if entry.off_card:
                card = kit_for(entry.kit, entry.quantity)
                steps = ", ".join(f"{s:g}" for s in card.steps)
                summary += (
                    f"; not a whole number of drops of the {entry.kit} kit (1 drop ="
                    f" 1 {card.unit}): kept as entered and flagged"
                    if card.drops
                    else f"; OFF the {entry.kit} colour card ({steps} {entry.unit_entered}):"
                    " kept as entered and flagged"
                )
    except Rejected as exc:
        detail = exc.detail or exc.reason
        if exc.reason == reasons.UNKNOWN_QUANTITY:
            detail += _did_you_mean(args.what)
        raise UserError(f"log {args.what} {args.amount}: {detail}") from None
    store = open_store(args.store, create=args.new_store, say_if_new=True)
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


#: ``source`` of what ``tankeco log`` writes; only such rows can be undone.
SOURCE = "cli"
#: Prefix of the id ``log list`` shows: events and kit readings are two tables.
EVENT_ID, MANUAL_ID = "e", "m"


def _entries(store, site: str, tank: str) -> list:
    """Kit readings and events of ``site/tank`` in time order (ties: events first)."""
    rows = [m for m in store.manual_entries(tank=tank) if m.site == site]
    rows += [e for e in store.events(tank=tank) if e.site == site]
    return sorted(rows, key=lambda r: (r.ts_ms, _entry_id(r)))


def _entry_id(entry) -> str:
    """``m12`` for manual entry row 12, ``e3`` for event row 3."""
    from tankeco.store import Event

    return f"{EVENT_ID if isinstance(entry, Event) else MANUAL_ID}{entry.row_id}"


def _describe(entry, tz) -> str:
    """One line of ``log list``: id, local time, what, value as entered, kit, note."""
    from datetime import UTC, datetime

    from tankeco.store import Event

    local = datetime.fromtimestamp(entry.ts_ms / 1000, UTC).astimezone(tz)
    if isinstance(entry, Event):
        what, kit = entry.kind, ""
        amount = f"{entry.amount:g} {entry.unit}" if entry.amount is not None else ""
    else:
        what, kit = entry.quantity, entry.kit
        amount = f"{entry.value_entered:g} {entry.unit_entered}"
    line = f"{_entry_id(entry):<6} {local:%Y-%m-%d %H:%M %Z}  {what:<13} {amount:<16} {kit:<5}"
    return f"{line} {entry.note}".rstrip()


def _list(args: argparse.Namespace, tz) -> int:
    """The newest ``--last`` kit readings and events of ``--site/--tank``, oldest first."""
    from tankeco.store import open_store

    if not 1 <= args.last <= 10_000:
        raise UserError(f"--last {args.last}: allowed 1 to 10000")
    store = open_store(args.store, create=False)
    try:
        rows = _entries(store, args.site, args.tank)
    finally:
        store.close()
    if not rows:
        print(f"nothing logged for {args.site}/{args.tank} in {args.store}")
        return 0
    for entry in rows[-args.last :]:
        print(_describe(entry, tz))
    return 0


def _undo(args: argparse.Namespace, tz) -> int:
    """Remove one entry made with ``tankeco log`` (default: the last one of the tank).

    The id is the one ``log list`` shows.  Entries the bridge received (a node's weekly
    kit reading, an event over MQTT) are refused: they are the device's record, and
    sensor readings live in another table that this never touches.
    """
    import re

    from tankeco.store import Event, open_store

    where = f"{args.site}/{args.tank}"
    wanted = None
    if args.amount is not None:
        wanted = args.amount.strip().lower()
        if not re.fullmatch(rf"[{EVENT_ID}{MANUAL_ID}]\d{{1,18}}", wanted):
            raise UserError(
                f"log undo {args.amount!r}: give an id as 'tankeco log list' shows it"
                f" ({MANUAL_ID}12 for a kit reading, {EVENT_ID}3 for an event), or none for"
                " the last entry"
            )
    store = open_store(args.store, create=False)
    try:
        rows = _entries(store, args.site, args.tank)
        if wanted is None:
            mine = [r for r in rows if r.source == SOURCE]
            if not mine:
                raise UserError(f"log undo: nothing logged with 'tankeco log' for {where}")
            entry = mine[-1]
        else:
            found = [r for r in rows if _entry_id(r) == wanted]
            if not found:
                raise UserError(
                    f"log undo {wanted}: no such entry for {where} ('tankeco log list' shows"
                    " the ids)"
                )
            entry = found[0]
            if entry.source != SOURCE:
                raise UserError(
                    f"log undo {wanted}: received by the bridge ({entry.source}), not logged"
                    " with 'tankeco log'; only entries logged here can be undone"
                )
        delete = store.delete_event if isinstance(entry, Event) else store.delete_manual_entry
        removed = delete(entry.row_id, site=args.site, tank=args.tank, source=SOURCE)
    finally:
        store.close()
    if removed is None:  # removed by someone else between the two statements
        raise UserError(f"log undo {_entry_id(entry)}: already removed from {where}")
    print(f"removed from {where}: {_describe(removed, tz)}")
    return 0


#: Names of the US gallon a keeper may write after a water change ("5 gal").
US_GALLONS = ("gal", "gallon", "gallons", "usgal")


def _did_you_mean(word: str) -> str:
    """``"; did you mean 'nitrate'?"`` for a near miss among quantities, events and aliases."""
    import difflib

    from tankeco.bridge.event_messages import EVENT_UNITS
    from tankeco.units.quantities import ALIASES, QUANTITIES

    names = [*QUANTITIES, *ALIASES, *(k.replace("_", "-") for k in EVENT_UNITS)]
    close = difflib.get_close_matches(word.strip().lower(), names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


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
