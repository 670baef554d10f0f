"""What the Home Assistant publisher reads when the dashboard starts: every sensor's newest
reading (``Store.latest_readings``), at the issue's fleet size.

Run with ``python3 -m pytest tests/benchmarks --benchmark-only -s``.  100 tanks x 8
sensors at one reading a minute, one day of history in SQLite (1.15 million rows).  The
lookup goes through the index of the readings' unique key, one sensor at a time, so its
cost grows with the number of sensors and not with the length of the history: the
benchmark also times a store with seven times the history per sensor and checks that a
sensor costs about the same there.  (Before, a window function over the whole table
took 3.5 s of CPU for the one-day store.)
"""

from __future__ import annotations

import time
from pathlib import Path

from tankeco.store import Batch, Reading, open_store
from tests.benchmarks.harness import size, target

T0_MS = 1_790_000_000_000
#: The dashboard may take this long to know every sensor's value at start, seconds.
TARGET_S = 1.0


def _fill(url: str, sensors: int, minutes: int) -> None:
    store = open_store(url)
    try:
        for m0 in range(0, minutes, 60):
            store.write(
                Batch(
                    readings=[
                        Reading(
                            T0_MS + m * 60_000,
                            "home",
                            f"tank{k // 8:03d}",
                            f"s{k % 8}",
                            "temperature",
                            25.0 + m / 1e4,
                            "°C",
                            seq=m,
                        )
                        for m in range(m0, min(m0 + 60, minutes))
                        for k in range(sensors)
                    ]  # fmt: skip
                )
            )
    finally:
        store.close()


def _per_sensor_s(url: str, sensors: int, minutes: int) -> float:
    store = open_store(url, create=False)
    try:
        start = time.process_time()
        got = store.latest_readings()
        spent = time.process_time() - start
    finally:
        store.close()
    assert len(got) == sensors
    assert all(r.ts_ms == T0_MS + (minutes - 1) * 60_000 for r in got)  # the newest
    return spent / sensors


def test_latest_readings_of_100_tanks_x_8_sensors(benchmark, tmp_path: Path) -> None:
    sensors, minutes = size((800, 1440), (16, 120))
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    _fill(url, sensors, minutes)
    store = open_store(url, create=False)
    try:
        got = benchmark.pedantic(store.latest_readings, rounds=size(5, 1), iterations=1)
    finally:
        store.close()
    assert len(got) == sensors and {r.sensor for r in got} == {f"s{i}" for i in range(8)}
    # seven times the history for a tenth of the sensors: the cost per sensor stays
    few, long = sensors // 10 or 1, minutes * 7
    long_url = f"sqlite:///{tmp_path / 'long.db'}"
    _fill(long_url, few, long)
    per_short = _per_sensor_s(url, sensors, minutes)
    per_long = _per_sensor_s(long_url, few, long)
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(
        sensors=sensors,
        rows=sensors * minutes,
        cpu_per_sensor_ms=round(per_short * 1e3, 3),
        cpu_per_sensor_7x_history_ms=round(per_long * 1e3, 3),
    )
    what = (
        f"latest_readings, {sensors} sensors x {minutes} min: {median:.3f} s median"
        f" (target < {TARGET_S:g} s); CPU per sensor {per_short * 1e3:.3f} ms,"
        f" with 7x the history {per_long * 1e3:.3f} ms"
    )
    print(f"\n{what}")
    target(median < TARGET_S and per_long < 3 * per_short + 1e-4, what)
