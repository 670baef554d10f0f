"""The one interface every readings store implements.

The bridge, the CLI and the comparison code depend only on this protocol, so a keeper
can start with the embedded SQLite file and a shop can move to PostgreSQL by changing a
URL, with the same test suite proving both behave alike.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tankeco.store.records import (
    Aggregate,
    Batch,
    Event,
    ManualEntry,
    QuarantineRecord,
    Reading,
    RetentionResult,
    SensorState,
    WriteResult,
)


@runtime_checkable
class Store(Protocol):
    """Readings, events, manual entries, quarantine and bridge counters."""

    url: str

    def write(self, batch: Batch) -> WriteResult:
        """Write a whole batch in one transaction; duplicates are skipped and counted."""
        ...

    def readings(
        self,
        *,
        tank: str | None = None,
        sensor: str | None = None,
        quantity: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Reading]:
        """Readings in time order, optionally filtered."""
        ...

    def aggregates(
        self, *, tank: str | None = None, since_ms: int | None = None
    ) -> list[Aggregate]:
        """Downsampled buckets written by :meth:`apply_retention`, in time order."""
        ...

    def bucketed(
        self,
        *,
        bucket_ms: int,
        tank: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Aggregate]:
        """Raw readings downsampled in the database, one row per sensor and bucket."""
        ...

    def events(self, *, tank: str | None = None, since_ms: int | None = None) -> list[Event]:
        """Events in time order."""
        ...

    def manual_entries(
        self, *, tank: str | None = None, since_ms: int | None = None
    ) -> list[ManualEntry]:
        """Manual (test-kit) entries in time order."""
        ...

    def quarantined(self, *, since_ms: int | None = None) -> list[QuarantineRecord]:
        """Rejected messages in the order received."""
        ...

    def counters(self) -> dict[str, int]:
        """Bridge counters: accepted, duplicate, ``quarantined:<reason>``, ..."""
        ...

    def sensor_states(self) -> list[SensorState]:
        """Last seen, status and metadata per sensor."""
        ...

    def apply_retention(self, *, older_than_ms: int, bucket_s: int) -> RetentionResult:
        """Fold raw readings older than the cutoff into ``bucket_s`` aggregates and drop them."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
