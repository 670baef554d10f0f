"""What the dashboard shows, computed from the store: series, live points, forecast, alerts.

The page asks for three things: the history of every sensor, downsampled in the database
so a month of one-minute data arrives as ~1000 points a sensor; the new readings as they
land (the server polls the store twice a second and pushes them over server-sent
events, so a reading is on screen within a second of the bridge committing it); and the
"state" - alerts, forecast band, water-change countdown, sensor health, quarantine and
the bed flow map.  The forecast runs the ensemble Kalman filter, which takes seconds, so
it is computed in a worker process in the background (for every tank of the store, see
:mod:`.fleet`) and the page gets the latest one.  A :class:`Monitor` is one tank's view;
the live stream and the overview of all tanks live in :class:`.fleet.Fleet`.

Everything leaves here as plain JSON numbers and strings; the page renders strings with
``textContent`` only.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from tankeco.compare import alerts as al
from tankeco.scenario.schema import Scenario
from tankeco.scenario.thresholds import MAX_SINGLE_CHANGE_FRACTION
from tankeco.store import Reading, Store, open_store
from tankeco.units.quantities import QUANTITIES

log = logging.getLogger("tankeco.dashboard")

#: Thresholds drawn on each chart, from the quantity registry: (value, "max" = above is
#: bad / "min" = below is bad).
THRESHOLDS: dict[str, tuple[float, str]] = {
    name: (q.threshold.value, q.threshold.kind)
    for name, q in QUANTITIES.items()
    if q.threshold is not None
}
#: Largest number of points per sensor in a first paint.
MAX_POINTS = 1000
#: Most rows one live poll reads (the rest come with the next poll, half a second later).
POLL_LIMIT = 5000
#: Longest a forecast worker may run: this per tank of its batch, s.
WORKER_S_PER_TANK = 300.0


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class FlowMap:
    """Up-flow share of each plan-view bed zone, and where it came from."""

    shares: list[float]
    source: str  # "uniform" or "layout"
    note: str

    def as_dict(self, length_cm: float, width_cm: float) -> dict:
        return {
            "zones": self.shares,
            "source": self.source,
            "note": self.note,
            "length_cm": length_cm,
            "width_cm": width_cm,
        }


def flow_map(scenario: Scenario, layout_path: str | None) -> FlowMap:
    """Zone shares from a layout file when the hydraulics module can solve it, else uniform.

    The hydraulics layouts are built in parallel with this dashboard: the import is
    checked at run time, so the map switches on as soon as they are installed.
    """
    n = scenario.bed.zones
    uniform = [1.0 / n] * n
    if not layout_path:
        return FlowMap(uniform, "uniform", "no layout given: every zone gets the same up-flow")
    try:
        from tankeco.hydraulics.analysis import zone_flows_l_h  # type: ignore[import-not-found]
        from tankeco.hydraulics.layout_file import load_layout  # type: ignore[import-not-found]
    except ImportError:
        return FlowMap(uniform, "uniform", "layouts need tankeco's hydraulics module")
    try:
        net = load_layout(layout_path).network()
        bed = scenario.bed
        q = zone_flows_l_h(
            net,
            np.full(n, bed.porosity),
            n,
            scenario.tank.length_cm / 100,
            scenario.tank.width_cm / 100,
        )
    except Exception as exc:  # a layout that does not solve must not take the page down
        return FlowMap(uniform, "uniform", f"layout could not be solved: {exc}")
    total = float(np.sum(q))
    shares = [float(v) / total for v in q] if total > 0 else uniform
    return FlowMap(shares, "layout", f"solved from {layout_path}")


def tank_alerts(
    latest: Mapping[str, al.Latest],
    forecast: dict | None,
    last_seen_min: Mapping[str, float],
    silent_min: float,
    ph_pairs: Iterable[tuple[float, float, float]] = (),
    max_fraction: float = MAX_SINGLE_CHANGE_FRACTION,
) -> list[al.Alert]:
    """A tank's alerts, the most urgent first: free ammonia now (newest reading of each
    quantity, else the forecast's estimate of now), the forecast's nitrate advice, silent
    sensors and pH-probe drift (see :mod:`tankeco.compare.alerts`).  The tank page and the
    overview of every tank both use this, so they never disagree."""
    found: list[al.Alert] = []
    found += al.free_ammonia(latest, forecast["now_mean"] if forecast else None, max_fraction)
    if forecast:
        found += [
            al.Alert(**{k: v for k, v in a.items() if k != "due_ms"}) for a in forecast["alerts"]
        ]
    found += al.silent_sensors(last_seen_min, silent_min)
    found += al.ph_drift(ph_pairs)
    order = {al.CRITICAL: 0, al.WARNING: 1, al.INFO: 2}
    found.sort(key=lambda a: order.get(a.level, 3))
    return found


def live_item(r: Reading) -> dict:
    """One reading as the live stream sends it to the page."""
    return {"sensor": r.sensor, "quantity": r.quantity, "unit": r.unit, "t": r.ts_ms,
            "v": r.value}  # fmt: skip


@dataclass
class Monitor:
    """The dashboard's view of one tank in one store."""

    store_url: str
    scenario: Scenario
    tank: str | None = None
    tz_name: str | None = None
    scenario_path: str | None = None
    layout: str | None = None
    silent_min: float = 20.0
    #: Largest share of the water the advice asks to change at once (``--max-fraction``).
    max_fraction: float = MAX_SINGLE_CHANGE_FRACTION
    forecast_every_s: float = 600.0
    forecast_window_d: float = 3.0
    clock: Callable[[], int] = now_ms
    _store: Store = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    #: Whether the tank was named (``--tank``) rather than guessed from the store.
    tank_given: bool = field(init=False, default=False)
    _forecast: dict | None = field(init=False, default=None)
    _forecast_status: str = field(init=False, default="not computed yet")
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _flow: FlowMap | None = field(init=False, default=None)
    _series_cache: dict = field(init=False, default_factory=dict)
    #: The running forecast worker, so :meth:`close` can stop it (nothing outlives us).
    _worker: subprocess.Popen | None = field(init=False, default=None)
    _worker_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._store = open_store(self.store_url)
        self.tank_given = self.tank is not None
        if self.tank is None:
            self.tank = self._guess_tank()

    def _guess_tank(self) -> str | None:
        states = self._store.sensor_states()
        if not states:
            return None
        return max(states, key=lambda s: s.last_seen_ms or 0).tank

    def close(self) -> None:
        """Stop the forecast worker (if one runs) and release the store."""
        self._stop.set()
        with self._worker_lock:
            worker = self._worker
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        with self._lock:
            self._store.close()

    # -- history ----------------------------------------------------------------------
    def series(self, hours: float = 72.0, max_points: int = MAX_POINTS) -> dict:
        """Every sensor's readings over the last ``hours``, downsampled in the database.

        Buckets that were complete at the last query never change again (a reading
        arriving hours late is the exception; the periodic rebuild picks it up), so they
        are cached per range and only the newest buckets are read again: grouping a month
        of minute data takes SQLite most of a second, the tail a few milliseconds.
        """
        end = self.clock()
        span = int(hours * 3_600_000)
        bucket = max(60_000, math.ceil(span / max_points / 60_000) * 60_000)
        since = (end - span) // bucket * bucket
        with self._lock:
            if self.tank is None:
                self.tank = self._guess_tank()
            key = (self.tank, bucket)
            cached = self._series_cache.get(key)
            if cached is None or cached["since"] > since:
                rows = self._store.bucketed(bucket_ms=bucket, tank=self.tank, since_ms=since)
                cached = {"since": since, "rows": {}, "complete": since}
            else:
                rows = self._store.bucketed(
                    bucket_ms=bucket, tank=self.tank, since_ms=cached["complete"]
                )
            # one series per sensor and quantity, even if its unit text changed over time
            table: dict[tuple[str, str], dict[int, float]] = cached["rows"]
            units: dict[tuple[str, str], str] = cached.setdefault("units", {})
            for a in rows:
                table.setdefault((a.sensor, a.quantity), {})[a.bucket_start_ms] = a.mean
                units[(a.sensor, a.quantity)] = a.unit
            cached["complete"] = end // bucket * bucket
            self._series_cache[key] = cached
            out = []
            for key_sq, buckets in list(table.items()):
                sensor, quantity = key_sq
                ts = sorted(b for b in buckets if b >= since)
                for b in [b for b in buckets if b < since]:
                    del buckets[b]
                if not buckets:  # a sensor gone from the range is forgotten
                    del table[key_sq]
                    units.pop(key_sq, None)
                    continue
                out.append(
                    {
                        "sensor": sensor,
                        "quantity": quantity,
                        "unit": units.get((sensor, quantity), ""),
                        "t": [b + bucket // 2 for b in ts],  # drawn at the bucket's middle
                        "v": [buckets[b] for b in ts],
                    }
                )
        return {"tank": self.tank, "since_ms": since, "bucket_ms": bucket, "series": out}

    def rebuild_series_cache(self) -> None:
        """Re-read every cached range in full (late readings); run now and then."""
        with self._lock:
            keys = list(self._series_cache)
            self._series_cache.clear()
        for _, bucket in keys:
            self.series(bucket * MAX_POINTS / 3_600_000)

    # -- forecast ---------------------------------------------------------------------
    def refresh_forecast(self) -> None:
        """Compute this tank's forecast now (see :meth:`run_worker`) and keep it."""
        if self.tank is None:  # sensors may have spoken since the page started
            with self._lock:
                self.tank = self._guess_tank()
        if self.tank is None:
            self._forecast_status = "no tank heard from yet"
            return
        failed = self.run_worker([self.tank], lambda out: self.use_forecast(out))
        if failed:
            self._forecast_status = failed

    def run_worker(self, tanks: list[str], take: Callable[[dict], None]) -> str | None:
        """Run the filter and forecast for ``tanks`` in a worker process (seconds of CPU,
        ~200 MB that the server itself never holds; see
        :mod:`tankeco.dashboard.forecast_worker`), giving each tank's result to ``take``
        as it arrives.  Returns why the worker failed, or None."""
        cmd = [
            sys.executable, "-m", "tankeco.dashboard.forecast_worker",
            "--store", self.store_url,
            "--window-d", str(self.forecast_window_d), "--now-ms", str(self.clock()),
            "--max-fraction", repr(self.max_fraction),
        ]  # fmt: skip
        for tank in tanks:
            cmd += ["--tank", tank]
        if self.scenario_path:
            cmd += ["--scenario", self.scenario_path]
        if self.tz_name:
            cmd += ["--tz", self.tz_name]
        with tempfile.TemporaryFile() as errors:  # a file: a chatty worker never blocks
            with self._worker_lock:
                if self._stop.is_set():
                    return "stopping"
                p = subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=errors, text=True,
                    stdin=subprocess.DEVNULL,
                )  # fmt: skip
                self._worker = p
            limit_s = WORKER_S_PER_TANK * len(tanks)
            timed_out = threading.Event()

            def kill() -> None:
                timed_out.set()
                p.kill()

            watchdog = threading.Timer(limit_s, kill)
            watchdog.start()
            try:
                assert p.stdout is not None
                for line in p.stdout:
                    if not self._stop.is_set():
                        take(json.loads(line))
                p.wait()
            finally:
                watchdog.cancel()
                with self._worker_lock:
                    self._worker = None
            if self._stop.is_set() or p.returncode == 0:
                return None
            if timed_out.is_set():
                return f"forecast failed: took more than {limit_s:.0f} s"
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines() or ["no output"]
            return f"forecast failed: {last[-1]}"

    def use_forecast(self, out: dict) -> None:
        """Keep a forecast the worker computed for this tank (or say why there is none)."""
        if out.get("status") != "ok":
            self._forecast_status = str(out.get("status"))
            return
        self._forecast = out
        self._forecast_status = "ok"

    def mark_computing(self) -> None:
        """Say "computing" while the first forecast of this tank is on its way."""
        if self._forecast is None:
            self._forecast_status = "computing"

    # -- state ------------------------------------------------------------------------
    def state(self) -> dict:
        """Alerts, countdown, forecast bands, events, sensor health, quarantine, flow map."""
        t = self.clock()
        with self._lock:
            tank = self.tank
            recent = self._store.readings(tank=tank, since_ms=t - 3_600_000) if tank else []
            states = [s for s in self._store.sensor_states() if tank is None or s.tank == tank]
            events = self._store.events(tank=tank, since_ms=t - 30 * 86_400_000) if tank else []
            manual = (
                self._store.manual_entries(tank=tank, since_ms=t - 30 * 86_400_000) if tank else []
            )
            quarantined = self._store.quarantined(since_ms=t - 86_400_000)
            counters = self._store.counters()
            ph_pairs = []
            for m in manual:
                if m.quantity != "ph":
                    continue
                near = self._store.readings(
                    tank=tank,
                    quantity="ph",
                    since_ms=m.ts_ms - 1_800_000,
                    until_ms=m.ts_ms + 1_800_000,
                )
                if near:
                    ph_pairs.append(
                        (m.ts_ms / 86_400_000, m.value, float(np.median([r.value for r in near])))
                    )
        latest: dict[str, al.Latest] = {}
        sensor_quantity: dict[str, str] = {}
        for r in recent:  # time order: the last one wins
            latest[r.quantity] = al.Latest(r.value, (t - r.ts_ms) / 60_000)
            sensor_quantity[r.sensor] = r.quantity
        fc = self._forecast
        countdown = fc["countdown_d"] if fc else None
        ages = {s.sensor: (t - s.last_seen_ms) / 60_000 for s in states if s.last_seen_ms}
        found = tank_alerts(latest, fc, ages, self.silent_min, ph_pairs, self.max_fraction)
        if self._flow is None:
            self._flow = flow_map(self.scenario, self.layout)
        return {
            "tank": tank,
            "now_ms": t,
            "alerts": [a.as_dict() for a in found],
            "countdown_d": countdown,
            "forecast_status": self._forecast_status,
            "forecast": fc["bands"] if fc else {},
            "forecast_computed_ms": fc["computed_ms"] if fc else None,
            "thresholds": {q: {"value": v, "kind": k} for q, (v, k) in THRESHOLDS.items()},
            "events": [
                {"t": e.ts_ms, "kind": e.kind, "amount": e.amount, "unit": e.unit} for e in events
            ],
            "sensors": [
                {
                    "sensor": s.sensor,
                    "quantity": sensor_quantity.get(s.sensor),
                    "last_seen_ms": s.last_seen_ms,
                    "age_min": ages.get(s.sensor),
                    "status": s.status,
                }
                for s in states
            ],
            "quarantine": {
                "total": int(counters.get("quarantined", 0)),
                "last_day": len(quarantined),
                "recent": [
                    {"received_ms": q.received_ms, "topic": q.topic, "reason": q.reason}
                    for q in quarantined[-5:]
                ],
            },
            "flow_map": self._flow.as_dict(
                self.scenario.tank.length_cm, self.scenario.tank.width_cm
            ),
        }


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
