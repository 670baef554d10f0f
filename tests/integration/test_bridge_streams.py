"""The bridge against real Mosquitto brokers: exactly once, through restarts and crashes."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tankeco.store import open_store
from tests.integration import helpers
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import (
    BridgeProcess,
    Publisher,
    count_accepted,
    native_payload,
    stream_in_thread,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SYSTEM_BROKER_PORT = 1883


def bridge_args(broker: str, store: str, client_id: str, *extra: str) -> list[str]:
    return helpers.bridge_args(broker, store, client_id, *extra, session_expiry_s=120)


@pytest.fixture
def broker(tmp_path: Path):
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


def distinct_keys(store_url: str, tank: str) -> tuple[int, int]:
    s = open_store(store_url)
    try:
        rows = s.readings(tank=tank)
    finally:
        s.close()
    return len(rows), len({(r.sensor, r.ts_ms, r.seq) for r in rows})


def test_three_formats_land_exactly_once_on_the_system_broker(tmp_path: Path) -> None:
    """Native, ESPHome, Tasmota and HA-discovered values through the machine's Mosquitto."""
    tag = uuid.uuid4().hex[:8]
    tank = f"t{tag}"
    esp_topic = f"esp{tag}/sensor/water_temperature/state"
    tas_topic = f"tele/tas{tag}/SENSOR"
    ha_config = f"homeassistant/sensor/ha{tag}/ph/config"
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        f"""
site = "s{tag}"
[[esphome]]
topic = "{esp_topic}"
tank = "{tank}"
sensor = "esp"
quantity = "temperature"
unit = "°C"
[[tasmota]]
topic = "{tas_topic}"
[[tasmota.values]]
block = "DS18B20"
id = "000008BD38BF"
tank = "{tank}"
sensor = "tas"
quantity = "temperature"
[[homeassistant]]
discovery = "{ha_config}"
tank = "{tank}"
sensor = "ha"
""",
        encoding="utf-8",
    )
    store = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(
        tmp_path,
        bridge_args(
            f"mqtt://127.0.0.1:{SYSTEM_BROKER_PORT}", store, f"it-{tag}", "--mapping", str(mapping)
        ),
    )
    pub = Publisher(SYSTEM_BROKER_PORT)
    try:
        bridge.wait_for_log("connected")
        time.sleep(0.3)  # SUBACK
        n = 50
        now_ms = int(time.time() * 1000)
        ha_state = f"ha{tag}/ph/state"
        cfg = {"stat_t": ha_state, "unit_of_meas": "pH", "dev_cla": "ph", "uniq_id": f"ph-{tag}"}
        pub.publish(ha_config, json.dumps(cfg).encode(), retain=True)
        # the bridge subscribes to the discovered state topic; the broker's SUBACK is logged
        bridge.wait_for_log(f"subscribed to {ha_state}")
        for i in range(n):
            pub.publish(
                f"tankeco/v1/s{tag}/{tank}/nat/state", native_payload(i, now_ms - 60_000 + i)
            )
            pub.publish(esp_topic, f"{24 + i / 1000:.3f}".encode(), retain=True)
            tas = {
                "Time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000 - 3600 + i)),
                "DS18B20-1": {"Id": "000008BD38BF", "Temperature": 25.5},
                "TempUnit": "C",
            }
            pub.publish(tas_topic, json.dumps(tas).encode())
            pub.publish(ha_state, f"{7.0 + i / 1000:.3f}".encode())
        pub.publish(f"tankeco/v1/s{tag}/{tank}/nat/state", b'{"v":1,"value":NaN}')
        pub.wait_all()
        wait_for(lambda: distinct_keys(store, tank)[0] >= 4 * n, 30, "all readings")
        # The same native messages again: stored once, counted as duplicates.
        for i in range(n):
            pub.publish(
                f"tankeco/v1/s{tag}/{tank}/nat/state", native_payload(i, now_ms - 60_000 + i)
            )
        pub.publish(esp_topic, b"", retain=True)  # clear retained messages we left behind
        pub.publish(ha_config, b"", retain=True)
        pub.wait_all()
        s = open_store(store)
        wait_for(lambda: s.counters().get("duplicate", 0) >= n, 20, "duplicates counted")
        assert bridge.terminate() == 0
        rows = s.readings(tank=tank)
        by_sensor = {
            name: [r for r in rows if r.sensor == name] for name in ("nat", "esp", "tas", "ha")
        }
        assert {k: len(v) for k, v in by_sensor.items()} == {"nat": n, "esp": n, "tas": n, "ha": n}
        assert [r.seq for r in by_sensor["nat"]] == list(range(n))
        assert (
            by_sensor["ha"][0].quantity == "ph"
            and by_sensor["ha"][-1].value == 7.0 + (n - 1) / 1000
        )
        assert {r.value for r in by_sensor["tas"]} == {25.5}
        assert any(q.reason == "json_nan_infinity" for q in s.quarantined())
        s.close()
    finally:
        pub.close()
        if bridge.proc.poll() is None:
            bridge.kill()


def test_broker_restart_mid_stream_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, broker: Mosquitto
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(tmp_path, bridge_args(broker.url, store, "restart-test"))
    bridge.wait_for_log("connected")
    pub = Publisher(broker.port, client_id="restart-pub", persistent=True)
    n = 900
    now_ms = int(time.time() * 1000)

    def stream() -> None:
        for i in range(n):
            pub.publish("tankeco/v1/home/main/t1/state", native_payload(i, now_ms - 600_000 + i))
            time.sleep(0.002)

    t = stream_in_thread(stream)
    wait_for(lambda: count_accepted(store) >= 150, 20, "first readings")
    broker.stop()
    time.sleep(0.5)
    broker.start()
    t.join(30)
    pub.wait_all(30)
    wait_for(lambda: count_accepted(store) >= n, 30, f"{n} readings")
    time.sleep(0.5)  # anything re-sent late would show up as an extra row
    assert bridge.terminate() == 0
    assert distinct_keys(store, "main") == (n, n)
    s = open_store(store)
    c = s.counters()
    s.close()
    assert c["accepted"] == n
    assert c.get("connects", 0) >= 2  # it really reconnected
    pub.close()


def test_sigkill_of_the_bridge_loses_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = bridge_args(broker.url, store, "kill-test")
    first = BridgeProcess(tmp_path, args, "first")
    first.wait_for_log("connected")
    pub = Publisher(broker.port)
    n = 1200
    now_ms = int(time.time() * 1000)

    def stream() -> None:
        for i in range(n):
            pub.publish("tankeco/v1/home/main/t1/state", native_payload(i, now_ms - 600_000 + i))
            time.sleep(0.001)

    t = stream_in_thread(stream)
    wait_for(lambda: count_accepted(store) >= 200, 20, "first readings")
    first.kill()  # SIGKILL: no flush, no ack, no DISCONNECT
    killed_at = count_accepted(store)
    t.join(30)
    pub.wait_all()
    second = BridgeProcess(tmp_path, args, "second")
    second.wait_for_log("session resumed")
    wait_for(lambda: count_accepted(store) >= n, 30, f"{n} readings")
    time.sleep(0.5)
    assert second.terminate() == 0
    assert killed_at < n, "the kill should have happened mid-stream"
    assert distinct_keys(store, "main") == (n, n)
    s = open_store(store)
    assert s.counters()["accepted"] == n
    s.close()
    pub.close()
