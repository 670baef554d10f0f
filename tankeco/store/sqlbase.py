"""The SQL shared by both backends, written once with ``?`` parameters.

SQLite and PostgreSQL agree on almost everything the store needs (``ON CONFLICT``,
``excluded.``, integer division for time buckets), so one implementation with a small
:class:`Dialect` keeps the two backends from drifting apart.  Values only ever travel as
bound parameters; the only text spliced into SQL is the dialect's type names and the
placeholder style, which are constants of this module.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tankeco.errors import UserError
from tankeco.store.base import StoreUnavailable
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


@dataclass(frozen=True)
class Dialect:
    """What differs between the backends: placeholders and a few type names."""

    name: str
    placeholder: str
    id_column: str
    float_type: str
    blob_type: str
    #: Whether text columns can hold U+0000 (SQLite can, PostgreSQL cannot).
    allows_nul: bool

    def sql(self, text: str) -> str:
        """Turn a ``?``-parameter statement into this dialect's placeholder style."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "?", "INTEGER PRIMARY KEY AUTOINCREMENT", "REAL", "BLOB", True)
POSTGRES = Dialect(
    "postgresql",
    "%s",
    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "DOUBLE PRECISION",
    "BYTEA",
    False,
)

#: 2: events and manual entries keyed by their content (``ident``), quarantine keeps the
#: size and SHA-256 of the payload, Home Assistant discovery configs are kept.
#: 3: quarantine rows have a unique key (``ident``), so a retried batch adds none twice.
SCHEMA_VERSION = 3


def ddl(d: Dialect) -> list[str]:
    """CREATE statements for every table and index (idempotent)."""
    f, b = d.float_type, d.blob_type
    return [
        f"""CREATE TABLE IF NOT EXISTS readings (
            id {d.id_column},
            ts_ms BIGINT NOT NULL, site TEXT NOT NULL, tank TEXT NOT NULL, sensor TEXT NOT NULL,
            quantity TEXT NOT NULL, value {f} NOT NULL, unit TEXT NOT NULL,
            quality TEXT NOT NULL, source TEXT NOT NULL, seq BIGINT NOT NULL,
            received_ms BIGINT NOT NULL,
            CONSTRAINT readings_dedup UNIQUE (site, tank, sensor, ts_ms, seq))""",
        "CREATE INDEX IF NOT EXISTS readings_tank_ts ON readings (tank, ts_ms)",
        "CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts_ms)",
        f"""CREATE TABLE IF NOT EXISTS readings_agg (
            site TEXT NOT NULL, tank TEXT NOT NULL, sensor TEXT NOT NULL,
            quantity TEXT NOT NULL, unit TEXT NOT NULL, bucket_s BIGINT NOT NULL,
            bucket_start_ms BIGINT NOT NULL, n BIGINT NOT NULL, mean {f} NOT NULL,
            min {f} NOT NULL, max {f} NOT NULL,
            CONSTRAINT readings_agg_key
                UNIQUE (site, tank, sensor, quantity, unit, bucket_s, bucket_start_ms))""",
        f"""CREATE TABLE IF NOT EXISTS events (
            id {d.id_column},
            ts_ms BIGINT NOT NULL, site TEXT NOT NULL, tank TEXT NOT NULL, kind TEXT NOT NULL,
            amount {f}, unit TEXT NOT NULL, note TEXT NOT NULL, source TEXT NOT NULL,
            ident TEXT NOT NULL,
            CONSTRAINT events_dedup2 UNIQUE (site, tank, kind, ts_ms, ident))""",
        "CREATE INDEX IF NOT EXISTS events_ident ON events (site, tank, ident, ts_ms)",
        f"""CREATE TABLE IF NOT EXISTS manual_entries (
            id {d.id_column},
            ts_ms BIGINT NOT NULL, site TEXT NOT NULL, tank TEXT NOT NULL,
            quantity TEXT NOT NULL, value {f} NOT NULL, unit TEXT NOT NULL,
            value_entered {f} NOT NULL, unit_entered TEXT NOT NULL, kit TEXT NOT NULL,
            off_card INTEGER NOT NULL, note TEXT NOT NULL, source TEXT NOT NULL,
            ident TEXT NOT NULL,
            CONSTRAINT manual_dedup2 UNIQUE (site, tank, quantity, ts_ms, ident))""",
        "CREATE INDEX IF NOT EXISTS manual_ident ON manual_entries (site, tank, ident, ts_ms)",
        f"""CREATE TABLE IF NOT EXISTS quarantine (
            id {d.id_column},
            received_ms BIGINT NOT NULL, topic TEXT NOT NULL, payload {b} NOT NULL,
            reason TEXT NOT NULL, detail TEXT NOT NULL,
            payload_size BIGINT NOT NULL DEFAULT -1, payload_sha256 TEXT NOT NULL DEFAULT '',
            ident TEXT NOT NULL DEFAULT '')""",
        "CREATE UNIQUE INDEX IF NOT EXISTS quarantine_ident ON quarantine (ident)",
        f"""CREATE TABLE IF NOT EXISTS ha_discovery (
            topic TEXT PRIMARY KEY, payload {b} NOT NULL, received_ms BIGINT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS quarantine_received ON quarantine (received_ms)",
        "CREATE INDEX IF NOT EXISTS quarantine_sha256 ON quarantine (payload_sha256)",
        """CREATE TABLE IF NOT EXISTS bridge_counters (
            name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS sensor_state (
            site TEXT NOT NULL, tank TEXT NOT NULL, sensor TEXT NOT NULL,
            last_seen_ms BIGINT, status TEXT, meta_json TEXT,
            PRIMARY KEY (site, tank, sensor))""",
        """CREATE TABLE IF NOT EXISTS store_meta (
            name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    ]


#: How far before a sensor's newest reading :meth:`SqlStore.latest_readings` looks for
#: the other quantities the same sensor sends (they come together).
LATEST_WINDOW_MS = 3_600_000

_INSERT_READING = """INSERT INTO readings
    (ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq, received_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, tank, sensor, ts_ms, seq) DO NOTHING"""
_EVENT_COLUMNS = "ts_ms, site, tank, kind, amount, unit, note, source, ident"
_INSERT_EVENT = f"""INSERT INTO events ({_EVENT_COLUMNS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, tank, kind, ts_ms, ident) DO NOTHING"""
#: A redelivered event: skipped if an identical one is stored at or after the given time.
_INSERT_EVENT_REDELIVERED = """INSERT INTO events ({cols})
    SELECT ?, ?, ?, ?, CAST(? AS {f}), ?, ?, ?, ?
    WHERE NOT EXISTS (SELECT 1 FROM events
                      WHERE site = ? AND tank = ? AND ident = ? AND ts_ms >= ?)
    ON CONFLICT (site, tank, kind, ts_ms, ident) DO NOTHING"""
_MANUAL_COLUMNS = """ts_ms, site, tank, quantity, value, unit, value_entered, unit_entered, kit,
    off_card, note, source, ident"""
#: The columns read back into an :class:`Event` / a :class:`ManualEntry`, in field order.
_EVENT_FIELDS = "ts_ms, site, tank, kind, amount, unit, note, source"
_MANUAL_FIELDS = (
    "ts_ms, site, tank, quantity, value, unit, value_entered, unit_entered, kit, off_card,"
    " note, source"
)


def _event(row: Sequence[Any]) -> Event:
    """An :class:`Event` from ``_EVENT_FIELDS`` followed by the row id."""
    return Event(*row[:8], row_id=int(row[8]))


def _manual(row: Sequence[Any]) -> ManualEntry:
    """A :class:`ManualEntry` from ``_MANUAL_FIELDS`` followed by the row id."""
    return ManualEntry(*row[:9], bool(row[9]), *row[10:12], row_id=int(row[12]))


_INSERT_MANUAL = f"""INSERT INTO manual_entries ({_MANUAL_COLUMNS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, tank, quantity, ts_ms, ident) DO NOTHING"""
_INSERT_MANUAL_REDELIVERED = """INSERT INTO manual_entries ({cols})
    SELECT ?, ?, ?, ?, CAST(? AS {f}), ?, CAST(? AS {f}), ?, ?, ?, ?, ?, ?
    WHERE NOT EXISTS (SELECT 1 FROM manual_entries
                      WHERE site = ? AND tank = ? AND ident = ? AND ts_ms >= ?)
    ON CONFLICT (site, tank, quantity, ts_ms, ident) DO NOTHING"""
_INSERT_QUARANTINE = """INSERT INTO quarantine
    (received_ms, topic, payload, reason, detail, payload_size, payload_sha256, ident)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ident) DO NOTHING"""
_INSERT_QUARANTINE_REDELIVERED = """INSERT INTO quarantine
    (received_ms, topic, payload, reason, detail, payload_size, payload_sha256, ident)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?
    WHERE NOT EXISTS (SELECT 1 FROM quarantine
                      WHERE payload_sha256 = ? AND topic = ? AND received_ms >= ?)
    ON CONFLICT (ident) DO NOTHING"""
#: Quarantine keys looked up per statement (well under SQLite's 32 766 parameters).
_IDENT_CHUNK = 500
_UPSERT_DISCOVERY = """INSERT INTO ha_discovery (topic, payload, received_ms) VALUES (?, ?, ?)
    ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload,
      received_ms = excluded.received_ms"""
_DELETE_DISCOVERY = "DELETE FROM ha_discovery WHERE topic = ?"
_BUMP_COUNTER = """INSERT INTO bridge_counters (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = bridge_counters.value + excluded.value"""
_UPSERT_SENSOR = """INSERT INTO sensor_state (site, tank, sensor, last_seen_ms, status, meta_json)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, tank, sensor) DO UPDATE SET
      last_seen_ms = CASE
        WHEN excluded.last_seen_ms IS NULL THEN sensor_state.last_seen_ms
        WHEN sensor_state.last_seen_ms IS NULL THEN excluded.last_seen_ms
        WHEN excluded.last_seen_ms > sensor_state.last_seen_ms THEN excluded.last_seen_ms
        ELSE sensor_state.last_seen_ms END,
      status = COALESCE(excluded.status, sensor_state.status),
      meta_json = COALESCE(excluded.meta_json, sensor_state.meta_json)"""
_AGGREGATE = """INSERT INTO readings_agg
    (site, tank, sensor, quantity, unit, bucket_s, bucket_start_ms, n, mean, min, max)
    SELECT site, tank, sensor, quantity, unit, ?, bucket_start_ms, COUNT(*), AVG(value),
           MIN(value), MAX(value)
    FROM (SELECT site, tank, sensor, quantity, unit, value, (ts_ms / ?) * ? AS bucket_start_ms
          FROM readings WHERE ts_ms < ?) AS old
    WHERE true
    GROUP BY site, tank, sensor, quantity, unit, bucket_start_ms
    ON CONFLICT (site, tank, sensor, quantity, unit, bucket_s, bucket_start_ms) DO UPDATE SET
      mean = (readings_agg.mean * readings_agg.n + excluded.mean * excluded.n)
             / (readings_agg.n + excluded.n),
      n = readings_agg.n + excluded.n,
      min = CASE WHEN excluded.min < readings_agg.min THEN excluded.min ELSE readings_agg.min END,
      max = CASE WHEN excluded.max > readings_agg.max THEN excluded.max ELSE readings_agg.max END"""

#: :meth:`SqlStore.latest_readings` in one statement; ``{where}`` takes a filter on ``s``.
#: For each sensor ``s``: ``n``, its newest time (one step back in the unique key's index);
#: ``h``, its readings of the hour before (a range of the same index), numbered newest first
#: per quantity; ``r``, the whole rows of the firsts, by id.  Numbering only ids and
#: joining back halves the time of numbering whole rows (83 ms against 145 ms for 800
#: sensors at a reading a minute).  ``CROSS JOIN`` keeps ``sensor_state`` the outer loop
#: on SQLite (left to itself, its planner scanned all of ``readings``: 9 s for a week).
LATEST_READINGS = """SELECT r.ts_ms, r.site, r.tank, r.sensor, r.quantity, r.value, r.unit,
    r.quality, r.source, r.seq, r.received_ms
    FROM (SELECT id FROM (
            SELECT h.id, ROW_NUMBER() OVER (PARTITION BY h.site, h.tank, h.sensor, h.quantity
                                            ORDER BY h.ts_ms DESC, h.id DESC) AS newest
            FROM sensor_state s CROSS JOIN readings h
            WHERE h.site = s.site AND h.tank = s.tank AND h.sensor = s.sensor
              AND h.ts_ms >= (SELECT n.ts_ms FROM readings n
                              WHERE n.site = s.site AND n.tank = s.tank AND n.sensor = s.sensor
                              ORDER BY n.ts_ms DESC LIMIT 1) - ?{where}) AS w
          WHERE newest = 1) AS k
    CROSS JOIN readings r WHERE r.id = k.id
    ORDER BY r.site, r.tank, r.sensor, r.quantity"""


def _where(filters: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """``WHERE`` clause from (fixed SQL condition with one ``?``, value) pairs; None skipped."""
    parts: list[str] = []
    params: list[Any] = []
    for cond, value in filters:
        if value is not None:
            parts.append(cond)
            params.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def content_ident(*parts: object) -> str:
    """A short, stable hash of a record's content (``repr`` of each part, SHA-256, 96 bits).

    Events and manual entries are keyed by (tank, kind or quantity, time, this), so two
    different entries in the same millisecond are both kept while the same entry sent
    twice is stored once.
    """
    return hashlib.sha256(repr(parts).encode("utf-8", "backslashreplace")).hexdigest()[:24]


def event_ident(e: Event) -> str:
    return content_ident(e.kind, e.amount, e.unit, e.note, e.source)


def manual_ident(m: ManualEntry) -> str:
    return content_ident(m.quantity, m.value_entered, m.unit_entered, m.kit, m.note, m.source)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class SqlStore:
    """The :class:`~tankeco.store.base.Store` implementation over a DB-API connection.

    Subclasses open the connection (:meth:`_connect`), say which :class:`Dialect` it
    speaks and which errors mean "the database is away" (:meth:`_is_unavailable`);
    everything else, including the transaction around each batch, lives here.

    A connection that fails with such an error is dropped and opened again on the next
    call (the caller sees :class:`StoreUnavailable` once and retries with backoff), so a
    PostgreSQL restart, failover or ``pg_terminate_backend`` never needs a person.
    """

    dialect: Dialect
    url: str

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = self._connect()
        self._prepare_schema()

    # -- plumbing -------------------------------------------------------------------
    def _connect(self) -> Any:
        """Open a connection ready for use (backend-specific)."""
        raise NotImplementedError

    def _is_unavailable(self, exc: BaseException) -> bool:
        """True if ``exc`` means the database (not the data) is the problem."""
        raise NotImplementedError

    def _has_table(self, cur: Any, name: str) -> bool:
        """Whether a table of this store exists yet (backend-specific catalog query)."""
        raise NotImplementedError

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One transaction on a live connection; reconnects, and maps outages."""
        if self._conn is None:
            try:
                self._conn = self._connect()
            except Exception as exc:
                raise StoreUnavailable(f"{self.url}: {_first_line(exc)}") from exc
        try:
            with self._transaction() as cur:
                yield cur
        except StoreUnavailable:
            raise
        except Exception as exc:
            if self._is_unavailable(exc):
                self._drop_connection()
                raise StoreUnavailable(f"{self.url}: {_first_line(exc)}") from exc
            raise

    def _schema_version(self, cur: Any) -> int | None:
        if not self._has_table(cur, "store_meta"):
            return None
        cur.execute(
            self.dialect.sql("SELECT value FROM store_meta WHERE name = ?"), ("schema_version",)
        )
        row = cur.fetchone()
        return int(row[0]) if row else None

    def _prepare_schema(self) -> None:
        """Create or migrate the tables; run no DDL at all when they are current.

        Running none lets a least-privilege role (INSERT/SELECT only) open a store that
        its owner created.
        """
        with self._tx() as cur:
            version = self._schema_version(cur)
        if version == SCHEMA_VERSION:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise UserError(
                f"store {self.url}: schema version {version} is newer than this tankeco"
                f" reads ({SCHEMA_VERSION}); upgrade tankeco"
            )
        with self._tx() as cur:
            self._lock_for_ddl(cur)
            version = self._schema_version(cur)
            if version == SCHEMA_VERSION:
                return
            if version in (1, 2):
                # Old rows keep their id as key: each was one quarantined message.
                cur.execute("ALTER TABLE quarantine ADD COLUMN ident TEXT NOT NULL DEFAULT ''")
                cur.execute("UPDATE quarantine SET ident = 'v2:' || CAST(id AS TEXT)")
            if version == 1:
                cur.execute("ALTER TABLE events RENAME TO events_v1")
                cur.execute("ALTER TABLE manual_entries RENAME TO manual_entries_v1")
                for col in (
                    "payload_size BIGINT NOT NULL DEFAULT -1",
                    "payload_sha256 TEXT NOT NULL DEFAULT ''",
                ):
                    cur.execute(f"ALTER TABLE quarantine ADD COLUMN {col}")
            for stmt in ddl(self.dialect):
                cur.execute(stmt)
            if version == 1:
                # Old rows keep their id as identity: they were unique under the old key.
                for table, cols in (
                    ("events", _EVENT_COLUMNS),
                    ("manual_entries", _MANUAL_COLUMNS),
                ):
                    old = cols.replace("ident", "'v1:' || CAST(id AS TEXT)")
                    cur.execute(
                        f"INSERT INTO {table} ({cols}) SELECT {old} FROM {table}_v1 ORDER BY id"
                    )
                    cur.execute(f"DROP TABLE {table}_v1")
            cur.execute(
                self.dialect.sql(
                    "INSERT INTO store_meta (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                ),
                ("schema_version", str(SCHEMA_VERSION)),
            )

    def _lock_for_ddl(self, cur: Any) -> None:
        """Serialise schema creation between processes (SQLite's write lock already does)."""

    def _transaction(self) -> Any:
        """Context manager yielding a cursor inside one transaction (backend-specific)."""
        raise NotImplementedError

    def _executemany(self, cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement per row; return how many rows it changed in total."""
        if not rows:
            return 0
        cur.executemany(self.dialect.sql(sql), rows)
        return max(cur.rowcount, 0)

    def _insert_readings(self, cur: Any, readings: Sequence[Reading]) -> int:
        """Insert readings not stored yet (by their unique key); return how many were new."""
        return self._executemany(
            cur,
            _INSERT_READING,
            [
                (
                    r.ts_ms, r.site, r.tank, r.sensor, r.quantity, float(r.value), r.unit,
                    r.quality, r.source, r.seq, r.received_ms,
                )
                for r in readings
            ],
        )  # fmt: skip

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read; after an outage it is tried once more on a new connection."""
        for attempt in (1, 2):
            try:
                with self._tx() as cur:
                    cur.execute(self.dialect.sql(sql), tuple(params))
                    return list(cur.fetchall())
            except StoreUnavailable:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def text_problem(self, text: str) -> str | None:
        """What in ``text`` this store cannot hold, or None.

        SQLite stores UTF-8, which has no encoding for a lone surrogate (U+D800-U+DFFF,
        what a JSON ``"\\ud800"`` escape decodes to); PostgreSQL also refuses U+0000 in
        ``text`` (PostgreSQL documentation, "Character Types": "the character with code
        zero cannot be stored").
        """
        if text.isascii():
            if self.dialect.allows_nul or "\x00" not in text:
                return None
            return f"U+0000 at position {text.index(chr(0))} (PostgreSQL cannot store it)"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"lone surrogate U+{ord(text[exc.start]):04X} at position {exc.start}"
        if not self.dialect.allows_nul and "\x00" in text:
            return f"U+0000 at position {text.index(chr(0))} (PostgreSQL cannot store it)"
        return None

    # -- writing --------------------------------------------------------------------
    def write(self, batch: Batch) -> WriteResult:
        """Write the batch in one transaction and bump the counters that describe it.

        Raises :class:`StoreUnavailable` (nothing written, try again later) when the
        database is away, and the driver's own error when a row cannot be stored.
        """
        counters = dict(batch.counters)
        last_seen: dict[tuple[str, str, str], int] = {}
        for r in batch.readings:
            key = (r.site, r.tank, r.sensor)
            seen = max(r.received_ms, r.ts_ms) if batch.live else r.ts_ms
            if seen > last_seen.get(key, -1):
                last_seen[key] = seen
        states = [SensorState(s, t, n, ms) for (s, t, n), ms in last_seen.items()]
        states.extend(batch.sensor_states)
        f = self.dialect.float_type
        events_new = [
            (e.ts_ms, e.site, e.tank, e.kind, e.amount, e.unit, e.note, e.source, event_ident(e))
            for e in batch.events
            if e.dedup_since_ms is None
        ]
        events_again = [
            (e.ts_ms, e.site, e.tank, e.kind, e.amount, e.unit, e.note, e.source, ident,
             e.site, e.tank, ident, e.dedup_since_ms)
            for e in batch.events
            if e.dedup_since_ms is not None
            for ident in (event_ident(e),)
        ]  # fmt: skip
        manual_new = [
            (
                m.ts_ms, m.site, m.tank, m.quantity, m.value, m.unit, m.value_entered,
                m.unit_entered, m.kit, int(m.off_card), m.note, m.source, manual_ident(m),
            )
            for m in batch.manual
            if m.dedup_since_ms is None
        ]  # fmt: skip
        manual_again = [
            (
                m.ts_ms, m.site, m.tank, m.quantity, m.value, m.unit, m.value_entered,
                m.unit_entered, m.kit, int(m.off_card), m.note, m.source, ident,
                m.site, m.tank, ident, m.dedup_since_ms,
            )
            for m in batch.manual
            if m.dedup_since_ms is not None
            for ident in (manual_ident(m),)
        ]  # fmt: skip
        with self._tx() as cur:
            inserted = self._insert_readings(cur, batch.readings)
            events = self._executemany(cur, _INSERT_EVENT, events_new)
            events += self._executemany(
                cur, _INSERT_EVENT_REDELIVERED.format(cols=_EVENT_COLUMNS, f=f), events_again
            )
            manual = self._executemany(cur, _INSERT_MANUAL, manual_new)
            manual += self._executemany(
                cur, _INSERT_MANUAL_REDELIVERED.format(cols=_MANUAL_COLUMNS, f=f), manual_again
            )
            quarantined = self._insert_quarantine(cur, batch.quarantine)
            for q in quarantined:
                counters["quarantined"] = counters.get("quarantined", 0) + 1
                name = f"quarantined:{q.reason}"
                counters[name] = counters.get(name, 0) + 1
            latest = {d.topic: d for d in batch.discovery}
            self._executemany(
                cur,
                _UPSERT_DISCOVERY,
                [(d.topic, bytes(d.payload), d.received_ms) for d in latest.values() if d.payload],
            )
            self._executemany(
                cur, _DELETE_DISCOVERY, [(d.topic,) for d in latest.values() if not d.payload]
            )
            duplicate = len(batch.readings) - inserted
            events_dup = len(batch.events) - events
            manual_dup = len(batch.manual) - manual
            counters["accepted"] = counters.get("accepted", 0) + inserted
            counters["duplicate"] = counters.get("duplicate", 0) + duplicate
            counters["events"] = counters.get("events", 0) + events
            counters["events_duplicate"] = counters.get("events_duplicate", 0) + events_dup
            counters["manual"] = counters.get("manual", 0) + manual
            counters["manual_duplicate"] = counters.get("manual_duplicate", 0) + manual_dup
            self._executemany(cur, _BUMP_COUNTER, sorted((k, v) for k, v in counters.items() if v))
            self._executemany(
                cur,
                _UPSERT_SENSOR,
                sorted(
                    (s.site, s.tank, s.sensor, s.last_seen_ms, s.status, s.meta_json)
                    for s in _merge_states(states)
                ),
            )
        return WriteResult(
            inserted, duplicate, events, manual, len(quarantined), events_dup, manual_dup
        )

    def _insert_quarantine(
        self, cur: Any, records: Sequence[QuarantineRecord]
    ) -> list[QuarantineRecord]:
        """Insert the records not stored yet (by :attr:`QuarantineRecord.ident`); return them.

        A batch written again after the store died part of the way through it (in the
        bridge's isolation of a refused message, say) finds its quarantine rows by their
        keys and adds none twice; a redelivered message (``dedup_since_ms``) is also
        skipped if the same payload on the same topic was quarantined since then.
        """
        if not records:
            return []
        keyed = [(q.ident or secrets.token_hex(16), q) for q in records]
        seen: set[str] = set()
        for i in range(0, len(keyed), _IDENT_CHUNK):
            chunk = [k for k, _ in keyed[i : i + _IDENT_CHUNK]]
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                self.dialect.sql(f"SELECT ident FROM quarantine WHERE ident IN ({marks})"), chunk
            )
            seen.update(row[0] for row in cur.fetchall())
        fresh: list[QuarantineRecord] = []
        rows: list[tuple[Any, ...]] = []
        for ident, q in keyed:
            if ident in seen:
                continue
            seen.add(ident)
            row = (q.received_ms, q.topic, bytes(q.payload), q.reason, q.detail,
                   q.payload_size, q.payload_sha256, ident)  # fmt: skip
            if q.dedup_since_ms is None:
                rows.append(row)
                fresh.append(q)
            elif self._executemany(
                cur,
                _INSERT_QUARANTINE_REDELIVERED,
                [(*row, q.payload_sha256, q.topic, q.dedup_since_ms)],
            ):
                fresh.append(q)
        self._executemany(cur, _INSERT_QUARANTINE, rows)
        return fresh

    def discovery_configs(self) -> list[DiscoveryConfig]:
        rows = self._query("SELECT topic, payload, received_ms FROM ha_discovery ORDER BY topic")
        return [DiscoveryConfig(r[0], bytes(r[1]), int(r[2])) for r in rows]

    # -- reading --------------------------------------------------------------------
    def readings(
        self,
        *,
        tank: str | None = None,
        sensor: str | None = None,
        quantity: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Reading]:
        where, params = _where(
            [
                ("tank = ?", tank),
                ("sensor = ?", sensor),
                ("quantity = ?", quantity),
                ("ts_ms >= ?", since_ms),
                ("ts_ms < ?", until_ms),
            ]
        )
        rows = self._query(
            "SELECT ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq,"
            " received_ms FROM readings" + where + " ORDER BY ts_ms, site, tank, sensor, seq",
            params,
        )
        return [Reading(*row) for row in rows]

    def iter_readings(
        self, *, tank: str | None = None, since_ms: int | None = None, page: int = 10_000
    ) -> Iterator[Reading]:
        """Readings in time order, read ``page`` rows at a time (keyset on time, id).

        For export: a million readings never sit in memory at once, and each page is one
        short query (no transaction held open while the caller writes a file).
        """
        last: tuple[int, int] | None = None
        while True:
            conds = [("tank = ?", tank), ("ts_ms >= ?", since_ms)]
            where, params = _where(conds)
            if last is not None:
                where += (" AND " if where else " WHERE ") + "(ts_ms > ? OR (ts_ms = ? AND id > ?))"
                params += [last[0], last[0], last[1]]
            rows = self._query(
                "SELECT ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq,"
                " received_ms, id FROM readings" + where + " ORDER BY ts_ms, id LIMIT ?",
                [*params, int(page)],
            )
            for row in rows:
                yield Reading(*row[:11])
            if len(rows) < page:
                return
            last = (int(rows[-1][0]), int(rows[-1][11]))

    def iter_quarantined(
        self, *, since_ms: int | None = None, page: int = 1000
    ) -> Iterator[QuarantineRecord]:
        """Quarantined messages in the order received, ``page`` rows at a time."""
        last_id = 0
        while True:
            where, params = _where([("received_ms >= ?", since_ms), ("id > ?", last_id)])
            rows = self._query(
                "SELECT received_ms, topic, payload, reason, detail, payload_size,"
                " payload_sha256, id FROM quarantine" + where + " ORDER BY id LIMIT ?",
                [*params, int(page)],
            )
            for r in rows:
                yield QuarantineRecord(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6])
            if len(rows) < page:
                return
            last_id = int(rows[-1][7])

    def readings_after(
        self, after_id: int, *, tank: str | None = None, limit: int = 5000
    ) -> tuple[list[Reading], int]:
        """Rows with an id above the cursor, in id order, at most ``limit`` of them.

        What the live dashboard polls: each poll reads only rows it has not seen, through
        the primary key, instead of re-reading a time window.  Ids grow in commit order
        with one writer (SQLite always; one bridge on PostgreSQL).  With several
        PostgreSQL writers a row can commit after one with a higher id: the live stream
        then misses it and the chart shows it at its next refresh.
        """
        if after_id < 0:
            ((last,),) = self._query("SELECT COALESCE(MAX(id), 0) FROM readings")
            return [], int(last)
        where, params = _where([("id > ?", after_id), ("tank = ?", tank)])
        rows = self._query(
            "SELECT ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq,"
            " received_ms, id FROM readings" + where + " ORDER BY id LIMIT ?",
            [*params, int(limit)],
        )
        if not rows:
            return [], after_id
        return [Reading(*row[:11]) for row in rows], int(rows[-1][11])

    def latest_readings(self, *, tank: str | None = None) -> list[Reading]:
        """The newest reading of each sensor, and of each other quantity it sent within
        :data:`LATEST_WINDOW_MS` before that one, by reading time.

        For a publisher that starts up and must show every sensor's current value (Home
        Assistant), and for the overview of every tank, which asks every few seconds.  One
        statement (:data:`LATEST_READINGS`) whatever the number of sensors: for each sensor
        of ``sensor_state``, its newest time is one step back in the index of the readings'
        unique key (site, tank, sensor, ts_ms, seq) and its last hour a range of the same
        index, so the cost grows with the sensors and their last hour, not with the history
        (a window function over the whole table took 3.5 s of CPU for a day of 800 sensors;
        one query per sensor made 801 round trips).  A sensor that sends several quantities
        sends them together, hence the window; a quantity it stopped sending earlier than
        that is not returned.  Ties on time go to the row stored last.
        """
        where, params = _where([("s.tank = ?", tank)])
        sql = LATEST_READINGS.format(where=where.replace(" WHERE ", " AND ", 1))
        return [Reading(*row) for row in self._query(sql, [LATEST_WINDOW_MS, *params])]

    def aggregates(
        self, *, tank: str | None = None, since_ms: int | None = None
    ) -> list[Aggregate]:
        where, params = _where([("tank = ?", tank), ("bucket_start_ms >= ?", since_ms)])
        rows = self._query(
            "SELECT site, tank, sensor, quantity, unit, bucket_s, bucket_start_ms, n, mean, min,"
            " max FROM readings_agg" + where + " ORDER BY bucket_start_ms, site, tank, sensor",
            params,
        )
        return [Aggregate(*row) for row in rows]

    def bucketed(
        self,
        *,
        bucket_ms: int,
        tank: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Aggregate]:
        """Raw readings downsampled in the database: count/mean/min/max per bucket.

        A month of one-minute readings from eight sensors is 345,600 rows; grouping them
        in SQL and sending ~1000 buckets per sensor is what lets a chart open in a second.
        """
        if bucket_ms <= 0:
            raise ValueError(f"bucket_ms = {bucket_ms}: must be a positive number of ms")
        where, params = _where(
            [("tank = ?", tank), ("ts_ms >= ?", since_ms), ("ts_ms < ?", until_ms)]
        )
        rows = self._query(
            "SELECT site, tank, sensor, quantity, unit, b, COUNT(*), AVG(value), MIN(value),"
            " MAX(value) FROM (SELECT site, tank, sensor, quantity, unit, value,"
            " (ts_ms / ?) * ? AS b FROM readings" + where + ") AS r"
            " GROUP BY site, tank, sensor, quantity, unit, b ORDER BY b",
            [bucket_ms, bucket_ms, *params],
        )
        s = bucket_ms // 1000
        return [
            Aggregate(r[0], r[1], r[2], r[3], r[4], s, int(r[5]), int(r[6]), *r[7:]) for r in rows
        ]

    def events(self, *, tank: str | None = None, since_ms: int | None = None) -> list[Event]:
        where, params = _where([("tank = ?", tank), ("ts_ms >= ?", since_ms)])
        rows = self._query(
            f"SELECT {_EVENT_FIELDS}, id FROM events" + where + " ORDER BY ts_ms, id", params
        )
        return [_event(row) for row in rows]

    def manual_entries(
        self, *, tank: str | None = None, since_ms: int | None = None
    ) -> list[ManualEntry]:
        where, params = _where([("tank = ?", tank), ("ts_ms >= ?", since_ms)])
        rows = self._query(
            f"SELECT {_MANUAL_FIELDS}, id FROM manual_entries" + where + " ORDER BY ts_ms, id",
            params,
        )
        return [_manual(row) for row in rows]

    # -- removing what a keeper logged ----------------------------------------------
    def delete_event(self, row_id: int, *, site: str, tank: str, source: str) -> Event | None:
        """Remove the event with this row id if it is ``site/tank``'s and ``source`` wrote it.

        Returns what was removed, or None (no such row, or another tank's or source's):
        the conditions are part of the DELETE, so a sensor's or the bridge's rows can never
        go this way.  Read and delete are one transaction.
        """
        return self._delete_one("events", _EVENT_FIELDS, _event, row_id, site, tank, source)

    def delete_manual_entry(
        self, row_id: int, *, site: str, tank: str, source: str
    ) -> ManualEntry | None:
        """Remove one manual entry, under the same conditions as :meth:`delete_event`."""
        return self._delete_one(
            "manual_entries", _MANUAL_FIELDS, _manual, row_id, site, tank, source
        )

    def _delete_one(
        self, table: str, fields: str, make: Any, row_id: int, site: str, tank: str, source: str
    ) -> Any:
        # ``table`` and ``fields`` are this module's constants, never caller text.
        assert table in ("events", "manual_entries"), table
        cond = " WHERE id = ? AND site = ? AND tank = ? AND source = ?"
        params = (int(row_id), site, tank, source)
        with self._tx() as cur:
            cur.execute(self.dialect.sql(f"SELECT {fields}, id FROM {table}" + cond), params)
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(self.dialect.sql(f"DELETE FROM {table}" + cond), params)
        return make(row)

    def quarantined(self, *, since_ms: int | None = None) -> list[QuarantineRecord]:
        where, params = _where([("received_ms >= ?", since_ms)])
        rows = self._query(
            "SELECT received_ms, topic, payload, reason, detail, payload_size, payload_sha256"
            " FROM quarantine" + where + " ORDER BY id",
            params,
        )
        return [QuarantineRecord(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def counters(self) -> dict[str, int]:
        return {n: int(v) for n, v in self._query("SELECT name, value FROM bridge_counters")}

    def sensor_states(self) -> list[SensorState]:
        rows = self._query(
            "SELECT site, tank, sensor, last_seen_ms, status, meta_json FROM sensor_state"
            " ORDER BY site, tank, sensor"
        )
        return [SensorState(*row) for row in rows]

    def tanks(self) -> list[str]:
        """Every tank named by a sensor, an event or a manual entry (a kit-only tank too)."""
        rows = self._query(
            "SELECT tank FROM sensor_state UNION SELECT tank FROM events"
            " UNION SELECT tank FROM manual_entries ORDER BY tank"
        )
        return [r[0] for r in rows]

    # -- retention ------------------------------------------------------------------
    def apply_retention(self, *, older_than_ms: int, bucket_s: int) -> RetentionResult:
        """Aggregate then delete, in one transaction, so no reading is ever in neither table."""
        if bucket_s <= 0:
            raise ValueError(f"bucket_s = {bucket_s}: must be a positive number of seconds")
        bucket_ms = bucket_s * 1000
        with self._tx() as cur:
            cur.execute(
                self.dialect.sql("SELECT COUNT(*) FROM readings WHERE ts_ms < ?"), (older_than_ms,)
            )
            (n_rows,) = cur.fetchone()
            cur.execute(
                self.dialect.sql(_AGGREGATE),
                (bucket_s, bucket_ms, bucket_ms, older_than_ms),
            )
            buckets = max(cur.rowcount, 0)
            cur.execute(self.dialect.sql("DELETE FROM readings WHERE ts_ms < ?"), (older_than_ms,))
        return RetentionResult(int(n_rows), int(buckets))

    def close(self) -> None:
        self._drop_connection()


def _merge_states(states: Iterable[SensorState]) -> list[SensorState]:
    """One row per sensor, so a batch never upserts the same key twice (PostgreSQL forbids it)."""
    merged: dict[tuple[str, str, str], SensorState] = {}
    for s in states:
        key = (s.site, s.tank, s.sensor)
        old = merged.get(key)
        if old is None:
            merged[key] = s
            continue
        seen = [v for v in (old.last_seen_ms, s.last_seen_ms) if v is not None]
        merged[key] = SensorState(
            s.site,
            s.tank,
            s.sensor,
            max(seen) if seen else None,
            s.status if s.status is not None else old.status,
            s.meta_json if s.meta_json is not None else old.meta_json,
        )
    return list(merged.values())
