"""The same behaviour, checked on SQLite and on PostgreSQL."""

from __future__ import annotations

import math

import pytest

from tankeco.errors import UserError
from tankeco.store import (
    Batch,
    Event,
    ManualEntry,
    QuarantineRecord,
    Reading,
    SensorState,
    Store,
    open_store,
)

T0_MS = 1_790_000_000_000  # 2026-09-21, a plausible "now"


def reading(i: int, *, sensor: str = "temp1", tank: str = "main", value: float = 25.0) -> Reading:
    return Reading(
        ts_ms=T0_MS + i * 60_000,
        site="home",
        tank=tank,
        sensor=sensor,
        quantity="temperature",
        value=value,
        unit="°C",
        source="ds18b20:28-1",
        seq=i,
        received_ms=T0_MS + i * 60_000 + 5,
    )


def test_readings_round_trip_in_time_order(store: Store) -> None:
    rows = [reading(i, value=24.0 + i / 10) for i in (3, 1, 2)]
    result = store.write(Batch(readings=rows))
    assert (result.readings_inserted, result.readings_duplicate) == (3, 0)
    got = store.readings()
    assert [r.seq for r in got] == [1, 2, 3]
    assert got[0] == rows[1]


def test_duplicates_on_sensor_time_seq_are_skipped_and_counted(store: Store) -> None:
    store.write(Batch(readings=[reading(1), reading(2)]))
    again = store.write(Batch(readings=[reading(2), reading(3), reading(3)]))
    assert (again.readings_inserted, again.readings_duplicate) == (1, 2)
    assert [r.seq for r in store.readings()] == [1, 2, 3]
    c = store.counters()
    assert c["accepted"] == 3 and c["duplicate"] == 2


def test_same_time_different_seq_or_sensor_is_not_a_duplicate(store: Store) -> None:
    a = reading(1)
    b = Reading(**{**a.__dict__, "seq": 99})
    c = Reading(**{**a.__dict__, "sensor": "temp2"})
    d = Reading(**{**a.__dict__, "tank": "quarantine_tank"})
    assert store.write(Batch(readings=[a, b, c, d])).readings_inserted == 4


def test_batch_is_one_transaction(store: Store) -> None:
    """A failing row rolls back the whole batch, counters included."""
    good = reading(1)
    bad = Reading(**{**reading(2).__dict__, "value": None})  # NOT NULL violation
    with pytest.raises(Exception):  # noqa: B017 - driver-specific integrity error
        store.write(Batch(readings=[good, bad], counters={"messages": 2}))
    assert store.readings() == []
    assert store.counters() == {}


def test_filters(store: Store) -> None:
    store.write(
        Batch(readings=[reading(i) for i in range(5)] + [reading(1, tank="quarantine_tank")])
    )
    assert len(store.readings(tank="main")) == 5
    assert [r.seq for r in store.readings(since_ms=T0_MS + 2 * 60_000)] == [2, 3, 4]
    assert [r.seq for r in store.readings(until_ms=T0_MS + 60_000)] == [0]
    assert store.readings(quantity="ph") == []
    assert len(store.readings(sensor="temp1", tank="quarantine_tank")) == 1


def test_quarantine_keeps_raw_bytes_and_counts_reasons(store: Store) -> None:
    raw = b"\xff\xfe{not json"
    store.write(
        Batch(
            readings=[reading(1)],
            quarantine=[
                QuarantineRecord(T0_MS, "tele/x/SENSOR", raw, "not_utf8", "byte 0"),
                QuarantineRecord(T0_MS + 1, "a/b", b"85.0", "sensor_sentinel"),
                QuarantineRecord(T0_MS + 2, "a/b", b"85.0", "sensor_sentinel"),
            ],
        )
    )
    q = store.quarantined()
    assert [x.reason for x in q] == ["not_utf8", "sensor_sentinel", "sensor_sentinel"]
    assert q[0].payload == raw and q[0].detail == "byte 0"
    assert store.quarantined(since_ms=T0_MS + 1)[0].received_ms == T0_MS + 1
    c = store.counters()
    assert c["quarantined"] == 3
    assert c["quarantined:sensor_sentinel"] == 2 and c["quarantined:not_utf8"] == 1
    assert c["accepted"] == 1


def test_counters_accumulate_across_batches(store: Store) -> None:
    store.write(Batch(counters={"messages": 5}))
    store.write(Batch(counters={"messages": 7, "reconnects": 1}))
    c = store.counters()
    assert c["messages"] == 12 and c["reconnects"] == 1


def test_events_and_manual_entries_dedupe(store: Store) -> None:
    ev = Event(T0_MS, "home", "main", "water_change", 30.0, "%", "weekly")
    feed = Event(T0_MS + 1, "home", "main", "feeding", 2.0, "g")
    man = ManualEntry(
        T0_MS, "home", "main", "no3_n", 4.518, "mg/L NO3-N", 20.0, "mg/L NO3", "api", False
    )
    off = ManualEntry(
        T0_MS + 5, "home", "main", "no3_n", 5.42, "mg/L NO3-N", 24.0, "mg/L NO3", "api", True
    )
    r1 = store.write(Batch(events=[ev, feed], manual=[man, off]))
    r2 = store.write(Batch(events=[ev], manual=[man]))
    assert (r1.events_inserted, r1.manual_inserted) == (2, 2)
    assert (r2.events_inserted, r2.manual_inserted) == (0, 0)
    assert store.events() == [ev, feed]
    assert store.manual_entries() == [man, off]
    assert store.manual_entries()[1].off_card is True
    assert store.events(tank="other") == []


def test_delete_removes_only_the_logged_row_of_that_tank_and_source(store: Store) -> None:
    """``tankeco log undo``: one row, by id, only if this tank's and written by the CLI."""
    by_cli = Event(T0_MS, "home", "main", "feeding", 2.0, "g", source="cli")
    by_bridge = Event(T0_MS + 1, "home", "main", "feeding", 2.0, "g", source="mqtt:node")
    kit = ManualEntry(
        T0_MS, "home", "main", "no3_n", 4.518, "mg/L NO3-N", 20.0, "mg/L NO3", "api", source="cli"
    )
    other_tank = ManualEntry(
        T0_MS, "home", "qt", "no3_n", 4.518, "mg/L NO3-N", 20.0, "mg/L NO3", "api", source="cli"
    )
    store.write(Batch(readings=[reading(1)], events=[by_cli, by_bridge], manual=[kit, other_tank]))
    ev_ids = {e.source: e.row_id for e in store.events()}
    (kit_row,) = store.manual_entries(tank="main")
    (qt_row,) = store.manual_entries(tank="qt")
    assert all(isinstance(i, int) for i in (*ev_ids.values(), kit_row.row_id, qt_row.row_id))
    where = {"site": "home", "tank": "main", "source": "cli"}
    # the bridge's event, another tank's entry and an id that does not exist stay
    assert store.delete_event(ev_ids["mqtt:node"], **where) is None
    assert store.delete_manual_entry(qt_row.row_id, **where) is None
    assert store.delete_manual_entry(10**9, **where) is None
    removed = store.delete_manual_entry(kit_row.row_id, **where)
    assert removed == kit and removed.row_id == kit_row.row_id
    assert store.delete_event(ev_ids["cli"], **where) == by_cli
    assert store.delete_event(ev_ids["cli"], **where) is None  # gone: a second undo finds none
    assert store.events() == [by_bridge]
    assert store.manual_entries() == [other_tank]
    assert len(store.readings()) == 1


def test_sensor_state_tracks_last_seen_status_and_meta(store: Store) -> None:
    store.write(Batch(readings=[reading(1), reading(5)]))
    store.write(Batch(readings=[reading(3)]))  # older reading must not move last_seen back
    store.write(
        Batch(sensor_states=[SensorState("home", "main", "temp1", None, "online", '{"r":1}')])
    )
    store.write(Batch(sensor_states=[SensorState("home", "main", "temp1", None, "offline")]))
    (s,) = store.sensor_states()
    assert s.last_seen_ms == reading(5).received_ms
    assert s.status == "offline" and s.meta_json == '{"r":1}'


def test_retention_folds_old_readings_into_hourly_aggregates(store: Store) -> None:
    # 3 days of 1-minute data for one sensor, temperature rising by 0.001 °C per minute.
    rows = [reading(i, value=20.0 + 0.001 * i) for i in range(3 * 1440)]
    store.write(Batch(readings=rows))
    cutoff = T0_MS + 2 * 86_400_000
    res = store.apply_retention(older_than_ms=cutoff, bucket_s=3600)
    assert res.readings_aggregated == 2 * 1440
    kept = store.readings()
    assert len(kept) == 1440 and kept[0].ts_ms == cutoff
    aggs = store.aggregates()
    n_total = sum(a.n for a in aggs)
    assert n_total == 2 * 1440
    assert res.buckets_written == len(aggs)
    assert len(aggs) in (48, 49)  # T0 is not on an hour boundary
    first = aggs[0]
    members = [r.value for r in rows if (r.ts_ms // 3_600_000) * 3_600_000 == first.bucket_start_ms]
    assert first.n == len(members)
    assert math.isclose(first.mean, sum(members) / len(members), rel_tol=1e-12)
    assert (first.min, first.max) == (min(members), max(members))


def test_retention_merges_a_bucket_split_by_two_passes(store: Store) -> None:
    rows = [reading(i, value=float(i)) for i in range(60)]  # one hour of data, one bucket-ish
    store.write(Batch(readings=rows))
    store.apply_retention(older_than_ms=T0_MS + 20 * 60_000, bucket_s=86_400)
    store.apply_retention(older_than_ms=T0_MS + 60 * 60_000, bucket_s=86_400)
    (agg,) = store.aggregates()
    assert agg.n == 60
    assert math.isclose(agg.mean, 29.5)
    assert (agg.min, agg.max) == (0.0, 59.0)
    assert store.readings() == []


def test_retention_rejects_nonpositive_bucket(store: Store) -> None:
    with pytest.raises(ValueError, match="bucket_s"):
        store.apply_retention(older_than_ms=T0_MS, bucket_s=0)


def test_sql_stays_data_even_when_data_looks_like_sql(store: Store) -> None:
    evil = "main'); DROP TABLE readings; --"
    store.write(Batch(readings=[reading(1, tank=evil)]))
    assert store.readings(tank=evil)[0].tank == evil
    assert len(store.readings()) == 1


def test_reopening_keeps_data(store_url: str) -> None:
    s = open_store(store_url)
    s.write(Batch(readings=[reading(1)]))
    s.close()
    s2 = open_store(store_url)
    assert len(s2.readings()) == 1
    s2.close()


@pytest.mark.parametrize(
    "url",
    ["mysql://x", "sqlite://", "nonsense", "postgresql://127.0.0.1:5432/test?schema=Bad-Name"],
)
def test_bad_urls_are_user_errors(url: str) -> None:
    with pytest.raises(UserError):
        open_store(url)


def test_unreachable_postgres_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cannot connect"):
        open_store("postgresql://127.0.0.1:1/test")


def test_bucketed_downsamples_in_the_database(store: Store) -> None:
    """Mean/min/max per sensor and bucket, on both backends (the dashboard's long ranges)."""
    rows = [
        Reading(t * 60_000, "s", "t", sensor, "ph", 7.0 + t / 100 + off, "pH", seq=t)
        for t in range(120)
        for sensor, off in (("a", 0.0), ("b", 1.0))
    ]
    rows.append(Reading(30 * 60_000, "s", "other", "a", "ph", 99.0, "pH"))
    store.write(Batch(readings=rows))
    out = store.bucketed(bucket_ms=3_600_000, tank="t")
    assert [(a.sensor, a.bucket_start_ms, a.n) for a in out] == [
        ("a", 0, 60), ("b", 0, 60), ("a", 3_600_000, 60), ("b", 3_600_000, 60),
    ]  # fmt: skip
    a0 = out[0]
    assert a0.mean == pytest.approx(7.0 + 59 / 200) and (a0.min, a0.max) == (7.0, 7.59)
    assert a0.bucket_s == 3600
    late = store.bucketed(bucket_ms=3_600_000, tank="t", since_ms=90 * 60_000)
    assert [(a.sensor, a.n) for a in late] == [("a", 30), ("b", 30)]
    with pytest.raises(ValueError):
        store.bucketed(bucket_ms=0)


def test_latest_readings_is_the_newest_by_time_per_sensor_and_quantity(store: Store) -> None:
    """What the Home Assistant publisher shows at start: one row per sensor and quantity,
    the newest by reading time even when an older reading was stored after it."""
    late = Reading(**{**reading(0, value=20.0).__dict__, "seq": 50})  # older ts, stored last
    store.write(Batch(readings=[reading(1, value=21.0), reading(2, value=22.0)]))
    store.write(Batch(readings=[late, reading(1, sensor="temp2", value=23.0)]))
    store.write(Batch(readings=[reading(5, sensor="t9", tank="other", value=26.0)]))
    got = {(r.tank, r.sensor, r.quantity): r.value for r in store.latest_readings()}
    assert got == {
        ("main", "temp1", "temperature"): 22.0,
        ("main", "temp2", "temperature"): 23.0,
        ("other", "t9", "temperature"): 26.0,
    }
    assert [r.sensor for r in store.latest_readings(tank="other")] == ["t9"]
    assert store.latest_readings(tank="none") == []


def test_latest_readings_of_a_sensor_with_several_quantities(store: Store) -> None:
    """A probe sending temperature and EC together: both. A quantity it last sent more
    than an hour before its newest reading is not looked for (the documented window)."""
    multi = [
        Reading(**{**reading(0).__dict__, "sensor": "multi", "quantity": "ph", "unit": "pH",
                   "value": 7.0}),
        Reading(**{**reading(70).__dict__, "sensor": "multi", "value": 24.0}),
        Reading(**{**reading(70).__dict__, "sensor": "multi", "quantity": "ec", "seq": 71,
                   "unit": "µS/cm", "value": 400.0}),
        Reading(**{**reading(72).__dict__, "sensor": "multi", "value": 24.5}),
    ]  # fmt: skip
    store.write(Batch(readings=multi))
    got = {(r.quantity, r.value) for r in store.latest_readings()}
    assert got == {("ec", 400.0), ("temperature", 24.5)}


def test_latest_readings_break_ties_by_storing_order_and_tanks_lists_every_tank(
    store: Store,
) -> None:
    """The overview of many tanks: one row per sensor; two readings of the same time, the
    one stored last; every tank, a kit-only one too."""
    rows = [reading(i, sensor=s, tank=t, value=float(i)) for t in ("a", "b") for s in ("x", "y")
            for i in (5, 1, 3)]  # fmt: skip
    tie = Reading(**{**reading(5, sensor="x", tank="a").__dict__, "seq": 9, "value": 55.0})
    store.write(Batch(readings=[*rows, tie]))
    store.write(Batch(manual=[ManualEntry(T0_MS, "home", "kit only", "no3_n", 5.0, "mg/L", 5.0,
                                          "mg/L", kit="API")]))  # fmt: skip
    got = [(r.tank, r.sensor, r.value, r.seq) for r in store.latest_readings()]
    assert got == [("a", "x", 55.0, 9), ("a", "y", 5.0, 5), ("b", "x", 5.0, 5), ("b", "y", 5.0, 5)]
    assert [r.sensor for r in store.latest_readings(tank="b")] == ["x", "y"]
    assert store.latest_readings(tank="'; DROP TABLE readings; --") == []
    assert store.tanks() == ["a", "b", "kit only"]


def test_latest_readings_step_through_the_index_not_the_table(store: Store) -> None:
    """The plan, not a timing: one statement whose every access to ``readings`` is a
    search in the (site, tank, sensor, ts_ms, seq) index, sensor by sensor, on both
    backends, so its cost does not grow with the history."""
    from tankeco.store.sqlbase import LATEST_READINGS, LATEST_WINDOW_MS

    rows = [reading(i, sensor=f"s{k}", tank=f"t{t}") for t in range(10) for k in range(8)
            for i in range(100)]  # fmt: skip
    store.write(Batch(readings=rows))
    sql = LATEST_READINGS.format(where="")
    if store.dialect.name == "sqlite":
        plan = " / ".join(
            r[3] for r in store._query("EXPLAIN QUERY PLAN " + sql, [LATEST_WINDOW_MS])
        )
        assert "SCAN s USING COVERING INDEX sqlite_autoindex_sensor_state_1" in plan, plan
        assert "SEARCH h USING INDEX sqlite_autoindex_readings_1 (site=? AND tank=? AND" in plan
        assert "SEARCH n USING COVERING INDEX sqlite_autoindex_readings_1" in plan, plan
        assert "SEARCH r USING INTEGER PRIMARY KEY" in plan, plan
        assert not [x for x in plan.split(" / ") if x.startswith(("SCAN r", "SCAN h", "SCAN n"))]
    else:
        store._conn.execute("ANALYZE readings")
        store._conn.execute("ANALYZE sensor_state")
        plan = " / ".join(r[0] for r in store._query("EXPLAIN " + sql, [LATEST_WINDOW_MS]))
        assert "Scan Backward using readings_dedup on readings n" in plan, plan
        assert "using readings_dedup on readings h" in plan, plan
        assert "Seq Scan on readings" not in plan, plan
