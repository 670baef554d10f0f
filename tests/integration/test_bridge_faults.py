"""The bridge under faults (issue 13), each against a real Mosquitto and a real store.

Every test here failed on the bridge before issue 13; the figure before the fix is in its
docstring.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tankeco.store import open_store
from tests.benchmarks.test_bridge_throughput import peak_rss_mb
from tests.conftest import PG_URL, drop_pg_schema, pg_store_url
from tests.integration.brokers import Mosquitto, free_port, port_open
from tests.integration.helpers import (
    ROOT,
    BridgeProcess,
    Publisher,
    bridge_args,
    count_accepted,
    native_payload,
    stream_in_thread,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STATE = "tankeco/v1/home/main/t{}/state"


@pytest.fixture(autouse=True)
def no_bridge_outlives_its_test(monkeypatch: pytest.MonkeyPatch):
    """A test that fails half-way still stops every bridge it started."""
    started: list[BridgeProcess] = []
    original = BridgeProcess.__init__

    def init(self: BridgeProcess, *args: object, **kw: object) -> None:
        original(self, *args, **kw)  # type: ignore[arg-type]
        started.append(self)

    monkeypatch.setattr(BridgeProcess, "__init__", init)
    yield
    for b in started:
        if b.proc.poll() is None:
            b.kill()


@pytest.fixture
def broker(tmp_path: Path):
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = pg_store_url()
    open_store(url).close()
    yield url
    drop_pg_schema(open_store(url))


def poison_payload(now_ms: int, store_url: str) -> bytes:
    """A reading whose source.id the store cannot hold: U+0000 for PostgreSQL, else U+D800."""
    bad = "\\u0000" if store_url.startswith("postgresql") else "\\ud800"
    text = native_payload(0, now_ms - 700_000).decode().replace("28-test", f"28-{bad}x")
    return text.encode()


def test_a_poison_message_is_quarantined_and_the_stream_goes_on(
    tmp_path: Path, broker: Mosquitto, store_url: str
) -> None:
    """Point 1. Before: 0 of the 2000 valid readings after the poison one were stored."""
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, store_url, "poison"))
    bridge.wait_for_log("connected")
    pub = Publisher(broker.port)
    now_ms = int(time.time() * 1000)
    pub.publish(STATE.format(0), poison_payload(now_ms, store_url))
    n = 2000
    for i in range(n):
        pub.publish(STATE.format(1), native_payload(i, now_ms - 600_000 + i))
    pub.wait_all()
    wait_for(lambda: count_accepted(store_url) >= n, 60, f"{n} readings")
    assert bridge.terminate() == 0
    pub.close()
    s = open_store(store_url)
    try:
        assert len(s.readings()) == n
        (q,) = s.quarantined()
        assert q.reason == "unstorable_text"
        assert "U+0000" in q.detail or "U+D800" in q.detail
        assert s.counters()["quarantined:unstorable_text"] == 1
    finally:
        s.close()


def test_events_and_manual_entries_without_ts_are_all_kept_once(
    tmp_path: Path, broker: Mosquitto, store_url: str
) -> None:
    """Point 2. Before: of 50 events sent back to back 6 were stored; of 200 sent across
    two broker restarts 152 were stored and 4 doubled.  Now every one, once."""
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, store_url, "events"))
    bridge.wait_for_log("connected")
    pub = Publisher(broker.port, client_id=f"ev-{uuid.uuid4().hex[:6]}", persistent=True)
    n_burst, n_stream = 50, 200

    for i in range(n_burst):  # back to back, all in the same few milliseconds
        body = {"v": 1, "kind": "feeding", "amount": 1 + i / 100, "unit": "g"}
        pub.publish("tankeco/v1/home/burst/keeper/events", json.dumps(body).encode())
        manual = {"v": 1, "quantity": "no3_n", "value": 5 + i / 10, "unit": "mg/L NO3-N"}
        pub.publish("tankeco/v1/home/burst/keeper/manual", json.dumps(manual).encode())
    pub.wait_all()

    def stream() -> None:
        for i in range(n_stream):
            body = {"v": 1, "kind": "dosing", "amount": 1 + i, "unit": "drops", "note": f"#{i}"}
            pub.publish("tankeco/v1/home/restarts/keeper/events", json.dumps(body).encode())
            time.sleep(0.01)

    t = stream_in_thread(stream)
    for _ in range(2):
        time.sleep(0.6)
        broker.stop()
        time.sleep(0.3)
        broker.start()
    t.join(60)
    pub.wait_all(60)

    def stored() -> tuple[int, int, int]:
        s = open_store(store_url)
        try:
            return (
                len(s.events(tank="burst")),
                len(s.manual_entries(tank="burst")),
                len(s.events(tank="restarts")),
            )
        finally:
            s.close()

    wait_for(lambda: stored() == (n_burst, n_burst, n_stream), 60, "every event once")
    time.sleep(1.0)  # a late redelivery would show up as an extra row
    assert bridge.terminate() == 0
    assert stored() == (n_burst, n_burst, n_stream)
    s = open_store(store_url)
    try:
        notes = sorted(e.note for e in s.events(tank="restarts"))
        assert notes == sorted(f"#{i}" for i in range(n_stream))
    finally:
        s.close()
    pub.close()


def test_home_assistant_sensors_keep_working_after_a_bridge_restart(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Point 3. Before: after a restart every HA state went to quarantine (unmapped_topic)."""
    config_topic = "homeassistant/sensor/phprobe/ph/config"
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        f'site = "home"\n[[homeassistant]]\ndiscovery = "{config_topic}"\n'
        'tank = "main"\nsensor = "ha_ph"\n',
        encoding="utf-8",
    )
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = bridge_args(broker.url, store, "ha-restart", "--mapping", str(mapping))
    pub = Publisher(broker.port)
    cfg = {"stat_t": "phprobe/ph/state", "unit_of_meas": "pH", "dev_cla": "ph"}
    pub.publish(config_topic, json.dumps(cfg).encode(), retain=True)
    pub.wait_all()
    first = BridgeProcess(tmp_path, args, "first")
    first.wait_for_log("connected")
    time.sleep(1.0)  # retained config in, state topic subscribed
    pub.publish("phprobe/ph/state", b"7.10")
    pub.wait_all()
    wait_for(lambda: count_accepted(store) >= 1, 20, "first HA reading")
    assert first.terminate() == 0
    second = BridgeProcess(tmp_path, args, "second")
    second.wait_for_log("session resumed")
    assert "re-read 1 Home Assistant discovery configs" in second.log
    time.sleep(0.5)
    pub.publish("phprobe/ph/state", b"7.20")
    pub.wait_all()
    wait_for(lambda: count_accepted(store) >= 2, 20, "HA reading after the restart")
    assert second.terminate() == 0
    pub.publish(config_topic, b"", retain=True)
    pub.wait_all()
    pub.close()
    s = open_store(store)
    try:
        assert [r.value for r in s.readings(sensor="ha_ph")] == [7.1, 7.2]
        assert not [q for q in s.quarantined() if q.reason == "unmapped_topic"]
        assert [c.topic for c in s.discovery_configs()] == [config_topic]
    finally:
        s.close()


def terminate_store_sessions(schema: str) -> int:
    """``pg_terminate_backend`` on every connection of the store in ``schema``."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (f"tankeco {schema}",),
        ).fetchall()
    return len(rows)


def test_postgresql_connection_killed_mid_stream_loses_and_doubles_nothing(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Point 4. Before: after pg_terminate_backend the bridge ingested nothing until restarted."""
    url = pg_store_url()
    schema = url.rsplit("schema=", 1)[1]
    reader = open_store(url)
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, url, "pg-kill"))
    try:
        bridge.wait_for_log("connected")
        pub = Publisher(broker.port)
        n = 1500
        now_ms = int(time.time() * 1000)

        def stream() -> None:
            for i in range(n):
                pub.publish(STATE.format(1), native_payload(i, now_ms - 600_000 + i))
                time.sleep(0.002)

        t = stream_in_thread(stream)
        wait_for(lambda: reader.counters().get("accepted", 0) >= 200, 30, "first readings")
        killed = terminate_store_sessions(schema)
        time.sleep(0.5)
        killed += terminate_store_sessions(schema)
        t.join(60)
        pub.wait_all()
        wait_for(lambda: reader.counters().get("accepted", 0) >= n, 60, f"{n} readings")
        time.sleep(0.5)
        assert bridge.terminate() == 0
        assert killed >= 2
        rows = reader.readings()
        assert len(rows) == n == len({(r.sensor, r.ts_ms, r.seq) for r in rows})
        assert "store back after" in bridge.log
        pub.close()
    finally:
        if bridge.proc.poll() is None:
            bridge.kill()
        drop_pg_schema(reader)


def test_a_locked_sqlite_store_is_waited_for_and_a_stop_with_unwritten_messages_fails(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Point 4 (SQLite) and point 10 (exit code). Before: the bridge exited 0 holding
    unwritten messages.  Now it retries with backoff, and exits 1 if stopped first."""
    path = tmp_path / "store.db"
    store = f"sqlite:///{path}"
    open_store(store).close()
    args = bridge_args(broker.url, store, "locked")
    bridge = BridgeProcess(tmp_path, args, "first")
    bridge.wait_for_log("connected")
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    pub = Publisher(broker.port)
    now_ms = int(time.time() * 1000)
    for i in range(100):
        pub.publish(STATE.format(1), native_payload(i, now_ms - 600_000 + i))
    pub.wait_all()
    bridge.wait_for_log("store write failed", timeout_s=40)
    rc = bridge.terminate(timeout_s=30)
    assert rc == 1, bridge.log
    assert re.search(r"stopped with \d+ messages not written", bridge.log)
    lock.execute("ROLLBACK")
    lock.close()
    # The next bridge gets them all from the broker: nothing was acknowledged.
    second = BridgeProcess(tmp_path, args, "second")
    wait_for(lambda: count_accepted(store) >= 100, 30, "the held readings")
    assert second.terminate() == 0
    pub.close()


def test_readings_sent_while_the_bridge_is_away_are_all_kept_by_the_shipped_broker_config(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Point 5. Before (Mosquitto defaults): 1000 of 3000 readings sent while the bridge was
    stopped survived.  The broker here runs the shipped tankeco/data/mosquitto.conf."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = bridge_args(broker.url, store, "away")
    first = BridgeProcess(tmp_path, args, "first")
    first.wait_for_log("connected")
    time.sleep(0.3)
    assert first.terminate() == 0
    pub = Publisher(broker.port)
    n = 3000
    now_ms = int(time.time() * 1000)
    for i in range(n):
        pub.publish(STATE.format(1), native_payload(i, now_ms - 600_000 + i))
    pub.wait_all()
    pub.close()
    second = BridgeProcess(tmp_path, args, "second")
    wait_for(lambda: count_accepted(store) >= n, 60, f"{n} readings")
    assert second.terminate() == 0
    assert "no session" not in second.log


def test_the_bridge_warns_when_the_broker_lost_its_session(tmp_path: Path) -> None:
    """Point 5, the symptom. Before: silence. A broker that lost its persistence file (or
    runs without persistence) comes back without the bridge's session."""
    broker = Mosquitto(tmp_path / "b").start()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = bridge_args(broker.url, store, "lost-session")
    try:
        first = BridgeProcess(tmp_path, args, "first")
        first.wait_for_log("connected")
        time.sleep(0.3)
        assert first.terminate() == 0
        broker.stop()
        for f in broker.dir.glob("*.db"):
            f.unlink()
        broker.start()
        second = BridgeProcess(tmp_path, args, "second")
        second.wait_for_log("had no session for lost-session")
        assert second.terminate() == 0
        s = open_store(store)
        assert s.counters()["sessions_lost"] == 1
        s.close()
    finally:
        broker.stop()


def test_oversize_payloads_are_bounded_in_memory_and_in_the_store(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Point 7. Before: five 50 MB payloads raised the bridge to 424 MB and were stored whole.
    Now: above --max-packet-bytes the broker does not send them; above --max-payload-bytes
    they are quarantined as a 4 KiB prefix with their size and SHA-256."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, store, "big"))
    bridge.wait_for_log("connected")
    pub = Publisher(broker.port)
    big = b"x" * 20_000_000  # over the 1 MiB Maximum Packet Size
    medium = b"{" + b" " * 200_000 + b"}"  # over 16 KiB, under 1 MiB
    now_ms = int(time.time() * 1000)
    for _ in range(5):
        pub.publish(STATE.format(9), big)
    for _ in range(5):
        pub.publish(STATE.format(8), medium)
    pub.publish(STATE.format(1), native_payload(1, now_ms - 1000))
    pub.wait_all(60)
    pub.close()
    wait_for(lambda: count_accepted(store) >= 1, 30, "the normal reading")
    time.sleep(0.5)
    rss = peak_rss_mb(bridge.proc.pid)  # both processes of the bridge
    assert bridge.terminate() == 0
    s = open_store(store)
    try:
        q = s.quarantined()
        assert [r.reason for r in q] == ["oversize"] * 5
        digest = hashlib.sha256(medium).hexdigest()
        assert {(len(r.payload), r.payload_size, r.payload_sha256) for r in q} == {
            (4096, len(medium), digest)
        }
    finally:
        s.close()
    assert rss < 100, f"bridge peak RSS {rss:.0f} MB"
    assert (tmp_path / "store.db").stat().st_size < 2_000_000


@pytest.fixture
def amqtt_broker():
    port = free_port()
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "tankeco.cli.demo_broker", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not port_open(port):
        assert proc.poll() is None and time.monotonic() < deadline, "amqtt did not start"
        time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_the_bridge_speaks_mqtt_311_to_the_embedded_demo_broker(
    tmp_path: Path, amqtt_broker: int
) -> None:
    """Point 8. Before: 0 live points in 60 s through amqtt, and no log line saying why."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    url = f"mqtt://127.0.0.1:{amqtt_broker}"
    bridge = BridgeProcess(tmp_path, bridge_args(url, store, "v311", "--protocol", "3.1.1"))
    bridge.wait_for_log("with MQTT 3.1.1")
    time.sleep(0.5)
    pub = Publisher(amqtt_broker)
    n = 200
    now_ms = int(time.time() * 1000)
    for i in range(n):
        pub.publish(STATE.format(1), native_payload(i, now_ms - 600_000 + i))
    pub.wait_all()
    pub.close()
    wait_for(lambda: count_accepted(store) >= n, 30, f"{n} readings through amqtt")
    assert bridge.terminate() == 0
    # MQTT 5 to amqtt: the connection is dropped, and the log says what to try.
    v5 = BridgeProcess(tmp_path, bridge_args(url, store, "v5"), "v5")
    wait_for(lambda: "--protocol" in v5.log, 45, "a log line about the refused connection")
    v5.terminate()


def test_store_refusing_a_row_is_isolated_by_smaller_writes(tmp_path: Path, store_url: str) -> None:
    """Point 1, the fallback: with the text check switched off, the store itself refuses
    the poison row; the batch is split until that message is alone, and it alone is
    quarantined (``store_rejected``)."""
    from tankeco.bridge.ingest import Ingestor
    from tankeco.bridge.writer import BatchWriter

    store = open_store(store_url)
    try:
        ing = Ingestor(text_problem=lambda text: None)  # let the poison reach the store
        writer = BatchWriter(store, ing)
        now_ms = int(time.time() * 1000)
        payloads = [native_payload(i, now_ms - 600_000 + i) for i in range(300)]
        payloads[137] = poison_payload(now_ms, store_url)
        raw = [(STATE.format(1), p, now_ms, False, False, i) for i, p in enumerate(payloads)]
        writer.write(*writer.decode(raw)[:3])
        assert len(store.readings()) == 299
        (q,) = store.quarantined()
        assert q.reason == "store_rejected" and q.payload == payloads[137]
        assert store.counters()["messages"] == 300
    finally:
        store.close()


def test_a_store_lost_in_the_middle_of_isolating_doubles_no_quarantine_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store_url: str
) -> None:
    """Point 1 under point 4: the store goes away (SQLite locked, PostgreSQL backend
    terminated) after the first half of a refused batch was committed, and the writer
    writes the whole batch again once it is back.  Before: the quarantine rows of that
    first half were stored twice (5 rows for 3 bad messages); now once each."""
    from tankeco.bridge.ingest import Ingestor
    from tankeco.bridge.writer import BatchWriter
    from tankeco.store import StoreUnavailable
    from tankeco.store import sqlite as sqlite_module

    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 200)  # locked: fail in 0.2 s
    store = open_store(store_url)
    lock: sqlite3.Connection | None = None

    def store_goes_away() -> None:
        nonlocal lock
        if store_url.startswith("sqlite"):
            lock = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
        else:
            assert terminate_store_sessions(store_url.rsplit("schema=", 1)[1]) >= 1

    real_write = store.write
    committed: list[int] = []

    def write(batch):  # noqa: ANN001, ANN202
        result = real_write(batch)
        committed.append(len(batch.quarantine))
        if len(committed) == 1:  # the first half of the split is in: now the store dies
            store_goes_away()
        return result

    monkeypatch.setattr(store, "write", write)
    try:
        writer = BatchWriter(store, Ingestor(text_problem=lambda text: None))
        now_ms = int(time.time() * 1000)
        payloads = [native_payload(i, now_ms - 600_000 + i) for i in range(300)]
        payloads[5] = native_payload(5, now_ms - 600_000 + 5, 500.0)  # out of range
        payloads[20] = native_payload(20, now_ms - 600_000 + 20, -300.0)  # out of range
        payloads[137] = poison_payload(now_ms, store_url)  # refused by the store itself
        raw = [(STATE.format(1), p, now_ms, False, False, i) for i, p in enumerate(payloads)]
        batch, messages, marks, _ = writer.decode(raw)
        with pytest.raises(StoreUnavailable):
            writer.write(batch, messages, marks)
        assert committed[0] == 2  # the two out-of-range rows were committed before the loss
        if lock is not None:
            lock.execute("ROLLBACK")
            lock.close()
        writer.write(batch, messages, marks)  # what the writer process does after backoff
        q = store.quarantined()
        assert sorted(r.reason for r in q) == ["out_of_range", "out_of_range", "store_rejected"]
        assert len(store.readings()) == 297
        counters = store.counters()
        assert counters["quarantined"] == 3
        assert counters["accepted"] == 297
    finally:
        store.close()


def test_the_writer_process_does_not_outlive_a_killed_bridge(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """The bridge is two processes (MQTT side and writer).  After kill -9 of the MQTT side
    the writer notices it is orphaned and exits, so no writer from a dead bridge keeps a
    store connection (or an SQLite lock) for the next one."""
    store = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, store, "orphan"))
    bridge.wait_for_log("connected")
    pid = bridge.proc.pid
    (writer,) = [
        int(c)
        for t in Path(f"/proc/{pid}/task").iterdir()
        for c in (t / "children").read_text().split()
    ]

    def gone() -> bool:
        try:
            stat = Path(f"/proc/{writer}/stat").read_text()
        except FileNotFoundError:
            return True
        return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # exited, not yet reaped

    assert not gone()
    bridge.kill()
    wait_for(gone, 10, "the writer process to exit")
