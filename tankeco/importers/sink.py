"""Where every imported value goes: validated as a live one, written in bounded batches.

A value read from a file becomes a :class:`~tankeco.bridge.candidate.Candidate` and goes
through the bridge's :class:`~tankeco.bridge.validate.Validator` (units through the
quantity registry, range, DS18B20 sentinels, times before 2020 or in the future, impossible
jumps), so an imported reading is accepted or quarantined for exactly the reasons a live
one would be.  Test-kit results go through
:func:`~tankeco.bridge.manual_entries.make_manual_entry`, as ``tankeco log`` and the MQTT
``manual`` topic do.

Rows are held per sensor and written every :data:`FLUSH_ROWS` rows, one write per sensor,
so memory stays bounded whatever the file's size and the store's answer (new or already
stored) can be counted per sensor.  Quarantine rows carry the file name as topic and the
line or record they came from, and are written with the store's redelivery check, so a
second import of the same file does not quarantine the same line twice.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from types import TracebackType

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.manual_entries import make_manual_entry
from tankeco.bridge.validate import Validator, check_time, parse_number
from tankeco.errors import UserError
from tankeco.reasons import Rejected
from tankeco.store import Batch, ManualEntry, QuarantineRecord, Reading, Store, WriteResult
from tankeco.store.records import escape_text
from tankeco.units.timestamps import iso_to_ms

#: Rows held before they are written (all sensors together): bounds memory, and each write
#: is one transaction, so an error later in the file keeps everything before it.
FLUSH_ROWS = 2000


@dataclass
class Tally:
    """What became of one sensor's (or one kit quantity's) values in this import."""

    quantity: str
    stored: int = 0
    already: int = 0
    skipped: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)


class ImportSink:
    """Validates imported values and writes them; counts what happened per sensor.

    Use it as a context manager: leaving the block (also by an error) writes what is held,
    so a file that turns out broken halfway keeps everything read before the break.
    """

    def __init__(
        self,
        store: Store,
        *,
        topic: str,
        received_ms: int | None = None,
        flush_rows: int = FLUSH_ROWS,
    ) -> None:
        self.store = store
        self.topic = escape_text(topic)  # a file name need not be valid UTF-8
        #: The file's name, as error lines name it (the topic's last part).
        self.label = self.topic.rsplit("/", 1)[-1]
        self.received_ms = int(time.time() * 1000) if received_ms is None else received_ms
        self.flush_rows = flush_rows
        self.validator = Validator()
        self.tallies: dict[str, Tally] = {}
        self.notices: list[str] = []
        self._readings: dict[str, list[Reading]] = {}
        self._manual: dict[str, list[ManualEntry]] = {}
        self._quarantine = Batch()
        self._held = 0
        #: Earliest and latest time of the values read that passed validation.
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def __enter__(self) -> ImportSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()

    # -- what the readers call -----------------------------------------------------------
    def _tally(self, key: str, quantity: str) -> Tally:
        t = self.tallies.get(key)
        if t is None:
            t = self.tallies[key] = Tally(quantity)
        return t

    def reading(self, c: Candidate, where: str, raw: str, unit_hint: str = "") -> None:
        """Validate one sensor value; hold it for the store or quarantine it.

        ``where`` names the place in the file ("line 12"), ``raw`` is the text found there;
        both are kept in the quarantine row.  An unknown unit is the file's fault, not the
        value's: it stops the import (everything held so far is still written), with
        ``unit_hint`` saying where the unit can be given.
        """
        tally = self._tally(c.sensor, str(c.quantity))
        try:
            r = self.validator.validate(c, self.received_ms)
            if tally.stored + tally.already + len(self._readings.get(r.sensor, ())) and (
                tally.quantity != r.quantity
            ):
                # The store keys readings by sensor and time: a second quantity under the
                # same sensor name would overwrite nothing and be lost as a "duplicate".
                raise UserError(
                    f"{self.label} {where}: sensor {c.sensor!r} carries both"
                    f" {tally.quantity} and {r.quantity}; give each quantity its own sensor"
                )
        except Rejected as rej:
            if rej.reason == reasons.UNKNOWN_UNIT:
                raise UserError(f"{self.label} {where}: {rej.detail}{unit_hint}") from None
            self.reject(c.sensor, str(c.quantity), where, raw, rej)
            return
        tally.quantity = r.quantity
        self._seen(r.ts_ms)
        self._readings.setdefault(r.sensor, []).append(r)
        self._held_one()

    def manual(
        self,
        *,
        ts_ms: int,
        site: str,
        tank: str,
        quantity: str,
        value: object,
        unit: str | None,
        kit: str,
        note: str,
        where: str,
        raw: str,
    ) -> None:
        """A test-kit result: checked and kept as entered with its kit (off-card flagged)."""
        key = f"kit {kit}: {quantity}"
        tally = self._tally(key, quantity)
        try:
            check_time(ts_ms, self.received_ms)
            for text in (note, kit):
                problem = self.store.text_problem(text)
                if problem is not None:
                    raise Rejected(reasons.UNSTORABLE_TEXT, f"{problem} in {text!r:.80}")
            entry = make_manual_entry(
                ts_ms=ts_ms, site=site, tank=tank, quantity=quantity,
                value=parse_number(value), unit=unit, kit=kit, note=note,
                source=self.topic,
            )  # fmt: skip
        except Rejected as rej:
            if rej.reason == reasons.UNKNOWN_UNIT:
                raise UserError(f"{self.label} {where}: {rej.detail}") from None
            self.reject(key, quantity, where, raw, rej)
            return
        tally.quantity = entry.quantity
        self._seen(entry.ts_ms)
        self._manual.setdefault(key, []).append(entry)
        self._held_one()

    def skip(self, key: str, quantity: str) -> None:
        """A value the format says is no value (Home Assistant's ``unavailable``): counted."""
        self._tally(key, quantity).skipped += 1

    def reject(self, key: str, quantity: str, where: str, raw: str, rej: Rejected) -> None:
        """Quarantine one value with its reason, as the bridge does with a bad message."""
        self._tally(key, quantity).quarantined[rej.reason] += 1
        payload = f"{where}: {raw}".encode("utf-8", "backslashreplace")
        record = QuarantineRecord.of(
            self.received_ms, self.topic, payload, rej.reason, rej.detail, dedup_since_ms=0
        )
        self._quarantine.quarantine.append(record)
        self._held_one()

    def iso_time_ms(self, text: str, where: str, zone: tzinfo | None, zone_name: str) -> int:
        """Epoch ms of an ISO 8601 time in a file; one without an offset is read in ``zone``.

        ``zone`` None is the computer's zone (with its daylight-saving rules); the keeper is
        told once which zone offset-less times were read in.  A text that is not a time
        is the file's fault and stops the import (what came before is kept).
        """
        try:
            ts_ms, had_offset = iso_to_ms(text, zone)
        except ValueError:
            raise UserError(
                f"{self.label} {where}: time {text!r:.60} is not an ISO 8601 date/time"
                " (e.g. 2025-03-01 08:00, or 2025-03-01T08:00+01:00 with its offset)"
            ) from None
        if not had_offset:
            self.notice(f"times without an offset read in {zone_name}")
        return ts_ms

    def notice(self, text: str) -> None:
        """Something the keeper should know about how the file was read (printed once)."""
        if text not in self.notices:
            self.notices.append(text)

    # -- writing ---------------------------------------------------------------------------
    def _seen(self, ts_ms: int) -> None:
        self.first_ms = ts_ms if self.first_ms is None else min(self.first_ms, ts_ms)
        self.last_ms = ts_ms if self.last_ms is None else max(self.last_ms, ts_ms)

    def _held_one(self) -> None:
        self._held += 1
        if self._held >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Write everything held: one transaction per sensor or kit quantity, one for quarantine.

        One write per sensor because the store answers with totals per write, and the
        summary reports per sensor what was new and what was stored already.
        """
        for sensor, rows in self._readings.items():
            result = self._write(Batch(readings=rows, live=False))
            tally = self.tallies[sensor]
            tally.stored += result.readings_inserted
            tally.already += result.readings_duplicate
        self._readings = {}
        for key, entries in self._manual.items():
            result = self._write(Batch(manual=entries))
            tally = self.tallies[key]
            tally.stored += result.manual_inserted
            tally.already += result.manual_duplicate
        self._manual = {}
        if self._quarantine.quarantine:
            self._write(self._quarantine)
            self._quarantine = Batch()
        self._held = 0

    def _write(self, batch: Batch) -> WriteResult:
        return self.store.write(batch)

    # -- the report ------------------------------------------------------------------------
    def summary(self) -> list[str]:
        """One line per sensor (or kit quantity): stored, already stored, skipped, quarantined.

        "already" are values the store held before (a second import of the same file),
        "skipped" values the format marks as no value, "quarantined" values refused with
        the reasons (kept in the quarantine, as ``tankeco export --quarantine`` shows).
        """
        width = max([len("sensor"), *(len(k) for k in self.tallies)])
        lines = [
            f"{'sensor':<{width}}  {'quantity':<12} {'stored':>8} {'already':>8}"
            f" {'skipped':>8} {'quarantined':>11}"
        ]
        for key in sorted(self.tallies):
            t = self.tallies[key]
            bad = sum(t.quarantined.values())
            why = ", ".join(f"{r} {n}" for r, n in sorted(t.quarantined.items()))
            lines.append(
                f"{key:<{width}}  {t.quantity:<12} {t.stored:>8} {t.already:>8}"
                f" {t.skipped:>8} {bad:>11}" + (f"  ({why})" if why else "")
            )
        return lines
