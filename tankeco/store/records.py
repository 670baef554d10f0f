"""Plain records that cross the store boundary.

They are frozen dataclasses rather than ORM objects so the bridge, the CLI and the tests
can build them without a database, and both backends read and write exactly the same
shape.  Times are integer milliseconds since the Unix epoch (UTC) because both SQLite and
PostgreSQL index and compare integers the same way; values are in canonical units, with
the unit string stored next to them so an exported row explains itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

#: ``seq`` stored for sources that do not number their messages (ESPHome, Tasmota):
#: a concrete value, not NULL, so the unique constraint still de-duplicates them.
NO_SEQ = -1

#: Largest part of a quarantined payload that is stored, in bytes (the rest is described
#: by its size and SHA-256): enough to read what a device sent, bounded under a flood.
QUARANTINE_KEEP_BYTES = 4096


def escape_text(text: str) -> str:
    """``text`` with what no store can hold escaped: lone surrogates and U+0000.

    Used for the topic and detail of quarantine rows, so the row explaining a bad message
    can always be written (``"\\ud800"`` and ``"\\x00"`` instead of the characters).
    """
    if text.isascii() and "\x00" not in text:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


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
    #: For a message the broker sent again (MQTT DUP flag): an identical event (same tank,
    #: kind and content) stored at or after this time is this message, not a new one.
    #: Needed because an event without its own ``ts`` takes the receive time, which
    #: differs on redelivery.  Not stored.
    dedup_since_ms: int | None = field(default=None, compare=False, repr=False)
    #: The store's row id, set on records read back (``tankeco log list`` shows it and
    #: ``tankeco log undo`` takes it); None on a record not stored yet.
    row_id: int | None = field(default=None, compare=False)


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
    #: As :attr:`Event.dedup_since_ms`: set for a redelivered message, not stored.
    dedup_since_ms: int | None = field(default=None, compare=False, repr=False)
    #: As :attr:`Event.row_id`: the store's row id, on records read back.
    row_id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class QuarantineRecord:
    """A message that was not let in, with its bytes (or a bounded prefix of them) and why.

    ``payload`` is the payload as received, cut to at most
    :data:`QUARANTINE_KEEP_BYTES`; ``payload_size`` and ``payload_sha256`` describe the
    whole payload, so an oversize message can still be identified without storing it.
    """

    received_ms: int
    topic: str
    payload: bytes
    reason: str
    detail: str = ""
    payload_size: int = -1
    payload_sha256: str = ""
    #: As :attr:`Event.dedup_since_ms`: a redelivered message already quarantined (same
    #: topic and SHA-256) at or after this time is not quarantined twice.  Not stored.
    dedup_since_ms: int | None = field(default=None, compare=False, repr=False)
    #: The row's unique key in the store: writing the same record again (a batch retried
    #: after the store died half-way through it) adds no second row.  Empty: the store
    #: gives the row a key of its own (every write of such a record is a new row).
    ident: str = field(default="", compare=False, repr=False)

    @classmethod
    def of(
        cls,
        received_ms: int,
        topic: str,
        payload: bytes,
        reason: str,
        detail: str = "",
        dedup_since_ms: int | None = None,
        arrival: str | None = None,
    ) -> QuarantineRecord:
        """A record keeping a bounded prefix, the full size and the SHA-256 of ``payload``.

        ``arrival`` names the receipt of the message (the bridge passes its receive time and
        its running message number), so each quarantine row of one receipt gets the same
        :attr:`ident` however often it is built; without it the ident is random.
        """
        digest = hashlib.sha256(payload).hexdigest()
        topic, detail = escape_text(topic), escape_text(detail)
        return cls(
            received_ms,
            topic,
            bytes(payload[:QUARANTINE_KEEP_BYTES]),
            reason,
            detail,
            len(payload),
            digest,
            dedup_since_ms,
            quarantine_ident(arrival or secrets.token_hex(12), topic, digest, reason, detail),
        )


def quarantine_ident(arrival: str, topic: str, sha256: str, reason: str, detail: str) -> str:
    """The key of a quarantine row: SHA-256 (first 128 bits) of its receipt and content."""
    text = "\x1f".join((arrival, topic, sha256, reason, detail))
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:32]


@dataclass(frozen=True)
class DiscoveryConfig:
    """A Home Assistant discovery config the bridge acted on, kept so a restart re-reads it.

    Brokers do not send retained messages again to a resumed session, so without this a
    restarted bridge would no longer know which state topics belong to which sensor.
    An empty ``payload`` removes the config (HA's convention).
    """

    topic: str
    payload: bytes
    received_ms: int


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
    discovery: list[DiscoveryConfig] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    #: Readings heard now (the bridge): a sensor is last seen at max(received, measured).
    #: False for history brought in from a file (``tankeco import``): the sensor is last
    #: seen when it measured, so importing last month does not make a dead probe look alive.
    live: bool = True

    def __len__(self) -> int:
        return (
            len(self.readings)
            + len(self.events)
            + len(self.manual)
            + len(self.quarantine)
            + len(self.sensor_states)
            + len(self.discovery)
        )

    def mark(self) -> tuple[int, int, int, int, int, int]:
        """Where each list ends now: taken after each message so a batch can be split."""
        return (
            len(self.readings),
            len(self.events),
            len(self.manual),
            len(self.quarantine),
            len(self.sensor_states),
            len(self.discovery),
        )

    def between(
        self, start: tuple[int, int, int, int, int, int], end: tuple[int, int, int, int, int, int]
    ) -> Batch:
        """The rows added between two :meth:`mark` s (without counters)."""
        return Batch(
            self.readings[start[0] : end[0]],
            self.events[start[1] : end[1]],
            self.manual[start[2] : end[2]],
            self.quarantine[start[3] : end[3]],
            self.sensor_states[start[4] : end[4]],
            self.discovery[start[5] : end[5]],
            live=self.live,
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
    #: Events and manual entries already stored (a redelivery or a repeat of the message).
    events_duplicate: int = 0
    manual_duplicate: int = 0


@dataclass(frozen=True)
class RetentionResult:
    """What a retention pass did: raw rows folded into aggregates, then deleted."""

    readings_aggregated: int
    buckets_written: int
