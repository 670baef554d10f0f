"""The virtual node through the machine's Mosquitto into the real bridge and a SQLite store.

The node runs half a simulated day at 50,000x; its own ``--dry-run`` with the same
seed and start says exactly which readings it sends, and the simulation says what the
water really did: the store must hold each reading once, with the node's values, and
those values must sit within sensor noise of the simulation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tankeco.scenario.loading import load_scenario
from tankeco.sim.engine import simulate
from tankeco.store import open_store
from tankeco.units.molar import NH3_PER_NH3_N
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import ROOT, BridgeProcess, count_accepted, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Half a day: the first feedings (turtle and fish) come at day 0.375.
DAYS = 0.5


def clear_retained(topics: list[str]) -> None:
    """Leave nothing retained behind on the shared system broker."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"clean-{uuid.uuid4().hex[:8]}")
    c.connect("127.0.0.1", 1883)
    c.loop_start()
    for info in [c.publish(t, b"", qos=1, retain=True) for t in topics]:
        info.wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def expected_readings(lines: list[str]) -> tuple[dict[tuple[str, int], dict], list[dict]]:
    """From the dry run's lines: good readings by (sensor, seq), and the sentinels."""
    states = [json.loads(line.split(" ", 1)[1]) | {"sensor": line.split("/")[4]}
              for line in lines if line.split(" ", 1)[0].endswith("/state")]  # fmt: skip
    sentinels = [s for s in states if s["value"] in (85.0, -127.0)]
    good = {(s["sensor"], s["seq"]): s for s in states if s not in sentinels}
    return good, sentinels


def test_native_node_lands_exactly_once_and_matches_the_simulation(tmp_path: Path) -> None:
    tank = f"vn{uuid.uuid4().hex[:8]}"
    start = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    start_iso = start.isoformat().replace("+00:00", "Z")
    node_args = ["--tank", tank, "--days", str(DAYS), "--seed", "5", "--start", start_iso,
                 "--sentinel-rate", "0.02", "--dropouts-per-day", "4", "--quiet"]  # fmt: skip
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    bridge = BridgeProcess(tmp_path, ["--broker", "mqtt://127.0.0.1:1883", "--store", store_url,
                                      "--client-id", f"bridge-{tank}", "--session-expiry", "30",
                                      "--flush-interval", "0.1"])  # fmt: skip
    cmd = [sys.executable, "-m", "tankeco", "node", *node_args]
    dry = subprocess.Popen([*cmd, "--dry-run", "--speed", "1e7"], cwd=ROOT, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        bridge.wait_for_log("connected to")
        live = subprocess.run([*cmd, "--speed", "50000"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert live.returncode == 0, live.stderr
        expected_out, _ = dry.communicate(timeout=60)
        lines = expected_out.splitlines()
        assert f"sent {len(lines)} messages ({len(lines)} acknowledged" in live.stderr

        good, sentinels = expected_readings(lines)
        assert sentinels and len(good) > 500
        wait_for(lambda: count_accepted(store_url) >= len(good), 20, "all readings stored")
        assert bridge.terminate() == 0
    finally:
        if dry.poll() is None:
            dry.kill()
        bridge.terminate()
        clear_retained([f"tankeco/v1/home/{tank}/{s}" for s in
                        ("vnode/status", "temp/meta", "ph/meta", "nh3/meta")])  # fmt: skip

    store = open_store(store_url)
    try:
        rows = store.readings(tank=tank)
        quarantine = [q for q in store.quarantined() if tank in q.topic]
        events = store.events(tank=tank)
        status = {s.sensor: s.status for s in store.sensor_states() if s.tank == tank}
    finally:
        store.close()

    # Exactly once: every reading the node sent, no more, no duplicate.
    assert len(rows) == len(good)
    assert {(r.sensor, r.seq) for r in rows} == set(good)
    assert sorted(q.reason for q in quarantine) == ["sensor_sentinel"] * len(sentinels)
    assert status["vnode"] == "offline"
    event_topic = f"tankeco/v1/home/{tank}/events"
    assert len(events) == sum(1 for line in lines if line.startswith(event_topic)) == 2
    assert {e.kind for e in events} == {"feeding"}
    for r in rows:
        sent = good[(r.sensor, r.seq)]
        assert r.ts_ms == int(datetime.fromisoformat(sent["ts"]).timestamp() * 1000)
        factor = 1 / NH3_PER_NH3_N if r.sensor == "nh3" else 1.0
        assert r.value == pytest.approx(sent["value"] * factor, abs=1e-9)

    # The node's values follow the simulated water within the sensors' noise.
    ts = simulate(load_scenario(None, []), DAYS).timeseries
    start_ms = start.timestamp() * 1000
    for sensor, column, tolerance in (
        ("temp", "temp_c", 0.25 + 0.0625 / 2 + 5 * 0.02),  # offset, step, noise
        ("ph", "ph", 0.15 + 5 * 0.015),  # drift bound, noise
        ("nh3", "nh3_mg_l", 0.005),  # noise floor 0.001 mg/L NH3, 5 % of a tiny value
    ):
        mine = [r for r in rows if r.sensor == sensor]
        t_d = (np.array([r.ts_ms for r in mine]) - start_ms) / 86_400_000
        truth = np.interp(t_d, ts["time_d"], ts[column])
        assert np.abs(np.array([r.value for r in mine]) - truth).max() < tolerance, sensor


def test_node_rides_through_a_broker_restart_without_loss_or_duplicate(tmp_path: Path) -> None:
    """Readings published while the broker is down wait in paho and are sent on reconnect."""
    broker = Mosquitto(tmp_path / "broker").start()
    start = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    node_args = ["--tank", "restart", "--days", "1", "--seed", "8", "--quiet",
                 "--start", start.isoformat().replace("+00:00", "Z")]  # fmt: skip
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    bridge_args = ["--broker", broker.url, "--store", store_url,
                   "--client-id", "bridge-restart", "--flush-interval", "0.1"]  # fmt: skip
    bridge = BridgeProcess(tmp_path, bridge_args)
    cmd = [sys.executable, "-m", "tankeco", "node", *node_args]
    dry = subprocess.run([*cmd, "--dry-run", "--speed", "1e7"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    good, _ = expected_readings(dry.stdout.splitlines())
    live: subprocess.Popen[str] | None = None
    try:
        bridge.wait_for_log("connected to")
        live = subprocess.Popen([*cmd, "--broker", broker.url, "--speed", "20000"], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        wait_for(lambda: count_accepted(store_url) > 300, 20, "the first readings")
        broker.stop()
        broker.start()
        _, err = live.communicate(timeout=60)
        assert live.returncode == 0, err
        n = len(dry.stdout.splitlines())
        assert f"sent {n} messages ({n} acknowledged by the broker, 1 reconnect(s))" in err
        wait_for(lambda: count_accepted(store_url) >= len(good), 20, "all readings stored")
        assert bridge.terminate() == 0
    finally:
        if live is not None and live.poll() is None:
            live.kill()
        bridge.terminate()
        broker.stop()
    store = open_store(store_url)
    try:
        rows = store.readings(tank="restart")
    finally:
        store.close()
    assert len(rows) == len(good)
    assert {(r.sensor, r.seq) for r in rows} == set(good)
