"""The one interface every readings store implements.

The bridge, the CLI and the comparison code depend only on this protocol, so a keeper
can start with the embedded SQLite file and a shop can move to PostgreSQL by changing a
URL, with the same test suite proving both behave alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from tankeco.errors import TankecoError
from tankeco.store.records import (
    Aggregate,
    Batch,
    DiscoveryConfig,
    Event,
    ManualEntry,
    QuarantineRecord,
    Reading,
    RetentionResult,
    SensorState,
    WriteResult,
)


class StoreUnavailable(TankecoError):
    """The database is away (connection lost, file locked, disk full): nothing was written.

    Not the data's fault: the caller keeps what it holds and tries again later; the store
    reconnects by itself on the next call.  Any other exception from :meth:`Store.write`
    means a row of the batch cannot be stored.
    """


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

    def iter_readings(
        self, *, tank: str | None = None, since_ms: int | None = None, page: int = 10_000
    ) -> Iterator[Reading]:
        """Readings in time order, fetched a page at a time (for export)."""
        ...

    def iter_quarantined(
        self, *, since_ms: int | None = None, page: int = 1000
    ) -> Iterator[QuarantineRecord]:
        """Quarantined messages in the order received, fetched a page at a time."""
        ...

    def readings_after(
        self, after_id: int, *, tank: str | None = None, limit: int = 5000
    ) -> tuple[list[Reading], int]:
        """Readings stored after row ``after_id`` (in storing order) and the new cursor.

        ``after_id=-1`` asks only for the cursor (the last row now), with no rows.
        """
        ...

    def latest_readings(self, *, tank: str | None = None) -> list[Reading]:
        """The newest reading (by its time) of each sensor and of each quantity it sent in
        the hour before that one, ordered by site, tank, sensor and quantity."""
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

    def delete_event(self, row_id: int, *, site: str, tank: str, source: str) -> Event | None:
        """Remove one event of ``site/tank`` written by ``source``; what was removed, or None.

        For ``tankeco log undo``: only rows a keeper logged (``source`` "cli") are ever
        passed, and the conditions are part of the DELETE, so sensor readings (another
        table) and what the bridge received cannot be removed this way.
        """
        ...

    def delete_manual_entry(
        self, row_id: int, *, site: str, tank: str, source: str
    ) -> ManualEntry | None:
        """Remove one manual entry, under the same conditions as :meth:`delete_event`."""
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

    def tanks(self) -> list[str]:
        """Every tank with readings, events or manual entries, sorted by name."""
        ...

    def apply_retention(self, *, older_than_ms: int, bucket_s: int) -> RetentionResult:
        """Fold raw readings older than the cutoff into ``bucket_s`` aggregates and drop them."""
        ...

    def discovery_configs(self) -> list[DiscoveryConfig]:
        """Home Assistant discovery configs kept by the bridge, by topic."""
        ...

    def text_problem(self, text: str) -> str | None:
        """What in ``text`` this store cannot hold (say, a lone surrogate), or None."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
