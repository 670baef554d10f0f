"""Send the node's messages in scaled real time: to a broker (paho 2.x) or to a text stream.

Pacing: a message planned for simulated second ``t_s`` leaves at ``t_s / speed`` real
seconds after the start.  If the broker is slow the node falls behind and then sends as
fast as the window allows; it never drops a message to catch up.

Throttling: paho numbers QoS 1 messages with 16-bit ids and refuses new ones past about
65,000 outstanding (MQTT 3.1.1 §2.3.1, OASIS 2014).  The sink reports how many are still
un-acknowledged and the loop waits while that is at ``max_pending``, so a node that lost
its broker stops producing instead of overflowing.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from tankeco.bridge.broker import BrokerAddress
from tankeco.errors import UserError
from tankeco.node.formats import Outgoing

#: Most un-acknowledged QoS 1 messages the node lets paho hold (paho's hard limit ~65k).
MAX_PENDING = 1000
#: Longest the node waits, on the way out, for the broker to acknowledge what it sent.
DRAIN_TIMEOUT_S = 10.0


class Sink(Protocol):
    """Where messages go: a broker connection or a text stream."""

    def publish(self, msg: Outgoing) -> bool:
        """Hand over one message; False if it cannot be taken now (retry later)."""

    def pending(self) -> int:
        """Messages handed over but not yet acknowledged."""

    def close(self, goodbye: Outgoing | None) -> int:
        """Send ``goodbye`` (if any), wait for acks, disconnect; return messages confirmed."""


class PrintSink:
    """``--dry-run``: one line per message, ``TOPIC [retained] PAYLOAD``, nothing sent."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def publish(self, msg: Outgoing) -> bool:
        flag = " [retained]" if msg.retain else ""
        self.stream.write(f"{msg.topic}{flag} {msg.payload.decode('utf-8')}\n")
        return True

    def pending(self) -> int:
        return 0

    def close(self, goodbye: Outgoing | None) -> int:
        if goodbye is not None:
            self.publish(goodbye)
        self.stream.flush()
        return 0


@dataclass(frozen=True)
class MqttLogin:
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None


class MqttSink:
    """A paho client with a retained last will, re-announcing itself after reconnects."""

    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        will: Outgoing,
        birth: Callable[[], list[Outgoing]],
        login: MqttLogin = MqttLogin(),
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.broker = broker
        self._birth = birth
        self._lock = threading.Lock()
        self._published = 0
        self._acked = 0
        self._connects = 0
        #: Message ids of re-announcements after reconnects, kept out of the run's count.
        self._rebirth_mids: set[int] = set()
        self._rebirth_acked = 0
        self._connected = threading.Event()
        self._refused: str | None = None
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        c.will_set(will.topic, will.payload, qos=1, retain=True)
        if login.username is not None:
            c.username_pw_set(login.username, login.password)
        if broker.tls or login.tls_ca:
            try:
                c.tls_set(ca_certs=login.tls_ca)
            except (OSError, ssl.SSLError) as exc:
                raise UserError(f"--tls-ca {login.tls_ca!r}: {exc}") from None
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(0.2, 10)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        self.client = c
        self._connect(connect_timeout_s)

    def _connect(self, timeout_s: float) -> None:
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        except ssl.SSLError as exc:
            raise UserError(f"TLS with {self.broker} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise UserError(f"cannot reach {self.broker}: {exc.strerror or exc}") from None
        self.client.loop_start()
        if not self._connected.wait(timeout_s) or self._refused:
            self.client.loop_stop()
            why = self._refused or f"no answer within {timeout_s:g} s"
            raise UserError(f"broker {self.broker} refused the connection: {why}")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            self._refused = str(reason_code)
            self._connected.set()
            client.disconnect()
            return
        self._connects += 1
        if self._connects > 1:
            # The broker may have published the will while we were away: say hello again.
            # (This runs in paho's network thread, so no PUBACK is handled before the mid
            # is recorded.)
            for msg in self._birth():
                info = self.client.publish(msg.topic, msg.payload, qos=msg.qos, retain=msg.retain)
                with self._lock:
                    self._rebirth_mids.add(info.mid)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        with self._lock:
            if mid in self._rebirth_mids:
                self._rebirth_mids.discard(mid)
                self._rebirth_acked += 1
            else:
                self._acked += 1

    def publish(self, msg: Outgoing) -> bool:
        info = self.client.publish(msg.topic, msg.payload, qos=msg.qos, retain=msg.retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            return False
        # MQTT_ERR_NO_CONN: paho keeps QoS 1 messages and sends them after reconnecting.
        with self._lock:
            self._published += 1
        return True

    def pending(self) -> int:
        with self._lock:
            return self._published - self._acked + len(self._rebirth_mids)

    @property
    def reconnects(self) -> int:
        """How often the connection was lost and made again during the run."""
        return max(self._connects - 1, 0)

    def close(self, goodbye: Outgoing | None) -> int:
        if goodbye is not None:
            while not self.publish(goodbye):
                time.sleep(0.01)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.client.disconnect()
        self.client.loop_stop()
        with self._lock:
            return self._acked


@dataclass
class RunStats:
    """What a run did: messages handed to the sink, and how far it got (simulated s)."""

    sent: int = 0
    confirmed: int = 0
    last_t_s: float = 0.0
    stopped_early: bool = False


def run(
    messages: Iterable[Outgoing],
    sink: Sink,
    speed: float,
    stop: threading.Event,
    *,
    goodbye: Callable[[float], Outgoing] | None = None,
    max_pending: int = MAX_PENDING,
    progress: Callable[[RunStats], None] | None = None,
    progress_every_s: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
) -> RunStats:
    """Send ``messages`` paced by ``speed`` until they run out or ``stop`` is set.

    ``goodbye(t_s)`` builds the last message (the node going offline), sent on the way
    out either way, so a stopped node leaves a true retained status behind.
    """
    stats = RunStats()
    t0 = clock()
    next_progress = t0 + progress_every_s
    for msg in messages:
        due = t0 + msg.t_s / speed
        while not stop.is_set() and ((wait := due - clock()) > 0 or sink.pending() >= max_pending):
            stop.wait(min(max(wait, 0.005), 0.2))
        while not stop.is_set() and not sink.publish(msg):
            stop.wait(0.01)
        if stop.is_set():
            break
        stats.sent += 1
        stats.last_t_s = msg.t_s
        if progress is not None and clock() >= next_progress:
            progress(stats)
            next_progress = clock() + progress_every_s
    stats.stopped_early = stop.is_set()
    last = goodbye(stats.last_t_s) if goodbye is not None else None
    if last is not None:
        stats.sent += 1
    stats.confirmed = sink.close(last)
    return stats
