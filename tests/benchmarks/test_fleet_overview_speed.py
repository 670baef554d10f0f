"""The overview of 100 tanks: first paint, the query behind it, and bridge + dashboard memory.

Run with ``python3 -m pytest tests/benchmarks/test_fleet_overview_speed.py --benchmark-only
-s``.  The store holds 100 tanks x 8 sensors at one reading a minute (a week: 8,064,000
rows; 10 tanks and one day in the fast run), written directly, not through MQTT.  First paint is
measured in headless Chromium from navigation start to the table drawn with every tank
(``window.tankeco.firstPaintMs``).  The dashboard has just started: its forecast worker is
computing the 100 forecasts in the background meanwhile, as it is for a keeper who opens
the page after starting the server, and the page must not wait for them.  Memory is the
resident set of the bridge and the dashboard processes after the overview and five tank
pages were served (the forecast worker, a short-lived child, is reported apart).  The
bridge listens to a Mosquitto of its own, so no other test's tank reaches the store.

The query figures compare, on the same store and in the same process, the overview's query
(:meth:`~tankeco.store.Store.latest_readings`: per sensor, index searches for its newest
time and its last hour) with the plain ``GROUP BY ... MAX(ts_ms)`` that reads every row
(the same 800 rows here: each sensor sends one quantity).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import psutil

from tankeco.store import Batch, Reading, open_store
from tests.benchmarks.harness import EIGHT_SENSORS as SENSORS
from tests.benchmarks.harness import size, target
from tests.dashboard.browser import Dashboard, browser_page
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import BridgeProcess

FIRST_PAINT_S = 1.0
MEMORY_LIMIT_MB = 300
TANKS = size(100, 10)  # TANKECO_BENCH_FAST=1: 10 tanks, a day, one timed paint
DAYS = size(7, 1)
GROUP_BY_MAX = (
    "SELECT r.tank, r.sensor, r.value FROM readings r JOIN (SELECT site, tank, sensor,"
    " MAX(ts_ms) AS ts FROM readings GROUP BY site, tank, sensor) m ON r.site = m.site"
    " AND r.tank = m.tank AND r.sensor = m.sensor AND r.ts_ms = m.ts"
)


def fill(url: str, now: int) -> int:
    """Every tank's week of minutes, one batch (transaction) per tank."""
    n = DAYS * 24 * 60
    rng = np.random.default_rng(0)
    store = open_store(url)
    total = 0
    try:
        for k in range(TANKS):
            rows = []
            for sensor, (q, mean, sd) in SENSORS.items():
                values = (mean + rng.normal(0, sd, n)).tolist()
                rows += [
                    Reading(now - i * 60_000, "farm", f"tank {k:03d}", sensor, q, values[i], "",
                            seq=i)
                    for i in range(n)
                ]  # fmt: skip
            total += store.write(Batch(readings=rows)).readings_inserted
    finally:
        store.close()
    return total


def best_of(f, rounds: int = 5) -> float:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def test_first_paint_of_the_overview_of_100_tanks_and_memory(benchmark, tmp_path: Path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    t0 = time.perf_counter()
    rows = fill(url, int(time.time() * 1000))
    fill_s = time.perf_counter() - t0
    assert rows == TANKS * len(SENSORS) * DAYS * 24 * 60  # 8,064,000 in the measured run
    store = open_store(url)
    try:
        latest = store.latest_readings()
        assert len(latest) == TANKS * len(SENSORS)
        query_s = best_of(store.latest_readings)
        group_by_s = best_of(lambda: store._query(GROUP_BY_MAX), rounds=size(2, 1))
        assert len(store._query(GROUP_BY_MAX)) == len(latest)  # the same rows, slowly
    finally:
        store.close()
    # a broker of its own: the shared one may carry other tests' tanks into the store
    broker = Mosquitto(tmp_path / "broker").start()
    bridge = BridgeProcess(
        tmp_path, ["--broker", broker.url, "--store", url, "--client-id",
                   f"bench-fleet-{tmp_path.name}", "--session-expiry", "0"],
    )  # fmt: skip
    dash = Dashboard(tmp_path, url)
    paints: list[float] = []
    try:
        bridge.wait_for_log("connected")
        with browser_page() as page:

            def first_paint() -> None:
                page.goto(dash.url)
                page.wait_for_selector("body[data-ready='1']", timeout=30_000)
                paints.append(page.evaluate("window.tankeco.firstPaintMs") / 1000)

            first_paint()  # warm: SQLite pages, the browser's cache of the page itself
            benchmark.pedantic(first_paint, rounds=size(5, 1), iterations=1)
            shown = page.evaluate("window.tankeco.rows")
            statuses = page.locator("#tanks tbody .st").all_inner_texts()
            for k in range(5):  # a keeper opens a few tanks from the overview
                name = urllib.parse.quote(f"tank {k:03d}")
                with urllib.request.urlopen(f"{dash.url}api/state?tank={name}", timeout=30):
                    pass
                with urllib.request.urlopen(f"{dash.url}api/series?tank={name}", timeout=30):
                    pass
            with urllib.request.urlopen(dash.url + "api/overview", timeout=30) as r:
                ready = json.load(r)["forecasts_ready"]
        procs = {"bridge": psutil.Process(bridge.proc.pid), "dash": psutil.Process(dash.proc.pid)}
        writer = procs["bridge"].children(recursive=True)  # the bridge's writer process
        rss = sum(p.memory_info().rss for p in [*procs.values(), *writer]) / 2**20
        workers = [c.memory_info().rss / 2**20 for c in procs["dash"].children(recursive=True)]
    finally:
        dash.stop()
        bridge.terminate()
        broker.stop()
    best = min(paints[1:])
    benchmark.extra_info.update(
        {"tanks": TANKS, "rows": rows, "fill_s": round(fill_s, 1),
         "first_paint_s": [round(p, 3) for p in paints],
         "latest_readings_ms": round(query_s * 1000, 2),
         "group_by_max_ms": round(group_by_s * 1000, 1),
         "bridge_plus_dashboard_rss_mb": round(rss, 1),
         "forecast_worker_rss_mb": [round(w, 1) for w in workers],
         "forecasts_ready_at_end": ready}
    )  # fmt: skip
    print(
        f"\n{rows} rows ({fill_s:.0f} s to fill); first paint {[round(p, 3) for p in paints]} s;"
        f" latest_readings {query_s * 1000:.1f} ms vs GROUP BY MAX {group_by_s * 1000:.0f} ms;"
        f" RSS bridge + dashboard {rss:.0f} MB, worker {workers} MB; {ready} forecasts ready"
    )
    assert shown == TANKS and len(statuses) == TANKS
    assert all(s in ("OK", "WARNING", "ALARM", "SILENT") for s in statuses), set(statuses)
    target(best <= FIRST_PAINT_S, f"first paint of {TANKS} tanks <= {FIRST_PAINT_S} s: {paints}")
    target(rss < MEMORY_LIMIT_MB, f"bridge + dashboard < {MEMORY_LIMIT_MB} MB: {rss:.0f}")
