"""Validation of decoded values: the only place that decides what gets into the store.

Each check raises :class:`~tankeco.reasons.Rejected` with a specific reason, so the
quarantine says *why* (a DS18B20 sentinel is not an out-of-range value, a 1970 timestamp is
not a future one).  All functions are pure except :class:`JumpGuard`, which must remember
the last accepted value per sensor to see an impossible jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.reasons import Rejected
from tankeco.store import Reading
from tankeco.units.quantities import Quantity, lookup, to_canonical

#: Earliest believable device time (ms): devices without NTP report 1970 or 2000.
EARLIEST_TS_MS = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)
#: How far ahead of the bridge's clock a device may be before its time is refused.
FUTURE_TOLERANCE_MS = 5 * 60_000
#: DS18B20: 85.0 before the first conversion, −127 when the probe is disconnected.
DS18B20_SENTINELS_C = (85.0, -127.0)
#: Strings devices send instead of a number.
_NOT_NUMBERS = {"nan", "-nan", "none", "null", "unavailable", "unknown", "", "inf", "-inf"}
#: Quality labels a native payload may carry.
QUALITIES = frozenset({"ok", "suspect", "calibrating"})
#: Flag added to ``quality`` when the device sent no time and the receive time is used.
RECEIVE_TIME = "time_from_receiver"


def parse_number(raw: object) -> float:
    """A finite float from a JSON number or a bare-number string, else Rejected."""
    if raw is None:
        raise Rejected(reasons.NOT_A_NUMBER, "value is null")
    if isinstance(raw, bool):
        raise Rejected(reasons.BAD_SCHEMA, f"value is a boolean ({raw})")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if text.lower() in _NOT_NUMBERS:
            raise Rejected(reasons.NOT_A_NUMBER, f"value is {raw!r:.40}")
        try:
            value = float(text)
        except ValueError:
            raise Rejected(reasons.NOT_A_NUMBER, f"value {raw!r:.40} is not a number") from None
    else:
        raise Rejected(reasons.BAD_SCHEMA, f"value has type {type(raw).__name__}")
    if not math.isfinite(value):
        raise Rejected(reasons.NOT_A_NUMBER, f"value is {raw!r:.40}")
    return value


def parse_timestamp(raw: object, tz: tzinfo = UTC, near_ms: int | None = None) -> int:
    """Epoch milliseconds from an ISO-8601 string or epoch seconds/milliseconds number.

    A string without an offset is read in ``tz`` (Tasmota's local time).  A local time
    that happens twice (the hour the clocks go back) is taken as the one nearer to
    ``near_ms``, the receive time: a device sends its current time, so the second
    02:30 is not stored an hour early (and then dropped as a duplicate of the first).
    Raises Rejected(timestamp_invalid) for anything else.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise Rejected(reasons.TS_INVALID, f"timestamp has type {type(raw).__name__}")
    if isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise Rejected(reasons.TS_INVALID, f"{raw!r:.60} is not ISO 8601") from None
        if dt.tzinfo is None:
            first, second = dt.replace(tzinfo=tz, fold=0), dt.replace(tzinfo=tz, fold=1)
            dt = first
            if near_ms is not None and first.utcoffset() != second.utcoffset():
                try:
                    if abs(second.timestamp() * 1000 - near_ms) < abs(
                        first.timestamp() * 1000 - near_ms
                    ):
                        dt = second
                except (OverflowError, OSError, ValueError):
                    pass  # out of range: reported just below
        try:
            return int(round(dt.timestamp() * 1000))
        except (OverflowError, OSError, ValueError):
            raise Rejected(reasons.TS_INVALID, f"{raw!r:.60} is out of range") from None
    if not math.isfinite(raw):
        raise Rejected(reasons.TS_INVALID, f"timestamp {raw!r}")
    # Epoch seconds until the year 5138; anything larger is taken as milliseconds.
    ms = raw if abs(raw) >= 1e11 else raw * 1000
    if abs(ms) > 1e15:
        raise Rejected(reasons.TS_INVALID, f"timestamp {raw!r:.30} is out of range")
    return int(round(ms))


def check_time(ts_ms: int, received_ms: int) -> None:
    """Refuse device times before 2020 (clock never set) or ahead of the bridge's clock."""
    if ts_ms < EARLIEST_TS_MS:
        when = datetime.fromtimestamp(max(ts_ms, -62135596800000) / 1000, UTC)
        raise Rejected(
            reasons.TS_TOO_OLD, f"device time {when:%Y-%m-%dT%H:%M:%SZ} (clock not set?)"
        )
    if ts_ms > received_ms + FUTURE_TOLERANCE_MS:
        ahead_s = (ts_ms - received_ms) / 1000
        raise Rejected(reasons.TS_FUTURE, f"device time {ahead_s:.0f} s ahead of the bridge")


def check_sentinel(quantity: Quantity, value: float) -> None:
    """DS18B20 reports 85.0 before its first conversion and −127 when disconnected."""
    if quantity.name == "temperature" and any(abs(value - s) < 1e-6 for s in DS18B20_SENTINELS_C):
        raise Rejected(reasons.SENTINEL, f"{value:g} °C is a DS18B20 error code")


def check_range(quantity: Quantity, value: float) -> None:
    """Refuse values water cannot have (usually a wrong unit or a broken probe)."""
    if not quantity.low <= value <= quantity.high:
        raise Rejected(
            reasons.OUT_OF_RANGE,
            f"{value:g} {quantity.unit} outside {quantity.low:g}..{quantity.high:g}",
        )


@dataclass
class _Last:
    ts_ms: int
    value: float
    disputed: list[tuple[int, float]] = field(default_factory=list)


class JumpGuard:
    """Refuses a value that moved further from the sensor's last accepted value than physics allows.

    The limit is ``max_change_per_min × max(minutes between readings, 1)``.  No check is made
    after a long silence (``stale_after_ms``) or for a reading older than the last one
    (a node flushing its offline buffer).  If the sensor really moved — say it was recalibrated
    — ``accept_after`` consecutive refused values that agree with each other become the new
    baseline, so one bad value never locks a sensor out for good.
    """

    def __init__(self, *, stale_after_ms: int = 30 * 60_000, accept_after: int = 3) -> None:
        self.stale_after_ms = stale_after_ms
        self.accept_after = accept_after
        self._last: dict[tuple[str, str, str, str], _Last] = {}

    @staticmethod
    def _too_far(q: Quantity, a: tuple[int, float], b: tuple[int, float]) -> bool:
        minutes = max(abs(b[0] - a[0]) / 60_000, 1.0)
        return abs(b[1] - a[1]) > q.max_change_per_min * minutes

    def check(self, key: tuple[str, str, str, str], q: Quantity, ts_ms: int, value: float) -> None:
        """Raise Rejected(impossible_jump) or record ``value`` as the sensor's latest."""
        last = self._last.get(key)
        if last is None or ts_ms - last.ts_ms > self.stale_after_ms:
            self._last[key] = _Last(ts_ms, value)
            return
        if ts_ms < last.ts_ms:
            return
        if not self._too_far(q, (last.ts_ms, last.value), (ts_ms, value)):
            last.ts_ms, last.value, last.disputed = ts_ms, value, []
            return
        if last.disputed and self._too_far(q, last.disputed[-1], (ts_ms, value)):
            last.disputed = []
        last.disputed.append((ts_ms, value))
        if len(last.disputed) >= self.accept_after:
            self._last[key] = _Last(ts_ms, value)
            return
        raise Rejected(
            reasons.JUMP,
            f"{value:g} {q.unit} after {last.value:g} {q.unit}"
            f" {(ts_ms - last.ts_ms) / 1000:.0f} s earlier"
            f" (at most {q.max_change_per_min:g} {q.unit}/min)",
        )


class Validator:
    """Turns a :class:`Candidate` into a :class:`Reading` in canonical units, or Rejected."""

    def __init__(self, jump_guard: JumpGuard | None = None) -> None:
        self.jumps = jump_guard or JumpGuard()
        self._last_receive_ts: dict[tuple[str, str, str], int] = {}

    def _receive_time(self, c: Candidate, received_ms: int) -> int:
        """Receive time, nudged to stay strictly increasing per sensor.

        Timeless sources (ESPHome, HA) have no seq either, so two values received in the
        same millisecond would otherwise share a de-duplication key and one would be lost.
        """
        key = (c.site, c.tank, c.sensor)
        ts_ms = max(received_ms, self._last_receive_ts.get(key, -1) + 1)
        self._last_receive_ts[key] = ts_ms
        return ts_ms

    def validate(self, c: Candidate, received_ms: int) -> Reading:
        quantity = lookup(c.quantity)
        raw = parse_number(c.value)
        value = to_canonical(quantity, raw * c.scale + c.offset, c.unit)  # type: ignore[arg-type]
        check_sentinel(quantity, value)
        check_range(quantity, value)
        quality = c.quality
        if quality not in QUALITIES:
            raise Rejected(reasons.BAD_SCHEMA, f"quality {quality!r:.30} (known: ok, suspect)")
        if c.ts is None:
            ts_ms = self._receive_time(c, received_ms)
            quality = f"{quality},{RECEIVE_TIME}"
        else:
            ts_ms = parse_timestamp(c.ts, c.tz, received_ms)
            check_time(ts_ms, received_ms)
        self.jumps.check((c.site, c.tank, c.sensor, quantity.name), quantity, ts_ms, value)
        return Reading(
            ts_ms, c.site, c.tank, c.sensor, quantity.name, value, quantity.unit, quality,
            c.source, c.seq, received_ms,
        )  # fmt: skip
