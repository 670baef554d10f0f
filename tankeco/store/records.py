"""Plain records that cross the store boundary.

They are frozen dataclasses rather than ORM objects so the bridge, the CLI and the tests
can build them without a database, and both backends read and write exactly the same
shape.  Times are integer milliseconds since the Unix epoch (UTC) because both SQLite and
PostgreSQL index and compare integers the same way; values are in canonical units, with
the unit string stored next to them so an exported row explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: ``seq`` stored for sources that do not number their messages (ESPHome, Tasmota):
#: a concrete value, not NULL, so the unique constraint still de-duplicates them.
NO_SEQ = -1


@dataclass(frozen=True)
class Reading:
    """One accepted sensor value, in the canonical unit of its quantity."""

    ts_ms: int
    site: str
    tank: str
    sensor: str
    quantity: str
    value: float
    unit: str
    quality: str = "ok"
    source: str = ""
    seq: int = NO_SEQ
    received_ms: int = 0


@dataclass(frozen=True)
class Event:
    """Something done to the tank: a feeding, a water change, a dose."""

    ts_ms: int
    site: str
    tank: str
    kind: str
    amount: float | None
    unit: str
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class ManualEntry:
    """A value read by eye (test-kit colour card), kept as entered and in canonical units.

    ``off_card`` is true when the entered value is not one of the kit's colour-card steps:
    it is kept as entered and flagged, never rounded to the nearest step.
    """

    ts_ms: int
    site: str
    tank: str
    quantity: str
    value: float
    unit: str
    value_entered: float
    unit_entered: str
    kit: str = ""
    off_card: bool = False
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class QuarantineRecord:
    """A message that was not let in, with the exact bytes received and why."""

    received_ms: int
    topic: str
    payload: bytes
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class SensorState:
    """The last thing known about one sensor: when it was last heard, status, metadata."""

    site: str
    tank: str
    sensor: str
    last_seen_ms: int | None = None
    status: str | None = None
    meta_json: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """Downsampled readings: count, mean, min and max of one sensor over one bucket."""

    site: str
    tank: str
    sensor: str
    quantity: str
    unit: str
    bucket_s: int
    bucket_start_ms: int
    n: int
    mean: float
    min: float
    max: float


@dataclass
class Batch:
    """Everything decoded from a group of messages, written in one transaction.

    Writing readings, quarantine and the counters together means a crash never leaves
    counters that disagree with the rows, and the bridge acknowledges the messages only
    after the transaction has committed.
    """

    readings: list[Reading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    manual: list[ManualEntry] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    sensor_states: list[SensorState] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return (
            len(self.readings)
            + len(self.events)
            + len(self.manual)
            + len(self.quarantine)
            + len(self.sensor_states)
        )

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` (written with the batch)."""
        self.counters[name] = self.counters.get(name, 0) + n


@dataclass(frozen=True)
class WriteResult:
    """How many rows of a batch were new and how many were already stored."""

    readings_inserted: int
    readings_duplicate: int
    events_inserted: int = 0
    manual_inserted: int = 0
    quarantined: int = 0


@dataclass(frozen=True)
class RetentionResult:
    """What a retention pass did: raw rows folded into aggregates, then deleted."""

    readings_aggregated: int
    buckets_written: int
