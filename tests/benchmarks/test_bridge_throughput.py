"""Sustained ingestion through Mosquitto with QoS 1, into SQLite and PostgreSQL, against a
bare paho subscriber measured in the same run (issue 13: at least 0.7x, under 100 MB).

Run with ``python3 -m pytest tests/benchmarks --benchmark-only``.  Method, for both the
bridge and the bare paho subscriber: create the persistent session, go away, let the
broker queue N QoS 1 messages, come back and time how long draining them takes.  Queuing
first takes the publisher's speed out of the measurement, so the figure is what the
subscriber itself sustains.  Bare and bridge runs alternate, ``ROUNDS`` of each, and the
best rate of each is compared: on cores shared with other jobs one run of either can be
slowed by half, and alternating exposes both to the same spells of load.

Memory: the bridge is two processes (the MQTT side and the writer it forks).  The target
is on their summed PSS (proportional set size: a page the two share after the fork counts
half in each), sampled every 50 ms while draining, its peak kept; the sum of their peak
RSS (VmHWM, shared pages counted twice) is recorded too, as an upper bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.benchmarks.harness import size, target
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import ROOT, BridgeProcess, Publisher, native_payload

N_MESSAGES = size(30_000, 1_000)  # TANKECO_BENCH_FAST=1: a short burst
ROUNDS = size(3, 1)
RECEIVE_MAXIMUM = 2000  # the bridge's default for --batch-size 500
#: Bridge rate / bare paho rate, both measured in the same run (absolute rates depend on
#: the machine and its load; the ratio is what the bridge itself costs).
TARGET_RATIO = 0.7
MEMORY_LIMIT_MB = 100


def queue_messages(port: int, n: int) -> None:
    pub = Publisher(port)
    now_ms = int(time.time() * 1000)
    for i in range(n):
        sensor = f"t{i % 20}"
        pub.publish(
            f"tankeco/v1/home/main/{sensor}/state",
            native_payload(i, now_ms - 3_600_000 + i // 20, 25.0 + (i % 7) / 100),
        )
    pub.wait_all(120)
    pub.close()


def bare_rate(broker: Mosquitto) -> float:
    script = [sys.executable, str(Path(__file__).with_name("bare_subscriber.py")), str(broker.port)]
    subprocess.run([*script, "bare", "0", str(RECEIVE_MAXIMUM)], check=True, cwd=ROOT)
    queue_messages(broker.port, N_MESSAGES)
    out = subprocess.run(
        [*script, "bare", str(N_MESSAGES), str(RECEIVE_MAXIMUM)],
        check=True, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["count"] == N_MESSAGES
    return N_MESSAGES / result["elapsed_s"]


def _with_children(pid: int) -> list[int]:
    children = [
        int(c)
        for t in Path(f"/proc/{pid}/task").iterdir()
        for c in (t / "children").read_text().split()
    ]
    return [pid, *children]


def _status_kb(path: Path, field: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in {path}")


def peak_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of ``pid`` plus that of its children (the bridge's writer), MB."""
    return sum(_status_kb(Path(f"/proc/{p}/status"), "VmHWM") for p in _with_children(pid)) / 1024


def pss_mb(pid: int) -> float:
    """PSS now of ``pid`` plus that of its children, MB (shared pages split between them)."""
    return (
        sum(_status_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in _with_children(pid)) / 1024
    )


def bridge_run(broker: Mosquitto, tmp: Path, store: str) -> tuple[float, float, float]:
    args = ["--broker", broker.url, "--store", store, "--client-id", "bench-bridge",
            "--session-expiry", "300"]  # fmt: skip
    first = BridgeProcess(tmp, args, "setup")
    first.wait_for_log("connected")
    time.sleep(0.3)
    assert first.terminate() == 0
    queue_messages(broker.port, N_MESSAGES)
    bridge = BridgeProcess(tmp, args, "bench")
    from tankeco.store import open_store

    reader = open_store(store)
    try:
        deadline = time.monotonic() + 30
        while "connected" not in bridge.log:
            assert time.monotonic() < deadline, bridge.log
            time.sleep(0.005)
        t0 = time.perf_counter()
        pss = 0.0
        while reader.counters().get("accepted", 0) < N_MESSAGES:
            assert time.perf_counter() - t0 < 120, f"stalled at {reader.counters()}"
            pss = max(pss, pss_mb(bridge.proc.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        rss = peak_rss_mb(bridge.proc.pid)
        assert bridge.terminate() == 0
        assert len(reader.readings()) == N_MESSAGES
    finally:
        reader.close()
    return N_MESSAGES / elapsed, pss, rss


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bridge_keeps_up_with_a_bare_subscriber(benchmark, tmp_path: Path, backend: str) -> None:  # noqa: ANN001
    from tests.conftest import drop_pg_schema, pg_store_url

    broker_bare = Mosquitto(tmp_path / "broker-bare").start()
    broker = Mosquitto(tmp_path / "broker-bridge").start()
    bare_rates: list[float] = []
    runs: list[tuple[float, float, float]] = []  # (rate, peak PSS, peak RSS sum)

    def run() -> None:
        for r in range(ROUNDS):
            bare_rates.append(bare_rate(broker_bare))
            store = (
                f"sqlite:///{tmp_path / f'bench{r}.db'}" if backend == "sqlite" else pg_store_url()
            )
            try:
                runs.append(bridge_run(broker, tmp_path, store))
            finally:
                if backend == "postgresql":
                    from tankeco.store import open_store

                    drop_pg_schema(open_store(store))

    try:
        benchmark.pedantic(run, rounds=1, iterations=1)
    finally:
        broker.stop()
        broker_bare.stop()
    bare = max(bare_rates)
    result = {
        "rate": max(r for r, _, _ in runs),
        "pss": max(p for _, p, _ in runs),
        "rss": max(m for _, _, m in runs),
    }
    ratio = result["rate"] / bare
    benchmark.extra_info.update(
        backend=backend,
        messages=N_MESSAGES,
        bridge_msg_s=round(result["rate"]),
        bare_paho_msg_s=round(bare),
        rounds=ROUNDS,
        bridge_msg_s_each=[round(r) for r, _, _ in runs],
        bare_paho_msg_s_each=[round(r) for r in bare_rates],
        ratio_bridge_to_bare=round(ratio, 3),
        bridge_peak_rss_mb=round(result["rss"], 1),
        bridge_peak_pss_mb=round(result["pss"], 1),
    )
    print(
        f"\n{backend}: bridge {result['rate']:.0f} msg/s {[round(r) for r, _, _ in runs]},"
        f" bare paho {bare:.0f} msg/s {[round(r) for r in bare_rates]} (best of {ROUNDS}), "
        f"ratio {ratio:.2f}, bridge peak PSS {result['pss']:.1f} MB"
        f" (sum of peak RSS {result['rss']:.1f} MB)"
    )
    target(result["pss"] < MEMORY_LIMIT_MB, f"bridge peak PSS < {MEMORY_LIMIT_MB} MB")
    target(ratio >= TARGET_RATIO, f"bridge >= {TARGET_RATIO} x a bare paho subscriber")
