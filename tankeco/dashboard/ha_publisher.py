"""Forecast and alerts as Home Assistant entities, through MQTT discovery.

Keepers who live in Home Assistant get three sensors per tank without writing YAML: the
days until nitrate passes its limit, the number of active alerts and the most urgent
alert's text.  Discovery configs are retained (Home Assistant finds them after a
restart); states are published at most once a minute.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tankeco.bridge.broker import parse_broker_url

PREFIX = "homeassistant"
MIN_INTERVAL_S = 60.0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:48] or "tank"


def entities(tank: str) -> list[tuple[str, dict]]:
    """(config topic, config payload) of each entity for ``tank``."""
    t = _slug(tank)
    state = f"tankeco/{t}/forecast/state"
    device = {"identifiers": [f"tankeco_{t}"], "name": f"tankeco {tank}", "manufacturer": "tankeco"}
    common = {"state_topic": state, "device": device}
    return [
        (
            f"{PREFIX}/sensor/tankeco_{t}/nitrate_days/config",
            common
            | {
                "name": "Days until nitrate limit",
                "unique_id": f"tankeco_{t}_nitrate_days",
                "unit_of_measurement": "d",
                "value_template": "{{ value_json.nitrate_days }}",
            },
        ),
        (
            f"{PREFIX}/sensor/tankeco_{t}/alerts/config",
            common
            | {
                "name": "Active alerts",
                "unique_id": f"tankeco_{t}_alerts",
                "value_template": "{{ value_json.alerts }}",
            },
        ),
        (
            f"{PREFIX}/sensor/tankeco_{t}/top_alert/config",
            common
            | {
                "name": "Most urgent alert",
                "unique_id": f"tankeco_{t}_top_alert",
                "value_template": "{{ value_json.top_alert }}",
            },
        ),
    ]


def state_payload(state: dict) -> dict:
    alerts = state.get("alerts", [])
    cd = state.get("countdown_d")
    return {
        "nitrate_days": None if cd is None else round(float(cd), 1),
        "alerts": len(alerts),
        "top_alert": alerts[0]["message"][:250] if alerts else "none",
    }


class HomeAssistantPublisher:
    """Publishes discovery configs once and then the state, rate-limited."""

    def __init__(self, broker_url: str) -> None:
        addr = parse_broker_url(broker_url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"tankeco-dashboard-{uuid.uuid4().hex[:8]}"
        )
        if addr.tls:
            self.client.tls_set()
        self.client.connect_async(addr.host, addr.port)
        self.client.loop_start()
        self._announced: set[str] = set()
        self._last = 0.0

    def publish_state(self, state: dict) -> None:
        tank = state.get("tank")
        if not tank or time.monotonic() - self._last < MIN_INTERVAL_S:
            return
        self._last = time.monotonic()
        if tank not in self._announced:
            for topic, config in entities(tank):
                self.client.publish(topic, json.dumps(config), qos=1, retain=True)
            self._announced.add(tank)
        self.client.publish(
            f"tankeco/{_slug(tank)}/forecast/state", json.dumps(state_payload(state)), qos=1
        )

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
