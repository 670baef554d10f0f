"""The bridge: MQTT in, store out, nothing lost and nothing stored twice.

How each guarantee is kept:

* **Nothing lost.**  A persistent MQTT 5 session (fixed client id, ``clean_start=False``,
  a session expiry) makes the broker queue QoS 1 messages while the bridge is away.
  Messages are acknowledged *manually*, only after the batch holding them is committed,
  so a crash (even SIGKILL) leaves every uncommitted message un-acked and the broker
  sends it again.
* **Nothing twice.**  The redelivered messages that had in fact been committed collide
  with the unique (sensor, timestamp, seq) constraint and are counted as duplicates.
* **Throughput.**  Rows are written in batches, one transaction each; the MQTT 5
  Receive Maximum lets the broker keep a whole batch in flight while it is written.
* **Restarts of the broker.**  The loop reconnects with exponential backoff and jitter
  and re-subscribes in ``on_connect``; acks of the old connection are dropped (their
  messages come again and are de-duplicated).
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from tankeco.bridge.broker import BrokerAddress
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.errors import UserError
from tankeco.store import Batch, Store

log = logging.getLogger("tankeco.bridge")

#: CONNACK reasons that retrying cannot fix, with what the user can do about them.
_FATAL_CONNACK = {
    "Bad user name or password": "check --username and --password-file",
    "Not authorized": "check --username and --password-file, and the broker's ACL",
    "Client identifier not valid": "choose another --client-id",
    "Banned": "the broker banned this client",
    "Unsupported protocol version": "the broker must support MQTT 5 (Mosquitto 1.6 or later)",
    "Bad authentication method": "the broker wants another way to log in",
}


@dataclass
class BridgeOptions:
    """Everything the bridge needs besides the store and the ingestor."""

    broker: BrokerAddress
    client_id: str
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    shared_group: str | None = None
    batch_size: int = 500
    flush_interval_s: float = 0.25
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86_400
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    #: How many un-acked QoS 1 messages the broker may send us (MQTT 5 Receive Maximum).
    receive_maximum: int = field(default=0)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UserError(f"--batch-size {self.batch_size}: at least 1")
        if self.flush_interval_s <= 0:
            raise UserError(f"--flush-interval {self.flush_interval_s}: must be above 0 s")
        if (
            self.shared_group is not None
            and not self.shared_group.replace("-", "").replace("_", "").isalnum()
        ):
            raise UserError(f"--shared-group {self.shared_group!r}: letters, digits, _ and -")
        if self.receive_maximum <= 0:
            self.receive_maximum = min(65_535, max(2 * self.batch_size, 100))


class Bridge:
    """Runs until :meth:`stop` is called (the SIGTERM handler does that)."""

    def __init__(self, options: BridgeOptions, store: Store, ingestor: Ingestor) -> None:
        self.o = options
        self.store = store
        self.ingestor = ingestor
        self._stopping = False
        self._connected = False
        self._ever_connected = False
        self._fatal: str | None = None
        self._generation = 0
        self._batch = Batch()
        self._acks: list[tuple[int, int, int]] = []  # (generation, mid, qos)
        self._batch_started = 0.0
        self._retry_write_at = 0.0
        self._subscribed: set[str] = set()
        #: SUBSCRIBE packet id -> its topic filters, until the broker's SUBACK names them.
        self._pending_subscriptions: dict[int, list[str]] = {}
        #: Messages per worker, so a shared group's split can be seen in the counters.
        self._per_client_counter = f"messages@{options.client_id}"
        self.client = self._make_client()

    # -- setup ----------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.o.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.o.username is not None:
            c.username_pw_set(self.o.username, self.o.password)
        if self.o.broker.tls or self.o.tls_ca:
            try:
                c.tls_set(ca_certs=self.o.tls_ca)
            except (OSError, ssl.SSLError) as exc:
                raise UserError(f"--tls-ca {self.o.tls_ca!r}: {exc}") from None
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.max_queued_messages_set(0)
        return c

    def _filter(self, topic: str) -> str:
        # Discovery configs are retained, and brokers send no retained messages to shared
        # subscriptions: every worker subscribes to them directly (they are idempotent).
        if not self.o.shared_group or topic.endswith("/config"):
            return topic
        return f"$share/{self.o.shared_group}/{topic}"

    def _subscribe(self, topics: list[str]) -> None:
        # Retain handling 1: retained messages only for a new subscription, so a resumed
        # session does not replay every retained value on each reconnect.
        opts = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        todo = [(self._filter(t), opts) for t in topics]
        if todo:
            _, mid = self.client.subscribe(todo)
            self._pending_subscriptions[mid] = [f for f, _ in todo]
            self._subscribed.update(topics)

    # -- callbacks (run inside client.loop(), i.e. in our own thread) ----------------
    def _on_connect(self, client, userdata, flags, reason_code: ReasonCode, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            text = str(reason_code)
            if text in _FATAL_CONNACK:
                hint = _FATAL_CONNACK[text]
                self._fatal = f"broker {self.o.broker} refused the connection: {text} ({hint})"
            log.warning("connection refused by %s: %s", self.o.broker, text)
            return
        self._connected = True
        self._generation += 1
        self._batch.count("connects")
        log.info(
            "connected to %s as %s (session %s)",
            self.o.broker,
            self.o.client_id,
            "resumed" if flags.session_present else "new",
        )
        self._subscribed.clear()
        self._subscribe(self.ingestor.subscriptions())

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if self._connected and not self._stopping:
            log.warning("disconnected from %s: %s", self.o.broker, reason_code)
            self._batch.count("disconnects")
        self._connected = False

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:  # noqa: ANN001
        """Log what the broker granted (a keeper sees discovered topics arrive) or refused."""
        filters = self._pending_subscriptions.pop(mid, [])
        granted = [f for f, rc in zip(filters, reason_codes, strict=False) if not rc.is_failure]
        refused = [
            f"{f} ({rc})" for f, rc in zip(filters, reason_codes, strict=False) if rc.is_failure
        ]
        if granted:
            log.info("subscribed to %s", ", ".join(granted))
        if refused:
            log.warning("broker refused the subscription to %s", ", ".join(refused))

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:  # noqa: ANN001
        if not self._batch_started:
            self._batch_started = time.monotonic()
        self._batch.count(self._per_client_counter)
        new = self.ingestor.ingest(
            Message(msg.topic, msg.payload, int(time.time() * 1000), bool(msg.retain)), self._batch
        )
        if msg.qos > 0:
            self._acks.append((self._generation, msg.mid, msg.qos))
        if new:
            self._subscribe([t for t in new if t not in self._subscribed])

    # -- the loop -------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish: it flushes what it holds, acks, disconnects."""
        self._stopping = True

    def flush(self) -> bool:
        """Commit the held batch, then acknowledge its messages.  False if the store failed."""
        if not self._acks and not len(self._batch) and not self._batch.counters:
            self._batch_started = 0.0
            return True
        try:
            self.store.write(self._batch)
        except Exception as exc:  # the store may be briefly unavailable: keep, retry
            log.error("store write failed (%s); holding %d messages", exc, len(self._acks))
            self._retry_write_at = time.monotonic() + 1.0
            return False
        for gen, mid, qos in self._acks:
            if gen == self._generation and self._connected:
                self.client.ack(mid, qos)
        self._batch = Batch()
        self._acks = []
        self._batch_started = 0.0
        return True

    def _due(self) -> bool:
        if time.monotonic() < self._retry_write_at:
            return False
        if len(self._acks) >= self.o.batch_size:
            return True
        return bool(self._batch_started) and (
            time.monotonic() - self._batch_started >= self.o.flush_interval_s
        )

    def _connect_once(self) -> bool:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.o.session_expiry_s
        props.ReceiveMaximum = self.o.receive_maximum
        try:
            if self._ever_connected:
                self.client.reconnect()
            else:
                self.client.connect(
                    self.o.broker.host,
                    self.o.broker.port,
                    keepalive=self.o.keepalive_s,
                    clean_start=False,
                    properties=props,
                )
                self._ever_connected = True
            return True
        except ssl.SSLError as exc:
            hint = (
                " (give --tls-ca, the CA certificate that signed the broker's)"
                if isinstance(exc, ssl.SSLCertVerificationError)
                else ""
            )
            raise UserError(f"TLS with {self.o.broker} failed: {exc.reason or exc}{hint}") from None
        except OSError as exc:
            log.warning("cannot reach %s: %s", self.o.broker, exc)
            return False

    def run(self) -> None:
        """Connect, ingest until stopped, then flush, ack and disconnect cleanly."""
        backoff = self.o.backoff_min_s
        next_attempt = 0.0
        socket_open = False
        while not self._stopping:
            if not socket_open:
                if time.monotonic() < next_attempt:
                    time.sleep(min(0.05, next_attempt - time.monotonic()))
                    if self._due():
                        self.flush()
                    continue
                socket_open = self._connect_once()
                if not socket_open:
                    next_attempt = time.monotonic() + backoff * random.uniform(0.8, 1.2)
                    backoff = min(backoff * 2, self.o.backoff_max_s)
                    continue
            rc = self.client.loop(timeout=0.05)
            if self._fatal:
                raise UserError(self._fatal)
            if self._connected:
                backoff = self.o.backoff_min_s
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._connected = False
                socket_open = False
                self.flush()  # keep what arrived; it is re-sent un-acked and de-duplicated
                next_attempt = time.monotonic() + backoff * random.uniform(0.8, 1.2)
                backoff = min(backoff * 2, self.o.backoff_max_s)
                self._batch.count("reconnects")
                continue
            if self._due():
                self.flush()
        self._shutdown(socket_open)

    def _shutdown(self, socket_open: bool) -> None:
        deadline = time.monotonic() + 5.0
        while not self.flush() and time.monotonic() < deadline:
            time.sleep(0.2)
        if socket_open and self._connected:
            self.client.disconnect()
            while self._connected and time.monotonic() < deadline:
                self.client.loop(timeout=0.05)
        log.info("stopped; counters written to %s", self.store.url)
