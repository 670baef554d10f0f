"""The shipped ESPHome/Tasmota mapping example, through the real bridge and a real Mosquitto.

Messages are written in the formats the two projects document: ESPHome's MQTT state
topic ``<topic_prefix>/sensor/<object_id>/state`` with the value as plain text (ESPHome
"MQTT Client Component"), Tasmota's telemetry ``tele/<topic>/SENSOR`` with ``Time`` in
local time without an offset, one object per sensor (DS18B20 with ``Id`` and
``Temperature``, ``ANALOG`` with ``A0``) and ``TempUnit`` (Tasmota "MQTT" and "DS18x20"
documentation).  The expected values are what the file's own arithmetic says (°F to °C:
(F - 32) x 5/9; pH = counts x scale + offset), not tankeco output.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tankeco.bridge.mapping import load_mapping
from tankeco.store import open_store
from tests.devices.test_esphome_yaml import load as load_esphome_yaml
from tests.devices.test_esphome_yaml import object_id
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import BridgeProcess, Publisher, wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "sims" / "mapping_esphome_tasmota.toml"
TASMOTA = "tele/tankeco-tasmota-1/SENSOR"
BERLIN = ZoneInfo("Europe/Berlin")


def test_the_example_loads_with_the_real_loader_and_matches_the_shipped_esphome_node() -> None:
    m = load_mapping(EXAMPLE)
    assert m.site == "home"
    cfg = load_esphome_yaml()
    prefix = cfg["mqtt"]["topic_prefix"]
    published = {
        f"{prefix}/sensor/{object_id(s['name'])}/state" for s in cfg["sensor"] if "name" in s
    }
    assert set(m.esphome) == published  # every sensor the shipped node publishes, no other
    assert {t.quantity for t in m.esphome.values()} == {"temperature", "ph", "ec"}
    dev = m.tasmota[TASMOTA]
    assert str(dev.tz) == "Europe/Berlin"
    assert [(v.block, v.id, v.target.sensor) for v in dev.values] == [
        ("DS18B20", "01144D6F0AAA", "temp_qt"),
        ("DS18B20", "3C01D075B2C1", "temp_sump"),
        ("ANALOG", None, "ph_qt"),
    ]
    # the worked calibration in the comments: 512 counts in pH 7, 683 in pH 4
    ph = dev.values[2].target
    assert 512 * ph.scale + ph.offset == pytest.approx(7.0, abs=0.001)
    assert 683 * ph.scale + ph.offset == pytest.approx(4.0, abs=0.001)


def _local(ts_utc_s: float) -> str:
    """Tasmota's ``Time``: local wall time in the device's zone, no offset."""
    return datetime.fromtimestamp(ts_utc_s, BERLIN).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.integration
def test_esphome_and_tasmota_messages_are_stored_with_quantity_and_unit(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "b").start()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(
        tmp_path,
        ["--broker", broker.url, "--store", store, "--client-id", "mapping-example",
         "--flush-interval", "0.1", "--mapping", str(EXAMPLE)],
    )  # fmt: skip
    pub = Publisher(broker.port)
    try:
        bridge.wait_for_log("connected")
        time.sleep(0.3)  # SUBACK
        # ESPHome: bare numbers, no unit or time
        pub.publish("tankeco-node-1/sensor/water_temperature/state", b"25.44")
        pub.publish("tankeco-node-1/sensor/ph/state", b"7.12")
        pub.publish("tankeco-node-1/sensor/conductivity/state", b"412")
        # Tasmota: two telemetry messages a minute apart; the second in °F and with the
        # DS18B20 numbering shifted (the probes are found by Id)
        t1 = int(time.time()) - 120
        t2 = t1 + 60
        first = {
            "Time": _local(t1),
            "DS18B20-1": {"Id": "01144D6F0AAA", "Temperature": 24.9},
            "DS18B20-2": {"Id": "3C01D075B2C1", "Temperature": 25.3},
            "ANALOG": {"A0": 530},
            "TempUnit": "C",
        }
        second = {
            "Time": _local(t2),
            "DS18B20-1": {"Id": "3C01D075B2C1", "Temperature": 77.9},
            "DS18B20-2": {"Id": "01144D6F0AAA", "Temperature": 76.1},
            "ANALOG": {"A0": 512},
            "TempUnit": "F",
        }
        pub.publish(TASMOTA, json.dumps(first).encode())
        pub.publish(TASMOTA, json.dumps(second).encode())
        pub.wait_all()
        s = open_store(store, create=False)
        try:
            wait_for(lambda: len(s.readings()) >= 9, 30, "9 readings")
            rows = s.readings()
            quarantined = s.quarantined()
        finally:
            s.close()
        assert quarantined == []
        got = {(r.tank, r.sensor, r.ts_ms): (r.quantity, r.unit, r.value) for r in rows}
        by_sensor = {(r.tank, r.sensor): [] for r in rows}
        for r in rows:
            by_sensor[(r.tank, r.sensor)].append((r.quantity, r.unit, round(r.value, 4)))
        assert by_sensor[("main", "temp1")] == [("temperature", "°C", 25.44)]
        assert by_sensor[("main", "ph1")] == [("ph", "pH", 7.12)]
        assert by_sensor[("main", "ec1")] == [("ec", "µS/cm", 412.0)]
        # (77.9 - 32) x 5/9 = 25.5; (76.1 - 32) x 5/9 = 24.5
        assert by_sensor[("main", "temp_sump")] == [
            ("temperature", "°C", 25.3), ("temperature", "°C", 25.5)
        ]  # fmt: skip
        assert by_sensor[("qt", "temp_qt")] == [
            ("temperature", "°C", 24.9), ("temperature", "°C", 24.5)
        ]  # fmt: skip
        # 530 x -0.017544 + 15.982 = 6.6837; 512 counts = 6.9995
        assert by_sensor[("qt", "ph_qt")] == [("ph", "pH", 6.6837), ("ph", "pH", 6.9995)]
        # Tasmota's local Berlin time is stored as the UTC instant it names
        assert got[("qt", "temp_qt", t1 * 1000)][0] == "temperature"
        assert got[("main", "temp_sump", t2 * 1000)][2] == pytest.approx(25.5)
        esp = [r for r in rows if r.sensor in ("temp1", "ph1", "ec1")]
        assert all(r.quality == "ok,time_from_receiver" for r in esp)  # ESPHome sends no time
        assert all(r.site == "home" for r in rows)
        assert bridge.terminate() == 0
    finally:
        pub.close()
        if bridge.proc.poll() is None:
            bridge.kill()
        broker.stop()
