"""Home Assistant discovery of the measured values, on a real Mosquitto.

The test subscribes to ``homeassistant/#`` the way Home Assistant does, after the
publisher has sent everything, so what it gets is what the broker retained.  The keys
checked are those Home Assistant documents for an MQTT sensor ("MQTT Sensor",
home-assistant.io/integrations/sensor.mqtt): ``availability`` (a list of ``topic``,
``payload_available``, ``payload_not_available``), ``availability_mode``, ``device``
(``identifiers``, ``name``), ``unique_id``, ``state_class``, ``device_class``,
``unit_of_measurement``; a device class with a unit Home Assistant does not allow for it
makes HA refuse the entity, so the pairs are checked too (HA's sensor constants: the
``ph`` class takes no unit, ``temperature`` takes °C).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tankeco.dashboard.ha_publisher import AVAILABILITY_TOPIC, HomeAssistantPublisher
from tankeco.store import Batch, Reading, open_store
from tests.integration.brokers import Mosquitto, free_port

pytestmark = pytest.mark.integration

#: Keys Home Assistant's MQTT sensor documents (and discovery's ``origin``).
DOCUMENTED = {
    "name", "unique_id", "state_topic", "value_template", "json_attributes_topic",
    "device", "origin", "state_class", "device_class", "unit_of_measurement",
    "availability", "availability_mode",
}  # fmt: skip


def _now() -> int:
    return int(time.time() * 1000)


def _write(url: str, rows: list[Reading]) -> None:
    s = open_store(url)
    try:
        s.write(Batch(readings=rows))
    finally:
        s.close()


class Retained:
    """A client that subscribes like Home Assistant and keeps the last message per topic."""

    def __init__(self, port: int, filters: tuple[str, ...] = ("homeassistant/#", "tankeco/#")):
        self.last: dict[str, tuple[bytes, bool]] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.last.__setitem__(
            m.topic, (m.payload, bool(m.retain))
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in filters])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def wait(self, what, timeout_s: float = 20.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout_s
        while not what():
            assert time.monotonic() < deadline, sorted(self.last)
            time.sleep(0.05)

    def text(self, topic: str) -> str | None:
        got = self.last.get(topic)
        return None if got is None else got[0].decode()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_every_sensor_in_the_store_is_discovered_with_its_value_and_availability(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "b").start()
    url = f"sqlite:///{tmp_path / 'ha.db'}"
    now = _now()
    _write(
        url,
        [
            Reading(now - 120_000, "home", "main", "no3", "no3_n", 7.5, "mg/L NO3-N", seq=1),
            Reading(now - 60_000, "home", "main", "no3", "no3_n", 8.25, "mg/L NO3-N", seq=2),
            Reading(now - 60_000, "home", "main", "ph1", "ph", 7.1, "pH", seq=1),
            # heard from 30 minutes ago: older than the 20-minute limit
            Reading(now - 1_800_000, "home", "main", "temp1", "temperature", 24.5, "°C", seq=1),
            Reading(now - 60_000, "home", "qt", "ec1", "ec", 410.0, "µS/cm", seq=1),
        ],
    )
    publisher = HomeAssistantPublisher(broker.url, store_url=url, stale_min=20.0, interval_s=0.2)
    ha = None
    try:
        deadline = time.monotonic() + 20
        while publisher.measured_published < 12:  # 4 sensors x (config, state, availability)
            assert time.monotonic() < deadline, publisher.measured_published
            time.sleep(0.05)
        time.sleep(0.3)
        # Home Assistant starting now: everything it gets is what the broker retained.
        ha = Retained(broker.port)
        ha.wait(lambda: len([t for t in ha.last if t.endswith("/config")]) == 4)
        configs = {t: p for t, p in ha.last.items() if t.endswith("/config")}
        assert all(retained for _, retained in configs.values())
        by_uid = {}
        for topic, (payload, _) in configs.items():
            config = json.loads(payload)  # valid JSON
            assert topic.startswith("homeassistant/sensor/") and topic.count("/") == 4, topic
            assert set(config) <= DOCUMENTED, set(config) - DOCUMENTED
            assert config["state_class"] == "measurement"
            assert config["availability_mode"] == "all"
            avail = [a["topic"] for a in config["availability"]]
            assert avail[0] == AVAILABILITY_TOPIC and len(avail) == 2
            assert all(
                (a["payload_available"], a["payload_not_available"]) == ("online", "offline")
                for a in config["availability"]
            )
            assert config["device"]["identifiers"] and config["device"]["name"]
            by_uid[config["unique_id"]] = config
        assert sorted(by_uid) == [
            "tankeco_main_no3_no3_n", "tankeco_main_ph1_ph", "tankeco_main_temp1_temperature",
            "tankeco_qt_ec1_ec",
        ]  # fmt: skip
        no3, ph = by_uid["tankeco_main_no3_no3_n"], by_uid["tankeco_main_ph1_ph"]
        temp = by_uid["tankeco_main_temp1_temperature"]
        assert no3["unit_of_measurement"] == "mg/L NO3-N" and "device_class" not in no3
        assert ph["device_class"] == "ph" and "unit_of_measurement" not in ph
        assert (temp["device_class"], temp["unit_of_measurement"]) == ("temperature", "°C")
        assert by_uid["tankeco_qt_ec1_ec"]["unit_of_measurement"] == "µS/cm"
        # one device per tank: sensors of a tank share it, the other tank has its own
        assert no3["device"] == ph["device"] == temp["device"]
        assert by_uid["tankeco_qt_ec1_ec"]["device"] != no3["device"]

        # state values match the store's newest reading of each sensor
        store = open_store(url, create=False)
        newest = {(r.tank, r.sensor, r.quantity): r for r in store.latest_readings()}
        store.close()
        for config in by_uid.values():
            ha.wait(lambda c=config: c["state_topic"] in ha.last)
            payload, retained = ha.last[config["state_topic"]]
            state = json.loads(payload)
            r = newest[("qt" if "qt" in config["unique_id"] else "main", state["sensor"],
                        state["quantity"])]  # fmt: skip
            assert retained and state["value"] == r.value and state["unit"] == r.unit
        assert json.loads(ha.text(no3["state_topic"]))["value"] == 8.25

        # availability: the publisher is online, the silent sensor is not
        assert ha.last[AVAILABILITY_TOPIC] == (b"online", True)
        assert ha.text(temp["availability"][1]["topic"]) == "offline"
        assert ha.text(no3["availability"][1]["topic"]) == "online"

        # the silent sensor speaks again: value and availability follow within seconds;
        # a late reading older than the newest one changes nothing
        _write(
            url,
            [
                Reading(_now(), "home", "main", "temp1", "temperature", 25.5, "°C", seq=2),
                Reading(now - 600_000, "home", "main", "no3", "no3_n", 1.0, "mg/L NO3-N", seq=3),
            ],
        )
        ha.wait(lambda: ha.text(temp["availability"][1]["topic"]) == "online")
        ha.wait(lambda: json.loads(ha.text(temp["state_topic"]))["value"] == 25.5)
        time.sleep(0.5)
        assert json.loads(ha.text(no3["state_topic"]))["value"] == 8.25
    finally:
        if ha is not None:
            ha.close()
        publisher.close()
        broker.stop()


def test_a_sensor_goes_unavailable_when_it_falls_silent(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "b").start()
    url = f"sqlite:///{tmp_path / 'ha.db'}"
    _write(url, [Reading(_now(), "home", "main", "no3", "no3_n", 5.0, "mg/L NO3-N", seq=1)])
    # 0.05 min = 3 s without a newer reading
    publisher = HomeAssistantPublisher(broker.url, store_url=url, stale_min=0.05, interval_s=0.2)
    ha = Retained(broker.port)
    topic = "tankeco/ha/main/no3_no3_n/availability"
    try:
        ha.wait(lambda: ha.text(topic) == "online")
        ha.wait(lambda: ha.text(topic) == "offline", timeout_s=15)
        # a clean stop says offline itself (no last will is sent for a DISCONNECT)
        publisher.close()
        ha.wait(lambda: ha.text(AVAILABILITY_TOPIC) == "offline")
    finally:
        ha.close()
        publisher.close()
        broker.stop()


def test_killing_the_dashboard_makes_every_entity_unavailable_through_the_last_will(
    tmp_path: Path,
) -> None:
    """``tankeco dashboard --broker`` as a keeper runs it, then ``kill -9``: no code of
    ours runs, so only the broker's last will can tell Home Assistant."""
    broker = Mosquitto(tmp_path / "b").start()
    url = f"sqlite:///{tmp_path / 'ha.db'}"
    # conductivity only: no quantity the model forecasts, so no forecast worker starts work
    _write(url, [Reading(_now(), "home", "main", "ec1", "ec", 410.0, "µS/cm", seq=1)])
    ha = Retained(broker.port)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tankeco", "dashboard", "--store", url, "--broker", broker.url,
         "--port", str(free_port()), "--ha-interval", "0.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        ha.wait(lambda: ha.text(AVAILABILITY_TOPIC) == "online", timeout_s=60)
        ha.wait(lambda: "homeassistant/sensor/tankeco_main/ec1_ec/config" in ha.last)
        ha.wait(lambda: ha.text("tankeco/ha/main/ec1_ec/availability") == "online")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        ha.wait(lambda: ha.text(AVAILABILITY_TOPIC) == "offline", timeout_s=10)
        assert ha.last[AVAILABILITY_TOPIC][0] == b"offline"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # the forecast worker the dashboard may have started goes with its group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        ha.close()
        broker.stop()
