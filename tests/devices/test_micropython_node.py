"""The ESP32 MicroPython firmware, run on CPython against fakes of its hardware modules."""

from __future__ import annotations

import importlib
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from tankeco.bridge.ingest import Ingestor, Message
from tankeco.store import Batch
from tests.devices import fakes

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware" / "micropython"
CONFIG = {
    "client_id": "node-test",
    "broker_host": "127.0.0.1",
    "site": "home",
    "tank": "main",
    "node": "node1",
    "ds18b20_pin": 4,
    "ph_pin": 34,
    "ph_calibration": (1500.0, 7.0, 1677.0, 4.0),
    "tds_pin": 35,
    "tds_us_cm_per_volt": 1000.0,
    "buffer_max": 5,
    "flush_per_loop": 2,
}


@pytest.fixture
def fw(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    for name, module in fakes.modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    config = types.ModuleType("config")
    config.CONFIG = dict(CONFIG)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "config", config)
    monkeypatch.syspath_prepend(str(FIRMWARE))
    sys.modules.pop("tankeco_node", None)
    sys.modules.pop("main", None)
    fakes.MQTTClient.broker_up = True
    fakes.MQTTClient.instances = []
    fakes.MQTTClient.fail = {}
    node_mod = importlib.import_module("tankeco_node")
    monkeypatch.setattr(node_mod, "sleep_ms", lambda ms: None)
    yield node_mod
    sys.modules.pop("tankeco_node", None)
    sys.modules.pop("main", None)


def make_node(fw: types.ModuleType, **cfg: object):  # noqa: ANN201
    main = importlib.import_module("main")
    c = dict(CONFIG, **cfg)
    node = main.build(c)
    if node.ph is not None:
        node.ph.adc.microvolts = 1_588_500  # 1588.5 mV: halfway between the buffers → pH 5.5
    if node.tds is not None:
        node.tds.adc.microvolts = 1_100_000  # 1.1 V → 1100 µS/cm before compensation
    node.ds.temps = [85.0, 30.0]
    return node


def states(client: fakes.MQTTClient) -> list[tuple[str, dict]]:
    return [(t, json.loads(p)) for t, p, _, _ in client.published if t.endswith("/state")]


def test_node_publishes_the_native_schema_the_bridge_accepts(fw: types.ModuleType) -> None:
    node = make_node(fw)
    node.step()  # first conversion reads 85.0: dropped, as ESPHome would
    node.step()
    client = fakes.MQTTClient.instances[-1]
    assert client.will == ("tankeco/v1/home/main/node1/status", b"offline", True, 1)
    assert client.published[0] == ("tankeco/v1/home/main/node1/status", b"online", True, 1)
    assert all(qos == 1 for *_, qos in client.published)
    topics = [t for t, _ in states(client)]
    assert topics == [
        "tankeco/v1/home/main/ph1/state",  # round 1: no temperature yet, so no EC either
        "tankeco/v1/home/main/temp1/state",
        "tankeco/v1/home/main/ph1/state",
        "tankeco/v1/home/main/ec1/state",
    ]
    ingest = Ingestor()
    batch = Batch()
    for topic, payload, retain, _ in client.published:
        received_ms = int(fw.unix_time_s() * 1000)
        ingest.ingest(Message(topic, payload, received_ms, retain), batch)
    assert not batch.quarantine, batch.quarantine
    by_q = {r.quantity: r for r in batch.readings}
    assert by_q["temperature"].value == 30.0
    assert by_q["temperature"].source == "ds18b20:28-000008bd38bf"
    assert abs(by_q["ph"].value - 5.5) < 1e-9
    assert abs(by_q["ec"].value - 1000.0) < 1e-6  # 1100 / (1 + 0.02·(30 − 25))
    seqs = [r.seq for r in batch.readings]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [s.status for s in batch.sensor_states] == ["online"]


def test_offline_readings_are_buffered_dropped_oldest_and_flushed_throttled(
    fw: types.ModuleType,
) -> None:
    node = make_node(fw, ph_pin=None, tds_pin=None)
    node.ds.temps = [25.0]
    fakes.MQTTClient.broker_up = False
    for _ in range(7):
        node.step()
    assert len(node.buffer) == 5 and node.buffer.dropped == 2
    fakes.MQTTClient.broker_up = True
    node.step()  # reconnects; the new reading waits behind the buffer
    client = fakes.MQTTClient.instances[-1]
    assert [m["seq"] for _, m in states(client)] == [3, 4]  # oldest first, two per loop
    for _ in range(3):
        node.step()
    seqs = [m["seq"] for _, m in states(client)]
    assert seqs == list(range(3, 3 + len(seqs)))
    assert not node.buffer.items or len(node.buffer) <= 3


def test_without_a_set_clock_readings_have_no_ts_and_are_not_buffered(
    fw: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fw, "unix_time_s", lambda: 5.0)
    node = make_node(fw, ph_pin=None, tds_pin=None)
    node.ds.temps = [25.0]
    node.step()
    ((_, msg),) = states(fakes.MQTTClient.instances[-1])
    assert "ts" not in msg
    fakes.MQTTClient.broker_up = False
    node.step()
    assert len(node.buffer) == 0


def test_disconnected_probe_is_not_published(fw: types.ModuleType) -> None:
    node = make_node(fw, ph_pin=None, tds_pin=None)
    node.ds.temps = [-127.0]
    node.step()
    assert states(fakes.MQTTClient.instances[-1]) == []


def test_ntp_is_synced_at_start_then_hourly(fw: types.ModuleType) -> None:
    ntp = fakes.Ntp()
    node = make_node(fw, ph_pin=None, tds_pin=None)
    node.ntp = ntp
    node.step()
    node.step()
    assert ntp.calls == 1


def test_calibration_helpers(fw: types.ModuleType) -> None:
    adc = fakes.ADC(fakes.Pin(34))
    probe = fw.PhProbe(adc, 1500.0, 7.0, 1677.0, 4.0)
    adc.microvolts = 1_500_000
    assert probe.read_ph() == 7.0
    adc.microvolts = 1_677_000
    assert abs(probe.read_ph() - 4.0) < 1e-12
    with pytest.raises(ValueError):
        fw.PhProbe(adc, 1500.0, 7.0, 1500.0, 4.0)
    tds = fw.TdsProbe(adc, 1000.0)
    adc.microvolts = 1_000_000
    assert tds.read_ec25_us_cm(25.0) == 1000.0
    assert tds.read_ec25_us_cm(20.0) > 1000.0  # colder water conducts less: compensated up
    assert fw.TdsProbe.tds_mg_l(1000.0) == 500.0


def test_iso_time_format(fw: types.ModuleType) -> None:
    assert fw.iso_utc(1_795_686_717.512) == "2026-11-26T09:51:57.512Z"
    assert fw.iso_utc(1_795_686_717.9996) == "2026-11-26T09:51:58.000Z"


@pytest.mark.parametrize(
    "method,error",
    [
        ("connect", fakes.MQTTException(5)),  # CONNACK "not authorised"
        ("connect", OSError(110, "ETIMEDOUT")),  # socket timeout while connecting
        ("publish", fakes.MQTTException(1)),
        ("publish", OSError(110, "ETIMEDOUT")),
        ("check_msg", fakes.MQTTException(2)),
        ("ping", OSError(104, "ECONNRESET")),
    ],
)
def test_every_network_failure_only_takes_the_node_offline(
    fw: types.ModuleType, method: str, error: BaseException
) -> None:
    """Issue 13, point 10. Before: an MQTTException (only OSError was caught) ended the loop."""
    node = make_node(fw, keepalive_s=60)
    node.step()
    fakes.MQTTClient.fail = {method: error}
    if method == "connect":
        node.disconnect()  # the broker went away: the next loop reconnects
    if method == "ping":
        node.last_sent_ms -= 31_000  # a ping is due
        node.keepalive()  # must not raise
    else:
        for _ in range(3):
            node.step()  # must not raise
    assert not node.connected and node.errors >= 1
    fakes.MQTTClient.fail = {}
    node.step()
    assert node.connected  # back by itself on the next loop
    old = [c for c in fakes.MQTTClient.instances[:-1] if c.sock is not None]
    assert all(c.sock.closed for c in old)  # failed sockets are closed, not leaked


def test_sockets_time_out_and_a_quiet_node_pings(fw: types.ModuleType) -> None:
    node = make_node(fw, socket_timeout_s=7, keepalive_s=60)
    node.step()
    client = fakes.MQTTClient.instances[-1]
    assert client.sock.timeout == 7
    assert client.kw["keepalive"] == 60
    pings = client.pings
    node.keepalive()
    assert client.pings == pings  # just sent readings: no ping needed
    node.last_sent_ms -= 31_000  # half the keepalive without sending
    node.keepalive()
    assert client.pings == pings + 1


def test_the_watchdog_is_fed_every_loop_and_every_second_of_sleep(fw: types.ModuleType) -> None:
    node = make_node(fw, watchdog_ms=30_000)
    assert isinstance(node.wdt, fakes.WDT) and node.wdt.timeout == 30_000
    node.step()
    after_step = node.wdt.feeds
    assert after_step >= 2
    node.sleep(5_500)  # sleep_ms is a no-op in the tests: 6 chunks of at most 1 s
    assert node.wdt.feeds == after_step + 6
