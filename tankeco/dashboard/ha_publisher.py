"""Forecast and alerts as Home Assistant entities, through MQTT discovery.

Keepers who live in Home Assistant get three sensors per tank without writing YAML: the
days until nitrate passes its limit, the number of active alerts and the most urgent
alert's text.  Discovery configs are retained (Home Assistant finds them after a
restart).  The dashboard publishes the state on its own schedule (every
``interval_s``, default a minute), whether or not a page is open; the broker can need a
user name, password and TLS (Home Assistant's Mosquitto add-on does).  A refused login
is logged, not swallowed.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tankeco.bridge.broker import parse_broker_url
from tankeco.errors import UserError

log = logging.getLogger("tankeco.dashboard.ha")

PREFIX = "homeassistant"
#: How often the state is published, seconds.
INTERVAL_S = 60.0


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
    """Publishes discovery configs once per tank, then the state every ``interval_s``."""

    def __init__(
        self,
        broker_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        interval_s: float = INTERVAL_S,
    ) -> None:
        if not interval_s > 0:
            raise UserError(f"--ha-interval {interval_s}: must be more than 0 s")
        addr = parse_broker_url(broker_url)
        self.broker = addr
        self.interval_s = float(interval_s)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"tankeco-dashboard-{uuid.uuid4().hex[:8]}"
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if addr.tls or tls_ca:
            try:
                self.client.tls_set(ca_certs=tls_ca)
            except (OSError, ssl.SSLError) as exc:
                raise UserError(f"--tls-ca {tls_ca!r}: {exc}") from None
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(1, 60)
        self.client.connect_async(addr.host, addr.port)
        self.client.loop_start()
        self._announced: set[str] = set()
        self.connected = False
        self.published = 0

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            log.warning("Home Assistant broker %s refused the login: %s", self.broker, reason_code)
            return
        self.connected = True
        self._announced.clear()  # announce again: the broker may have lost retained configs
        log.info("publishing for Home Assistant on %s", self.broker)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if self.connected:
            log.warning("Home Assistant broker %s disconnected: %s", self.broker, reason_code)
        self.connected = False

    def publish_state(self, state: dict) -> bool:
        """Publish the state of ``state["tank"]`` (with its configs the first time)."""
        tank = state.get("tank")
        if not tank or not self.connected:
            return False
        if tank not in self._announced:
            for topic, config in entities(tank):
                self.client.publish(topic, json.dumps(config), qos=1, retain=True)
            self._announced.add(tank)
        self.client.publish(
            f"tankeco/{_slug(tank)}/forecast/state", json.dumps(state_payload(state)), qos=1
        )
        self.published += 1
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
