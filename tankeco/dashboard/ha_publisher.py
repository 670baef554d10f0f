"""Measured values, forecast and alerts as Home Assistant entities, through MQTT discovery.

Keepers who live in Home Assistant get, per tank, one device holding every sensor the
store knows (its latest value, in the quantity registry's canonical unit with the basis
written out: "mg/L NO3-N") next to three forecast entities: the days until nitrate passes
its limit, the number of active alerts and the most urgent alert's text.  Nothing needs
YAML: discovery configs, the latest values and availability are retained, so Home
Assistant finds all of them after its own restart.

Availability says what Home Assistant may believe.  Every entity lists the publisher's
availability topic (``online`` on connect, ``offline`` as the MQTT last will, so a killed
dashboard turns every entity unavailable within the broker's keep-alive), and each
measured entity also its own topic, ``offline`` once the sensor's newest reading is
older than ``stale_min`` minutes (``--silent-min``, the age at which the dashboard calls a
sensor silent).  With ``availability_mode: all`` an entity is available only when both
say ``online``.  Keys and their meaning: Home Assistant's "MQTT Sensor" and "MQTT"
(discovery) documentation; see docs/sensors.md.

The dashboard publishes the forecast state on its own schedule (every ``interval_s``,
default a minute), whether or not a page is open; new readings are looked for every
few seconds.  The broker can need a user name, password and TLS (Home Assistant's
Mosquitto add-on does).  A refused login is logged, not swallowed.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tankeco import __version__
from tankeco.bridge.broker import parse_broker_url
from tankeco.errors import UserError
from tankeco.store import Reading, open_store
from tankeco.units.parse import PH, TEMPERATURE
from tankeco.units.quantities import QUANTITIES

log = logging.getLogger("tankeco.dashboard.ha")

PREFIX = "homeassistant"
#: How often the forecast state is published, seconds.
INTERVAL_S = 60.0
#: Longest wait between two looks at the store for new readings, seconds.
MEASURED_POLL_S = 5.0
#: Minutes without a newer reading after which a sensor's entity goes unavailable: the
#: dashboard's own default for a silent sensor (``--silent-min``).
STALE_MIN = 20.0
#: The publisher's own topics, outside the bridge's native ``tankeco/v1/`` tree.
HA_ROOT = "tankeco/ha"
#: ``online`` while the publisher runs; the broker publishes the last will ``offline``.
AVAILABILITY_TOPIC = f"{HA_ROOT}/availability"
ONLINE = "online"
OFFLINE = "offline"
#: Rows read from the store per query while catching up.
PAGE = 5000
#: Who publishes the configs (HA's ``origin``, logged when an entity is discovered).
ORIGIN = {"name": "tankeco", "sw_version": __version__}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:48] or "tank"


def device(tank: str) -> dict:
    """The Home Assistant device of one tank: its sensors and its forecast live on it."""
    t = _slug(tank)
    return {"identifiers": [f"tankeco_{t}"], "name": f"tankeco {tank}", "manufacturer": "tankeco"}


def availability(*topics: str) -> dict:
    """Availability keys: every topic must say ``online`` for the entity to be available."""
    return {
        "availability": [
            {"topic": t, "payload_available": ONLINE, "payload_not_available": OFFLINE}
            for t in topics
        ],
        "availability_mode": "all",
    }


def entities(tank: str) -> list[tuple[str, dict]]:
    """(config topic, config payload) of each forecast entity for ``tank``."""
    t = _slug(tank)
    state = f"tankeco/{t}/forecast/state"
    common = {"state_topic": state, "device": device(tank), "origin": ORIGIN} | availability(
        AVAILABILITY_TOPIC
    )
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


def measured_class(quantity: str, unit: str) -> dict:
    """``state_class``, ``device_class`` and ``unit_of_measurement`` for one quantity.

    From the quantity registry: the canonical unit, with the nitrogen basis in it
    ("mg/L NO3-N"), so a value in Home Assistant never needs its basis guessed.  Home
    Assistant refuses an entity whose unit is not one its device class allows, so a device
    class is given only where tankeco's canonical unit is one of them: ``temperature``
    (°C) and ``ph`` (which takes no unit).  Nitrogen species, oxygen and dissolved solids
    have no device class there; conductivity has one, but its micro sign changed between
    Home Assistant versions (U+00B5 / U+03BC), so it goes without.  A quantity the
    registry does not know (a probe stored as it came) keeps the unit it was stored in.
    Every reading is a measurement at a point in time: ``state_class: measurement``.
    """
    q = QUANTITIES.get(quantity)
    fields: dict = {"state_class": "measurement"}
    if q is not None and q.kind is PH:
        fields["device_class"] = "ph"
        return fields
    if q is not None and q.kind is TEMPERATURE:
        fields["device_class"] = "temperature"
    canonical = q.unit if q is not None else unit
    if canonical:
        fields["unit_of_measurement"] = canonical
    return fields


def _title(quantity: str) -> str:
    """The quantity's title without its unit: "nitrate" from "nitrate (mg N/L)"."""
    q = QUANTITIES.get(quantity)
    return re.sub(r"\s*\([^)]*\)$", "", q.title) if q is not None else quantity


def measured_topics(tank: str, sensor: str, quantity: str) -> tuple[str, str, str]:
    """(config topic, state topic, availability topic) of one sensor's quantity."""
    t, obj = _slug(tank), f"{_slug(sensor)}_{_slug(quantity)}"
    base = f"{HA_ROOT}/{t}/{obj}"
    return f"{PREFIX}/sensor/tankeco_{t}/{obj}/config", f"{base}/state", f"{base}/availability"


def measured_entity(tank: str, sensor: str, quantity: str, unit: str) -> dict:
    """The discovery config of one sensor's quantity (unique_id from tank, sensor, quantity)."""
    _, state, avail = measured_topics(tank, sensor, quantity)
    t = _slug(tank)
    return (
        {
            "name": f"{_title(quantity)} ({sensor})",
            "unique_id": f"tankeco_{t}_{_slug(sensor)}_{_slug(quantity)}",
            "state_topic": state,
            "value_template": "{{ value_json.value }}",
            "json_attributes_topic": state,
            "device": device(tank),
            "origin": ORIGIN,
        }
        | measured_class(quantity, unit)
        | availability(AVAILABILITY_TOPIC, avail)
    )


def measured_state(r: Reading) -> dict:
    """The retained state of one sensor: its newest value and when it was measured."""
    ts = datetime.fromtimestamp(r.ts_ms / 1000, UTC).isoformat(timespec="seconds")
    return {
        "value": r.value,
        "unit": r.unit,
        "measured_at": ts.replace("+00:00", "Z"),
        "sensor": r.sensor,
        "quantity": r.quantity,
    }


def state_payload(state: dict) -> dict:
    """The forecast entities' state from a tank page's state (``Monitor.state``)."""
    alerts = state.get("alerts", [])
    return _payload(state.get("countdown_d"), len(alerts), alerts[0] if alerts else None)


def overview_payload(row: dict) -> dict:
    """The same state from one tank's row of the overview (``Fleet.overview``): both come
    from ``tank_alerts``, so Home Assistant and the dashboard never disagree."""
    return _payload(row["forecast"]["countdown_d"], row["alerts"], row["top_alert"])


def _payload(countdown_d: float | None, n_alerts: int, top: dict | None) -> dict:
    return {
        "nitrate_days": None if countdown_d is None else round(float(countdown_d), 1),
        "alerts": n_alerts,
        "top_alert": top["message"][:250] if top else "none",
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


class HomeAssistantPublisher:
    """Discovery configs, availability and states of every tank for Home Assistant.

    The forecast state of every tank comes in through :meth:`publish_overview` (or one
    tank's through :meth:`publish_state`).  With ``store_url`` a
    thread also follows the store: every sensor's newest reading (read once at start,
    then only the rows stored since, through a cursor on the row id) is published when
    it changes, and each sensor's availability when its age crosses ``stale_min``.
    """

    def __init__(
        self,
        broker_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        interval_s: float = INTERVAL_S,
        store_url: str | None = None,
        stale_min: float = STALE_MIN,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        if not interval_s > 0:
            raise UserError(f"--ha-interval {interval_s}: must be more than 0 s")
        if not stale_min > 0:
            raise UserError(f"--silent-min {stale_min:g}: must be more than 0")
        addr = parse_broker_url(broker_url)
        self.broker = addr
        self.interval_s = float(interval_s)
        self.stale_ms = int(stale_min * 60_000)
        self.store_url = store_url
        self.clock = clock
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
        # The broker publishes this for us if we vanish without a DISCONNECT (kill -9,
        # power cut, network gone past the keep-alive): every entity turns unavailable.
        self.client.will_set(AVAILABILITY_TOPIC, OFFLINE, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(1, 60)
        self._announced: set[str] = set()
        self._lock = threading.Lock()
        #: Newest reading per (tank, sensor, quantity), and what was last published of it.
        self._latest: dict[tuple[str, str, str], Reading] = {}
        self._sent_state: dict[tuple[str, str, str], Reading] = {}
        self._sent_avail: dict[tuple[str, str, str], str] = {}
        self._resend = threading.Event()
        self._stop = threading.Event()
        self.connected = False
        self.published = 0
        self.measured_published = 0
        self.client.connect_async(addr.host, addr.port)
        self.client.loop_start()
        self._thread: threading.Thread | None = None
        if store_url is not None:
            self._thread = threading.Thread(
                target=self._follow_store, daemon=True, name="ha-measured"
            )
            self._thread.start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            log.warning("Home Assistant broker %s refused the login: %s", self.broker, reason_code)
            return
        client.publish(AVAILABILITY_TOPIC, ONLINE, qos=1, retain=True)  # the birth message
        self.connected = True
        self._announced.clear()  # announce again: the broker may have lost retained configs
        self._resend.set()
        log.info("publishing for Home Assistant on %s", self.broker)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if self.connected:
            log.warning("Home Assistant broker %s disconnected: %s", self.broker, reason_code)
        self.connected = False

    # -- forecast -----------------------------------------------------------------------
    def publish_overview(self, overview: dict) -> int:
        """Publish every tank's forecast state from the overview; returns how many."""
        return sum(self._publish(row["tank"], overview_payload(row)) for row in overview["tanks"])

    def publish_state(self, state: dict) -> bool:
        """Publish the state of ``state["tank"]`` (with its configs the first time)."""
        tank = state.get("tank")
        if not tank:
            return False
        return self._publish(tank, state_payload(state))

    def _publish(self, tank: str, payload: dict) -> bool:
        if not self.connected:
            return False
        if tank not in self._announced:
            for topic, config in entities(tank):
                self.client.publish(topic, json.dumps(config), qos=1, retain=True)
            self._announced.add(tank)
        # retained, like the measured states: Home Assistant shows the last forecast at once
        # after its own restart (availability says whether it is current)
        self.client.publish(
            f"tankeco/{_slug(tank)}/forecast/state", json.dumps(payload), qos=1, retain=True
        )
        self.published += 1
        return True

    # -- measured values ----------------------------------------------------------------
    def take(self, readings: list[Reading]) -> None:
        """Keep each sensor's newest reading by time (a late, older reading changes nothing)."""
        with self._lock:
            for r in readings:
                key = (r.tank, r.sensor, r.quantity)
                old = self._latest.get(key)
                if old is None or r.ts_ms >= old.ts_ms:
                    self._latest[key] = r

    def sync(self) -> int:
        """Publish what changed since the last call (all of it after a reconnect).

        Config and state go out when a sensor is new or has a newer reading; availability
        when the sensor's age crosses the limit.  Returns how many messages were sent.
        """
        if not self.connected:
            return 0
        everything = self._resend.is_set()
        self._resend.clear()
        now = self.clock()
        sent = 0
        with self._lock:
            latest = list(self._latest.items())
        for key, r in latest:
            tank, sensor, quantity = key
            config_topic, state_topic, avail_topic = measured_topics(tank, sensor, quantity)
            last = self._sent_state.get(key)
            if everything or last is None:
                config = measured_entity(tank, sensor, quantity, r.unit)
                self.client.publish(config_topic, json.dumps(config), qos=1, retain=True)
                sent += 1
            if everything or last is None or last != r:
                payload = json.dumps(measured_state(r))
                self.client.publish(state_topic, payload, qos=1, retain=True)
                self._sent_state[key] = r
                sent += 1
            avail = ONLINE if now - r.ts_ms <= self.stale_ms else OFFLINE
            if everything or self._sent_avail.get(key) != avail:
                self.client.publish(avail_topic, avail, qos=1, retain=True)
                self._sent_avail[key] = avail
                sent += 1
        self.measured_published += sent
        return sent

    def _follow_store(self) -> None:
        """Thread: read the newest reading of every sensor, then follow new rows."""
        assert self.store_url is not None
        store = None
        cursor = -1
        poll_s = min(self.interval_s, MEASURED_POLL_S)
        while not self._stop.is_set():
            try:
                if store is None:
                    store = open_store(self.store_url, create=False)
                if cursor < 0:
                    # Cursor first: a row committed between the two reads comes again
                    # through the cursor instead of falling between them.
                    _, cursor = store.readings_after(-1)
                    self.take(store.latest_readings())
                while True:
                    rows, cursor = store.readings_after(cursor, limit=PAGE)
                    self.take(rows)
                    if len(rows) < PAGE:
                        break
                self.sync()
            except Exception:  # noqa: BLE001 - the store or broker restarting: next time
                log.warning("Home Assistant: readings not published", exc_info=True)
            self._stop.wait(poll_s)
        if store is not None:
            store.close()

    def close(self) -> None:
        """Say ``offline`` (a clean stop sends no last will), then disconnect."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.connected:
            info = self.client.publish(AVAILABILITY_TOPIC, OFFLINE, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
