"""The bridge: MQTT in, store out, nothing lost and nothing stored twice.

How each guarantee is kept:

* **Nothing lost.**  A persistent MQTT 5 session (fixed client id, ``clean_start=False``,
  a session expiry) makes the broker queue QoS 1 messages while the bridge is away.
  Messages are acknowledged *manually*, only after the batch holding them is committed,
  so a crash (even SIGKILL) leaves every uncommitted message un-acked and the broker
  sends it again.
* **Nothing twice.**  The redelivered messages that had in fact been committed collide
  with the unique (sensor, timestamp, seq) constraint and are counted as duplicates.
* **Throughput.**  Decoding and writing run in a writer process of their own
  (:mod:`tankeco.bridge.writer`), batches of messages in one transaction each, while this
  process only reads MQTT and acknowledges; the MQTT 5 Receive Maximum lets the broker
  keep four batches in flight, written while the next ones arrive (groups that queued
  up behind a slow commit are merged into one transaction).
* **Restarts of the broker.**  The loop reconnects with exponential backoff and jitter
  and re-subscribes in ``on_connect``; acks of the old connection are dropped (their
  messages come again and are de-duplicated).
* **Outages of the store.**  A write that fails because the database is away
  (:class:`~tankeco.store.StoreUnavailable`) is kept and retried with exponential backoff
  by the writer; the store reconnects by itself.  While it is away the bridge stops
  reading once it holds a Receive Maximum of messages, so memory stays bounded and the
  rest waits in the broker.
* **Poison messages.**  A batch the store refuses for its data is split in halves until
  the message at fault is found; that one is quarantined (``store_rejected``) and the
  others are written, so one message never blocks the stream.  A retried batch writes
  the same rows again, and their keys keep every row (quarantine included) single.
* **MQTT 3.1.1 or 5.**  Persistent sessions exist in both (``clean_session=False``);
  5 adds the session expiry, Receive Maximum and Maximum Packet Size.
"""

from __future__ import annotations

import logging
import random
import select
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
from tankeco.bridge.ingest import Ingestor
from tankeco.bridge.writer import BatchWriter, RawMessage, WriterProcess, Written
from tankeco.errors import UserError
from tankeco.store import Store, StoreUnavailable

PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}
#: How long a stopping bridge waits for the writer to commit what it holds, in s.
SHUTDOWN_WAIT_S = 5.0
#: How often the loop looks for groups the writer committed (to acknowledge), in s.
COLLECT_EVERY_S = 0.01
#: Most packets read in one go before the loop looks at its timers again.
READ_BURST = 200
#: Most payload bytes held (received, not yet committed) before the bridge stops reading:
#: a Receive Maximum of messages near the Maximum Packet Size would otherwise be gigabytes.
MAX_HELD_BYTES = 32 * 1024 * 1024

log = logging.getLogger("tankeco.bridge")

#: CONNACK reasons that retrying cannot fix, with what the user can do about them.
_FATAL_CONNACK = {
    "Bad user name or password": "check --username and --password-file",
    "Not authorized": "check --username and --password-file, and the broker's ACL",
    "Client identifier not valid": "choose another --client-id",
    "Banned": "the broker banned this client",
    "Unsupported protocol version": "try --protocol 3.1.1",
    "Unacceptable protocol version": "try --protocol 3.1.1",
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
    #: "5" or "3.1.1" (the embedded demo broker, amqtt, speaks only 3.1.1).
    protocol: str = "5"
    #: MQTT 5 Maximum Packet Size: the broker discards (for this client) anything larger,
    #: so a flood of huge payloads never reaches the bridge's memory.
    max_packet_bytes: int = 1_048_576
    batch_size: int = 500
    flush_interval_s: float = 0.25
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86_400
    backoff_min_s: float = 0.2
    backoff_max_s: float = 30.0
    #: How many un-acked QoS 1 messages the broker may send us (MQTT 5 Receive Maximum):
    #: four batches by default, so the broker keeps sending while the writer commits and
    #: a writer that fell behind can merge what queued up into one transaction.
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
        if self.protocol not in PROTOCOLS:
            raise UserError(f"--protocol {self.protocol!r}: use one of {', '.join(PROTOCOLS)}")
        if self.max_packet_bytes < 1024:
            raise UserError(f"--max-packet-bytes {self.max_packet_bytes}: at least 1024")
        if self.receive_maximum <= 0:
            self.receive_maximum = min(65_535, max(4 * self.batch_size, 100))


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
        #: The group being filled: messages as they cross to the writer, and their acks.
        self._pending: list[RawMessage] = []
        self._acks: list[tuple[int, int, int]] = []  # (generation, mid, qos)
        #: Counters of this side (connects, sessions lost, ...), sent with the next group.
        self._counters: dict[str, int] = {}
        self._batch_started = 0.0
        self._arrival = 0
        #: Groups handed to the writer, not yet committed: group -> (messages, bytes, acks).
        self._groups: dict[int, tuple[int, int, list[tuple[int, int, int]]]] = {}
        self._next_group = 0
        self._in_writer = 0
        self._held_bytes = 0
        self._writer: WriterProcess | None = None
        self._writer_lost = False
        self._next_collect = 0.0
        self._next_alive_check = 0.0
        self._subscribed: set[str] = set()
        self._session_seen = False
        #: Whether the broker accepted (CONNACK) the connection on the current socket.
        self._accepted_on_socket = False
        #: SUBSCRIBE packet id -> its topic filters, until the broker's SUBACK names them.
        self._pending_subscriptions: dict[int, list[str]] = {}
        #: Messages per worker, so a shared group's split can be seen in the counters.
        self._per_client_counter = f"messages@{options.client_id}"
        self._connects_counter = f"connects@{options.client_id}"
        counters = self._startup_counters()
        #: This client id ran against this store before, so the broker should know it.
        self._ran_before = counters.get(self._connects_counter, 0) > 0
        if options.shared_group:
            log.warning(
                "shared subscriptions (group %s): a stopped worker's share waits in its"
                " session until it comes back (or the session expires), and messages sent"
                " after a broker restart before the workers subscribe again are lost;"
                " see docs/sensors.md",
                options.shared_group,
            )
        restored = ingestor.restore_discovery(store.discovery_configs())
        if restored:
            log.info("re-read %d Home Assistant discovery configs from the store", restored)
        #: Every topic filter this side subscribes to (grows as the writer reports more).
        self._topics: list[str] = ingestor.subscriptions()
        self.client = self._make_client()

    def _count(self, name: str, n: int = 1) -> None:
        self._counters[name] = self._counters.get(name, 0) + n

    def _startup_counters(self) -> dict[str, int]:
        try:
            return self.store.counters()
        except StoreUnavailable as exc:
            log.warning("store unavailable at start (%s); will retry", exc)
            return {}

    # -- setup ----------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        v5 = self.o.protocol == "5"
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.o.client_id,
            protocol=PROTOCOLS[self.o.protocol],
            manual_ack=True,
            # MQTT 3.1.1 has no clean_start: the session is kept by clean_session=False.
            **({} if v5 else {"clean_session": False}),
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
        if not topics:
            return
        if self.o.protocol == "5":
            # Retain handling 1: retained messages only for a new subscription, so a
            # resumed session does not replay every retained value on each reconnect.
            opts = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
            todo: list = [(self._filter(t), opts) for t in topics]
        else:
            todo = [(self._filter(t), 1) for t in topics]
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
        self._accepted_on_socket = True
        self._generation += 1
        self._count("connects")
        self._count(self._connects_counter)
        log.info(
            "connected to %s as %s with MQTT %s (session %s)",
            self.o.broker,
            self.o.client_id,
            self.o.protocol,
            "resumed" if flags.session_present else "new",
        )
        if not flags.session_present and (self._session_seen or self._ran_before):
            self._count("sessions_lost")
            log.warning(
                "the broker had no session for %s although this bridge %s: messages sent"
                " while it was away are lost. The broker restarted without persistence, or"
                " the session expired (--session-expiry); see docs/sensors.md",
                self.o.client_id,
                "was connected before" if self._session_seen else "used this store before",
            )
        self._session_seen = True
        self._subscribed.clear()
        self._subscribe(self._topics)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if self._connected and not self._stopping:
            log.warning("disconnected from %s: %s", self.o.broker, reason_code)
            self._count("disconnects")
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
        self._arrival += 1
        payload = msg.payload
        self._held_bytes += len(payload)
        self._pending.append(
            (msg.topic, payload, int(time.time() * 1000), msg.retain, msg.dup, self._arrival)
        )
        if msg.qos > 0:
            self._acks.append((self._generation, msg.mid, msg.qos))

    # -- writing ----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish: it flushes what it holds, acks, disconnects."""
        self._stopping = True

    @property
    def unwritten(self) -> int:
        """Messages received but not yet committed to the store."""
        return len(self._pending) + self._in_writer

    def flush(self) -> None:
        """Hand the group being filled (and this side's counters) to the writer."""
        self._batch_started = 0.0
        if not self._pending and not self._counters:
            return
        assert self._writer is not None
        if self._pending:
            self._count(self._per_client_counter, len(self._pending))
        group = self._next_group
        self._next_group += 1
        self._writer.submit(group, self._pending, self._counters)
        self._groups[group] = (
            len(self._pending),
            sum(len(m[1]) for m in self._pending),
            self._acks,
        )
        self._in_writer += len(self._pending)
        self._pending, self._acks, self._counters = [], [], {}

    def _committed(self, w: Written) -> None:
        """Acknowledge a group the writer committed; subscribe to topics it found."""
        n, n_bytes, acks = self._groups.pop(w.group)
        self._in_writer -= n
        self._held_bytes -= n_bytes
        if self._connected:
            for gen, mid, qos in acks:
                if gen == self._generation:
                    self.client.ack(mid, qos)
        new = [t for t in w.new_topics if t not in self._topics]
        if new:
            self._topics.extend(new)
            if self._connected:
                self._subscribe(new)

    def _collect(self) -> None:
        assert self._writer is not None
        now = time.monotonic()
        if now < self._next_collect and not self._held_full():
            return
        self._next_collect = now + COLLECT_EVERY_S
        for w in self._writer.done():
            self._committed(w)
        if now < self._next_alive_check:
            return
        self._next_alive_check = now + 0.5
        if not self._writer_lost and not self._writer.alive:
            self._writer_lost = True
            self._stopping = True
            log.error("the writer process stopped unexpectedly; stopping the bridge")

    def _due(self) -> bool:
        if len(self._pending) >= self.o.batch_size:
            return True
        return bool(self._batch_started) and (
            time.monotonic() - self._batch_started >= self.o.flush_interval_s
        )

    # -- the loop -------------------------------------------------------------------
    def _connect_once(self) -> bool:
        try:
            if self._ever_connected:
                self.client.reconnect()
            elif self.o.protocol == "5":
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.o.session_expiry_s
                props.ReceiveMaximum = self.o.receive_maximum
                props.MaximumPacketSize = self.o.max_packet_bytes
                self.client.connect(
                    self.o.broker.host,
                    self.o.broker.port,
                    keepalive=self.o.keepalive_s,
                    clean_start=False,
                    properties=props,
                )
            else:
                self.client.connect(
                    self.o.broker.host, self.o.broker.port, keepalive=self.o.keepalive_s
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

    def _loop_once(self, timeout_s: float) -> MQTTErrorCode:
        """One turn of the MQTT client through paho's external-loop calls.

        Not ``client.loop()``: that one adds a wake-up socket pair, and then every ack sent
        from outside a callback costs a second ``send`` (and the next ``select`` a
        ``recv``); with ``loop_read``/``loop_write``/``loop_misc`` around our own
        ``select`` an ack is one ``send``, as in a bare subscriber.
        """
        c = self.client
        sock = c.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
        try:
            readable, _, _ = select.select(
                [sock], [sock] if c.want_write() else [], [], 0.0 if pending else timeout_s
            )
        except (OSError, ValueError):
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if readable or pending:
            rc = c.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        if c.want_write():
            rc = c.loop_write()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return c.loop_misc()

    def _read(self) -> MQTTErrorCode:
        """One turn of the MQTT client, then the packets already waiting, without select.

        Each turn reads one packet and pays a ``select``, a write pass and the keepalive
        check; under load the socket holds many packets, so after a message arrived the
        next ones are read directly (a read that finds no data ends the burst), up to
        :data:`READ_BURST` or a full batch.
        """
        before = self._arrival
        rc = self._loop_once(0.05)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._arrival == before:
            return rc
        for _ in range(READ_BURST):
            before = self._arrival
            rc = self.client.loop_read()
            if (
                rc != MQTTErrorCode.MQTT_ERR_SUCCESS
                or self._arrival == before
                or len(self._pending) >= self.o.batch_size
            ):
                break
        return rc

    def _held_full(self) -> bool:
        """Holding as many messages as the broker may send un-acked: read no more for now."""
        return (
            len(self._pending) + self._in_writer >= self.o.receive_maximum
            or self._held_bytes >= MAX_HELD_BYTES
        )

    def run(self) -> int:
        """Connect, ingest until stopped, then flush, ack and disconnect cleanly.

        Returns how many received messages could not be written (0 on a clean stop); those
        were not acknowledged, so the broker sends them again to the next bridge.
        """
        self._writer = WriterProcess(
            BatchWriter(self.store, self.ingestor),
            backoff_min_s=self.o.backoff_min_s,
            backoff_max_s=self.o.backoff_max_s,
        )
        try:
            unwritten = self._serve()
        finally:
            self._writer.stop(1.0)
        # A writer that died is a failure even if it held nothing: a supervisor restarts.
        return max(unwritten, 1) if self._writer_lost else unwritten

    def _serve(self) -> int:
        backoff = self.o.backoff_min_s
        next_attempt = 0.0
        socket_open = False
        while not self._stopping:
            self._collect()
            if not socket_open:
                if time.monotonic() < next_attempt:
                    time.sleep(min(0.05, next_attempt - time.monotonic()))
                    if self._due():
                        self.flush()
                    continue
                socket_open = self._connect_once()
                self._accepted_on_socket = False
                if not socket_open:
                    next_attempt = time.monotonic() + backoff * random.uniform(0.8, 1.2)
                    backoff = min(backoff * 2, self.o.backoff_max_s)
                    continue
            if self._held_full():
                # The writer is behind: keep the connection alive (pings) without reading,
                # and wake up as soon as it commits a group.
                rc = self.client.loop_misc()
                if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                    rc = self.client.loop_write()
                if self._pending and not self._groups:
                    self.flush()
                assert self._writer is not None
                w = self._writer.wait(0.05)
                if w is not None:
                    self._committed(w)
            else:
                rc = self._read()
            if self._fatal:
                raise UserError(self._fatal)
            if self._connected:
                backoff = self.o.backoff_min_s
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                if not self._accepted_on_socket:
                    log.warning(
                        "connection to %s closed before the broker accepted it (%s); does it"
                        " speak MQTT %s? (--protocol)",
                        self.o.broker,
                        mqtt.error_string(rc),
                        self.o.protocol,
                    )
                self._connected = False
                socket_open = False
                self.flush()  # keep what arrived; it is re-sent un-acked and de-duplicated
                next_attempt = time.monotonic() + backoff * random.uniform(0.8, 1.2)
                backoff = min(backoff * 2, self.o.backoff_max_s)
                self._count("reconnects")
                continue
            if self._due():
                self.flush()
        return self._shutdown(socket_open)

    def _shutdown(self, socket_open: bool) -> int:
        assert self._writer is not None
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        self.flush()
        while self._groups and not self._writer_lost and time.monotonic() < deadline:
            w = self._writer.wait(0.1)
            if w is not None:
                self._committed(w)
            elif not self._writer.alive:
                break
        if socket_open and self._connected:
            self.client.disconnect()
            while self._connected and time.monotonic() < deadline:
                if self._loop_once(0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        if self.unwritten:
            log.error(
                "stopped with %d messages not written to %s (not acknowledged: the broker"
                " sends them again to the next bridge with this client id)",
                self.unwritten,
                self.store.url,
            )
        else:
            log.info("stopped; counters written to %s", self.store.url)
        return self.unwritten
