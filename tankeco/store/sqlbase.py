"""The SQL shared by both backends, written once with ``?`` parameters.

SQLite and PostgreSQL agree on almost everything the store needs (``ON CONFLICT``,
``excluded.``, integer division for time buckets), so one implementation with a small
:class:`Dialect` keeps the two backends from drifting apart.  Values only ever travel as
bound parameters; the only text spliced into SQL is the dialect's type names and the
placeholder style, which are constants of this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Dialect:
    """What differs between the backends: placeholders and a few type names."""

    name: str
    placeholder: str
    id_column: str
    float_type: str
    blob_type: str

    def sql(self, text: str) -> str:
        """Turn a ``?``-parameter statement into this dialect's placeholder style."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "?", "INTEGER PRIMARY KEY AUTOINCREMENT", "REAL", "BLOB")
POSTGRES = Dialect(
    "postgresql",
    "%s",
    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "DOUBLE PRECISION",
    "BYTEA",
)

SCHEMA_VERSION = 1


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
            CONSTRAINT events_dedup UNIQUE (site, tank, kind, ts_ms))""",
        f"""CREATE TABLE IF NOT EXISTS manual_entries (
            id {d.id_column},
            ts_ms BIGINT NOT NULL, site TEXT NOT NULL, tank TEXT NOT NULL,
            quantity TEXT NOT NULL, value {f} NOT NULL, unit TEXT NOT NULL,
            value_entered {f} NOT NULL, unit_entered TEXT NOT NULL, kit TEXT NOT NULL,
            off_card INTEGER NOT NULL, note TEXT NOT NULL, source TEXT NOT NULL,
            CONSTRAINT manual_dedup UNIQUE (site, tank, quantity, ts_ms))""",
        f"""CREATE TABLE IF NOT EXISTS quarantine (
            id {d.id_column},
            received_ms BIGINT NOT NULL, topic TEXT NOT NULL, payload {b} NOT NULL,
            reason TEXT NOT NULL, detail TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS quarantine_received ON quarantine (received_ms)",
        """CREATE TABLE IF NOT EXISTS bridge_counters (
            name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS sensor_state (
            site TEXT NOT NULL, tank TEXT NOT NULL, sensor TEXT NOT NULL,
            last_seen_ms BIGINT, status TEXT, meta_json TEXT,
            PRIMARY KEY (site, tank, sensor))""",
        """CREATE TABLE IF NOT EXISTS store_meta (
            name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    ]


_INSERT_READING = """INSERT INTO readings
    (ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq, received_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, tank, sensor, ts_ms, seq) DO NOTHING"""
_INSERT_EVENT = """INSERT INTO events (ts_ms, site, tank, kind, amount, unit, note, source)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, tank, kind, ts_ms) DO NOTHING"""
_INSERT_MANUAL = """INSERT INTO manual_entries
    (ts_ms, site, tank, quantity, value, unit, value_entered, unit_entered, kit, off_card,
     note, source)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, tank, quantity, ts_ms) DO NOTHING"""
_INSERT_QUARANTINE = """INSERT INTO quarantine (received_ms, topic, payload, reason, detail)
    VALUES (?, ?, ?, ?, ?)"""
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


def _where(filters: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """``WHERE`` clause from (fixed SQL condition with one ``?``, value) pairs; None skipped."""
    parts: list[str] = []
    params: list[Any] = []
    for cond, value in filters:
        if value is not None:
            parts.append(cond)
            params.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


class SqlStore:
    """The :class:`~tankeco.store.base.Store` implementation over a DB-API connection.

    Subclasses open the connection and say which :class:`Dialect` it speaks; everything
    else, including the transaction around each batch, lives here.
    """

    dialect: Dialect
    url: str

    def __init__(self, conn: Any, url: str) -> None:
        self._conn = conn
        self.url = url
        self._create_schema()

    # -- plumbing -------------------------------------------------------------------
    def _create_schema(self) -> None:
        with self._transaction() as cur:
            self._lock_for_ddl(cur)
            for stmt in ddl(self.dialect):
                cur.execute(stmt)
            cur.execute(
                self.dialect.sql(
                    "INSERT INTO store_meta (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING"
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

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._transaction() as cur:
            cur.execute(self.dialect.sql(sql), tuple(params))
            return list(cur.fetchall())

    # -- writing --------------------------------------------------------------------
    def write(self, batch: Batch) -> WriteResult:
        """Write the batch in one transaction and bump the counters that describe it."""
        counters = dict(batch.counters)
        last_seen: dict[tuple[str, str, str], int] = {}
        for r in batch.readings:
            key = (r.site, r.tank, r.sensor)
            seen = max(r.received_ms, r.ts_ms)
            if seen > last_seen.get(key, -1):
                last_seen[key] = seen
        states = [SensorState(s, t, n, ms) for (s, t, n), ms in last_seen.items()]
        states.extend(batch.sensor_states)
        for q in batch.quarantine:
            counters["quarantined"] = counters.get("quarantined", 0) + 1
            name = f"quarantined:{q.reason}"
            counters[name] = counters.get(name, 0) + 1
        with self._transaction() as cur:
            inserted = self._executemany(
                cur,
                _INSERT_READING,
                [
                    (
                        r.ts_ms, r.site, r.tank, r.sensor, r.quantity, float(r.value), r.unit,
                        r.quality, r.source, r.seq, r.received_ms,
                    )
                    for r in batch.readings
                ],
            )  # fmt: skip
            events = self._executemany(
                cur,
                _INSERT_EVENT,
                [
                    (e.ts_ms, e.site, e.tank, e.kind, e.amount, e.unit, e.note, e.source)
                    for e in batch.events
                ],
            )
            manual = self._executemany(
                cur,
                _INSERT_MANUAL,
                [
                    (
                        m.ts_ms, m.site, m.tank, m.quantity, m.value, m.unit, m.value_entered,
                        m.unit_entered, m.kit, int(m.off_card), m.note, m.source,
                    )
                    for m in batch.manual
                ],
            )  # fmt: skip
            self._executemany(
                cur,
                _INSERT_QUARANTINE,
                [
                    (q.received_ms, q.topic, bytes(q.payload), q.reason, q.detail)
                    for q in batch.quarantine
                ],
            )
            duplicate = len(batch.readings) - inserted
            counters["accepted"] = counters.get("accepted", 0) + inserted
            counters["duplicate"] = counters.get("duplicate", 0) + duplicate
            counters["events"] = counters.get("events", 0) + events
            counters["manual"] = counters.get("manual", 0) + manual
            self._executemany(cur, _BUMP_COUNTER, sorted((k, v) for k, v in counters.items() if v))
            self._executemany(
                cur,
                _UPSERT_SENSOR,
                sorted(
                    (s.site, s.tank, s.sensor, s.last_seen_ms, s.status, s.meta_json)
                    for s in _merge_states(states)
                ),
            )
        return WriteResult(inserted, duplicate, events, manual, len(batch.quarantine))

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
            "SELECT ts_ms, site, tank, kind, amount, unit, note, source FROM events"
            + where
            + " ORDER BY ts_ms, id",
            params,
        )
        return [Event(*row) for row in rows]

    def manual_entries(
        self, *, tank: str | None = None, since_ms: int | None = None
    ) -> list[ManualEntry]:
        where, params = _where([("tank = ?", tank), ("ts_ms >= ?", since_ms)])
        rows = self._query(
            "SELECT ts_ms, site, tank, quantity, value, unit, value_entered, unit_entered, kit,"
            " off_card, note, source FROM manual_entries" + where + " ORDER BY ts_ms, id",
            params,
        )
        return [ManualEntry(*row[:9], bool(row[9]), *row[10:]) for row in rows]

    def quarantined(self, *, since_ms: int | None = None) -> list[QuarantineRecord]:
        where, params = _where([("received_ms >= ?", since_ms)])
        rows = self._query(
            "SELECT received_ms, topic, payload, reason, detail FROM quarantine"
            + where
            + " ORDER BY id",
            params,
        )
        return [QuarantineRecord(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]

    def counters(self) -> dict[str, int]:
        return {n: int(v) for n, v in self._query("SELECT name, value FROM bridge_counters")}

    def sensor_states(self) -> list[SensorState]:
        rows = self._query(
            "SELECT site, tank, sensor, last_seen_ms, status, meta_json FROM sensor_state"
            " ORDER BY site, tank, sensor"
        )
        return [SensorState(*row) for row in rows]

    # -- retention ------------------------------------------------------------------
    def apply_retention(self, *, older_than_ms: int, bucket_s: int) -> RetentionResult:
        """Aggregate then delete, in one transaction, so no reading is ever in neither table."""
        if bucket_s <= 0:
            raise ValueError(f"bucket_s = {bucket_s}: must be a positive number of seconds")
        bucket_ms = bucket_s * 1000
        with self._transaction() as cur:
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
        self._conn.close()


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
