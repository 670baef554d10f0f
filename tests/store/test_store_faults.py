"""Issue 13 in the store: least-privilege PostgreSQL, migration, text checks, reconnect."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from tankeco.store import Batch, Event, QuarantineRecord, Reading, StoreUnavailable, open_store
from tests.conftest import PG_URL, drop_pg_schema, pg_store_url

T0 = 1_790_000_000_000


@pytest.mark.integration
def test_a_least_privilege_postgresql_role_can_run_the_bridge_store() -> None:
    """Point 10. Before: every open ran CREATE SCHEMA, so a role with only SELECT/INSERT/
    UPDATE on an existing store could not start."""
    url = pg_store_url()
    schema = url.rsplit("=", 1)[1]
    owner = open_store(url)  # the owner creates the schema and tables
    role = f"tk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {schema} TO {role}")
    try:
        limited = open_store(url.replace("postgresql://", f"postgresql://{role}@"))
        r = limited.write(Batch(readings=[Reading(T0, "h", "main", "t", "ph", 7.0, "pH")]))
        assert r.readings_inserted == 1
        limited.close()
    finally:
        drop_pg_schema(owner)
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {role}")


def test_a_version_1_store_is_migrated_with_its_rows(tmp_path: Path) -> None:
    """Schema 1 (before issue 13) keyed events by time only; its rows survive the move."""
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms BIGINT NOT NULL,
          site TEXT NOT NULL, tank TEXT NOT NULL, kind TEXT NOT NULL, amount REAL,
          unit TEXT NOT NULL, note TEXT NOT NULL, source TEXT NOT NULL,
          CONSTRAINT events_dedup UNIQUE (site, tank, kind, ts_ms));
        CREATE TABLE manual_entries (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms BIGINT NOT NULL,
          site TEXT NOT NULL, tank TEXT NOT NULL, quantity TEXT NOT NULL, value REAL NOT NULL,
          unit TEXT NOT NULL, value_entered REAL NOT NULL, unit_entered TEXT NOT NULL,
          kit TEXT NOT NULL, off_card INTEGER NOT NULL, note TEXT NOT NULL,
          source TEXT NOT NULL, CONSTRAINT manual_dedup UNIQUE (site, tank, quantity, ts_ms));
        CREATE TABLE quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT,
          received_ms BIGINT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
          reason TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO store_meta VALUES ('schema_version', '1');
        INSERT INTO events (ts_ms, site, tank, kind, amount, unit, note, source)
          VALUES (1790000000000, 'h', 'main', 'feeding', 2.0, 'g', '', 'cli');
        INSERT INTO quarantine (received_ms, topic, payload, reason, detail)
          VALUES (1790000000000, 'a/b', x'7b', 'invalid_json', '');
        """
    )
    conn.commit()
    conn.close()
    s = open_store(f"sqlite:///{path}")
    try:
        assert [(e.kind, e.amount) for e in s.events()] == [("feeding", 2.0)]
        assert [q.reason for q in s.quarantined()] == ["invalid_json"]
        # same tank, kind and time, another amount: a second event now (content identity)
        s.write(Batch(events=[Event(T0, "h", "main", "feeding", 3.0, "g")]))
        assert len(s.events()) == 2
    finally:
        s.close()


def test_each_store_names_the_text_it_cannot_hold(store_url: str) -> None:
    s = open_store(store_url)
    try:
        assert s.text_problem("28-ok") is None
        assert "U+D800" in (s.text_problem("28-\ud800") or "")
        nul = s.text_problem("28-\x00")
        assert (nul is None) == store_url.startswith("sqlite")
        # the quarantine row explaining such a message can always be written
        q = QuarantineRecord.of(T0, "a/\ud800", b"\x00", "unstorable_text", "bad \x00 \ud800")
        s.write(Batch(quarantine=[q]))
        (back,) = s.quarantined()
        assert back.topic == "a/\\ud800" and back.detail == "bad \\x00 \\ud800"
    finally:
        s.close()


@pytest.mark.integration
def test_a_terminated_postgresql_connection_is_reopened() -> None:
    """Point 4 at the store: one StoreUnavailable, then the next call reconnects."""
    url = pg_store_url()
    s = open_store(url)
    try:
        s.write(Batch(readings=[Reading(T0, "h", "main", "t", "ph", 7.0, "pH")]))
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (f"tankeco {url.rsplit('=', 1)[1]}",),
            )
        with pytest.raises(StoreUnavailable):
            s.write(Batch(readings=[Reading(T0 + 1, "h", "main", "t", "ph", 7.1, "pH")]))
        s.write(Batch(readings=[Reading(T0 + 1, "h", "main", "t", "ph", 7.1, "pH")]))
        assert len(s.readings()) == 2
    finally:
        drop_pg_schema(s)


def test_iter_readings_pages_through_ties_in_time_order(store_url: str) -> None:
    """Export reads a page at a time (point 10: ``export`` of 1 M readings held ~1 GB)."""
    s = open_store(store_url)
    try:
        rows = [
            Reading(T0 + (i // 3) * 1000, "h", "main", f"s{i % 3}", "ph", 7.0, "pH", seq=i)
            for i in range(100)
        ]
        s.write(Batch(readings=rows))
        got = list(s.iter_readings(page=7))
        assert len(got) == 100 and got == s.readings()
        assert [r.seq for r in s.iter_readings(since_ms=T0 + 30_000, page=4)] == list(
            range(90, 100)
        )
    finally:
        s.close()


def test_export_memory_does_not_grow_with_the_number_of_readings(tmp_path: Path) -> None:
    """Point 10: exporting 100 000 readings peaks within 3 MB of exporting 20 000 (both
    more than one page); the list of all readings held before is ~50 MB more."""
    import tracemalloc

    from tankeco.cli import main as cli_main

    def peak_of_export(n: int) -> int:
        url = f"sqlite:///{tmp_path / f'e{n}.db'}"
        s = open_store(url)
        s.write(
            Batch(
                readings=[
                    Reading(T0 + i * 1000, "h", "main", "t", "temperature", 25.0, "°C", seq=i)
                    for i in range(n)
                ]
            )
        )
        s.close()
        out = tmp_path / f"out{n}.csv"
        tracemalloc.start()
        try:
            assert cli_main(["export", "--store", url, "--out", str(out)]) == 0
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sum(1 for _ in out.open()) == n + 1
        return peak

    peak_of_export(1000)  # imports and caches, once
    small = peak_of_export(20_000)
    big = peak_of_export(100_000)
    assert big - small < 3 * 1024 * 1024, f"{small / 1e6:.1f} MB vs {big / 1e6:.1f} MB"


def test_a_quarantine_record_written_twice_is_one_row(store_url: str) -> None:
    """A batch retried after an outage writes its quarantine records again: a record built
    for one receipt (same ``arrival``) is one row however often it is written and counted
    once; records without a receipt name stay separate rows, as before schema 3."""
    s = open_store(store_url)
    try:
        named = QuarantineRecord.of(T0, "a/b", b"85.0", "sensor_sentinel", arrival=f"{T0}:1:0")
        again = QuarantineRecord.of(T0, "a/b", b"85.0", "sensor_sentinel", arrival=f"{T0}:1:0")
        other = QuarantineRecord.of(T0, "a/b", b"85.0", "sensor_sentinel", arrival=f"{T0}:2:0")
        assert named.ident == again.ident != other.ident
        assert s.write(Batch(quarantine=[named])).quarantined == 1
        assert s.write(Batch(quarantine=[again, other])).quarantined == 1
        plain = QuarantineRecord(T0, "a/b", b"85.0", "sensor_sentinel")
        s.write(Batch(quarantine=[plain, plain]))
        assert len(s.quarantined()) == 4
        assert s.counters()["quarantined:sensor_sentinel"] == 4
    finally:
        s.close()


def test_the_same_reading_twice_in_one_batch_is_one_row(store_url: str) -> None:
    """PostgreSQL writes a batch's readings in one statement (``unnest``): a key that
    appears twice within it is skipped like one already stored, and counted."""
    s = open_store(store_url)
    try:
        r = Reading(T0, "h", "main", "t", "temperature", 25.0, "°C", seq=7)
        other = Reading(T0, "h", "main", "t", "temperature", 25.5, "°C", seq=8)
        result = s.write(Batch(readings=[r, r, other]))
        assert (result.readings_inserted, result.readings_duplicate) == (2, 1)
        assert [x.seq for x in s.readings()] == [7, 8]
        assert s.counters()["duplicate"] == 1
    finally:
        s.close()
