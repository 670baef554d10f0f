"""Run the real bridge as a subprocess and talk to it through a real broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tankeco.store import open_store

ROOT = Path(__file__).resolve().parents[2]


class BridgeProcess:
    """``python -m tankeco bridge ...`` with its stderr in a file we can read while it runs."""

    def __init__(self, tmp: Path, args: Sequence[str], name: str = "bridge") -> None:
        self.log_path = tmp / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.args = [sys.executable, "-m", "tankeco", "bridge", *args]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, stdout=self._log, stderr=self._log, env=env
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, count: int = 1, timeout_s: float = 15) -> None:
        deadline = time.monotonic() + timeout_s
        while self.log.count(text) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"bridge exited {self.proc.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in bridge log after {timeout_s} s:\n{self.log}")
            time.sleep(0.05)

    def terminate(self, timeout_s: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout_s)

    def kill(self) -> None:
        self.proc.kill()
        self.wait()

    def wait(self, timeout_s: float = 15) -> int:
        try:
            rc = self.proc.wait(timeout=timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return rc


class Publisher:
    """A QoS 1 publisher that keeps its un-acked messages across broker restarts."""

    def __init__(
        self,
        port: int,
        client_id: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        persistent: bool = False,
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}",
            # Persistent only where asked (throwaway brokers): on the shared system broker
            # a v3.1.1 session without expiry would stay forever.
            clean_session=not persistent,
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.acked = 0
        self._lock = threading.Lock()
        self.client.on_publish = self._on_publish
        if username:
            self.client.username_pw_set(username, password)
        if tls_ca:
            self.client.tls_set(ca_certs=tls_ca)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        with self._lock:
            self.acked += 1

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.infos.append(self.client.publish(topic, payload, qos=1, retain=retain))

    def wait_all(self, timeout_s: float = 30) -> None:
        """Wait for a PUBACK for every publish, including those queued while disconnected."""
        deadline = time.monotonic() + timeout_s
        while self.acked < len(self.infos):
            if time.monotonic() > deadline:
                missing = len(self.infos) - self.acked
                raise AssertionError(f"{missing} publishes not acknowledged by the broker")
            time.sleep(0.01)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def bridge_args(
    broker: str, store: str, client_id: str, *extra: str, session_expiry_s: int = 300
) -> list[str]:
    """A test bridge's arguments: its own persistent session, a short flush interval."""
    return [
        "--broker", broker, "--store", store, "--client-id", client_id,
        "--session-expiry", str(session_expiry_s), "--flush-interval", "0.1", *extra,
    ]  # fmt: skip


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def count_accepted(store_url: str) -> int:
    store = open_store(store_url)
    try:
        return store.counters().get("accepted", 0)
    finally:
        store.close()


def native_payload(seq: int, ts_ms: int, value: float = 25.0) -> bytes:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_ms / 1000)) + f".{ts_ms % 1000:03d}Z"
    return json.dumps(
        {"v": 1, "ts": ts, "seq": seq, "quantity": "temperature", "value": value, "unit": "°C",
         "source": {"kind": "ds18b20", "id": "28-test"}}
    ).encode()  # fmt: skip


def stream_in_thread(fn: Callable[[], None]) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t
