"""What the dashboard shows, computed from the store: series, live points, forecast, alerts.

The page asks for three things: the history of every sensor, downsampled in the database
so a month of one-minute data arrives as ~1000 points a sensor; the new readings as they
land (the server polls the store twice a second and pushes them over server-sent
events, so a reading is on screen within a second of the bridge committing it); and the
"state" - alerts, forecast band, water-change countdown, sensor health, quarantine and
the bed flow map.  The forecast runs the ensemble Kalman filter, which takes seconds, so
it is refreshed in a background thread and the page gets the latest one.

Everything leaves here as plain JSON numbers and strings; the page renders strings with
``textContent`` only.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tankeco import limits
from tankeco.config import Scenario
from tankeco.store import Store, open_store

log = logging.getLogger("tankeco.dashboard")

#: Thresholds drawn on each chart: (value, "max" = above is bad / "min" = below is bad).
THRESHOLDS: dict[str, tuple[float, str]] = {
    "nh3_n": (limits.FREE_NH3_N_MG_L, "max"),
    "tan_n": (limits.TAN_CHRONIC_MG_L, "max"),
    "no2_n": (limits.NO2_N_MG_L, "max"),
    "no3_n": (limits.NO3_N_MG_L, "max"),
    "do": (limits.DO_MIN_MG_L, "min"),
}
#: Forecast column of each store quantity.
FORECAST_OF = {
    "tan_n": "tan_mg_l",
    "nh3_n": "nh3_mg_l",
    "no2_n": "no2_n_mg_l",
    "no3_n": "no3_n_mg_l",
    "do": "do_mg_l",
    "ph": "ph",
}
#: Largest number of points per sensor in a first paint.
MAX_POINTS = 1000
#: How far back live polling looks for readings that arrive late (ms).
LIVE_WINDOW_MS = 10 * 60_000


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
        from tankeco.layout_file import load_layout  # type: ignore[import-not-found]
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


@dataclass
class Monitor:
    """The dashboard's view of one tank in one store."""

    store_url: str
    scenario: Scenario
    tank: str | None = None
    tz: Any = None
    layout: str | None = None
    silent_min: float = 20.0
    forecast_every_s: float = 600.0
    forecast_window_d: float = 3.0
    clock: Callable[[], int] = now_ms
    _store: Store = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _seen: dict[tuple, int] = field(init=False, default_factory=dict)
    _forecast: dict | None = field(init=False, default=None)
    _forecast_status: str = field(init=False, default="not computed yet")
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _flow: FlowMap | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._store = open_store(self.store_url)
        if self.tank is None:
            self.tank = self._guess_tank()

    def _guess_tank(self) -> str | None:
        states = self._store.sensor_states()
        if not states:
            return None
        return max(states, key=lambda s: s.last_seen_ms or 0).tank

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._store.close()

    # -- history ----------------------------------------------------------------------
    def series(self, hours: float = 72.0, max_points: int = MAX_POINTS) -> dict:
        """Every sensor's readings over the last ``hours``, downsampled in the database."""
        end = self.clock()
        start = end - int(hours * 3_600_000)
        bucket = max(60_000, math.ceil((end - start) / max_points / 60_000) * 60_000)
        with self._lock:
            if self.tank is None:
                self.tank = self._guess_tank()
            rows = self._store.bucketed(bucket_ms=bucket, tank=self.tank, since_ms=start)
        out: dict[tuple[str, str], dict] = {}
        for a in rows:
            s = out.setdefault(
                (a.sensor, a.quantity),
                {"sensor": a.sensor, "quantity": a.quantity, "unit": a.unit, "t": [], "v": [],
                 "lo": [], "hi": []},
            )  # fmt: skip
            # a bucket is drawn at its middle, or at the reading itself when it holds one
            s["t"].append(a.bucket_start_ms + bucket // 2)
            s["v"].append(a.mean)
            s["lo"].append(a.min)
            s["hi"].append(a.max)
        return {
            "tank": self.tank,
            "since_ms": start,
            "bucket_ms": bucket,
            "series": list(out.values()),
        }

    # -- live -------------------------------------------------------------------------
    def poll_new(self) -> list[dict]:
        """Readings committed since the last poll (by their key; late arrivals included)."""
        t = self.clock()
        with self._lock:
            if self.tank is None:
                self.tank = self._guess_tank()
                if self.tank is None:
                    return []
            rows = self._store.readings(tank=self.tank, since_ms=t - LIVE_WINDOW_MS)
        new = []
        for r in rows:
            key = (r.sensor, r.ts_ms, r.seq, r.quantity)
            if key in self._seen:
                continue
            self._seen[key] = r.ts_ms
            new.append(
                {"sensor": r.sensor, "quantity": r.quantity, "unit": r.unit, "t": r.ts_ms,
                 "v": r.value}
            )  # fmt: skip
        cutoff = t - 2 * LIVE_WINDOW_MS
        if len(self._seen) > 50_000 or any(v < cutoff for v in list(self._seen.values())[:1]):
            self._seen = {k: v for k, v in self._seen.items() if v >= cutoff}
        return new

    def prime(self) -> None:
        """Mark what is already stored as seen, so the stream sends only what is new."""
        self.poll_new()

    # -- forecast ---------------------------------------------------------------------
    def refresh_forecast(self) -> None:
        """Run the filter and forecast on the last days of history (seconds of CPU)."""
        from tankeco.compare.align import observations
        from tankeco.compare.calibrate import start_overrides
        from tankeco.compare.forecast import forecast
        from tankeco.config import apply_overrides
        from tankeco.history import actions, clock_for, kit_steps, load_history

        t_now = self.clock()
        since = t_now - int(self.forecast_window_d * 86_400_000)
        store = open_store(self.store_url)
        try:
            if self.tank is None:
                return
            hist = load_history(store, self.tank, since, t_now + 1)
        finally:
            store.close()
        clock = clock_for(since, self.tz)
        obs = observations(hist.readings, hist.manual, clock, kit_steps())
        if obs.empty:
            self._forecast_status = "no readings the model can use in the last days"
            return
        now_d = float(clock.days(t_now))
        started = apply_overrides(self.scenario, start_overrides(obs))
        t0 = time.perf_counter()
        fc = forecast(started, obs, now_d, actions=actions(hist.events, clock), members=20)
        bands = {}
        t_ms = clock.ms(fc.time_d).tolist()
        for q, col in FORECAST_OF.items():
            bands[q] = {
                "t": t_ms,
                "median": fc.median[col].tolist(),
                "low": fc.low[col].tolist(),
                "high": fc.high[col].tolist(),
            }
        self._forecast = {
            "computed_ms": t_now,
            "seconds": round(time.perf_counter() - t0, 2),
            "bands": bands,
            "now_mean": fc.now_mean,
            "now_std": fc.now_std,
            "_fc": fc,
            "_clock": clock,
        }
        self._forecast_status = "ok"

    def forecast_loop(self) -> None:
        """Background thread: refresh the forecast now and then every ``forecast_every_s``."""
        while not self._stop.is_set():
            try:
                self._forecast_status = "computing" if self._forecast is None else "ok"
                self.refresh_forecast()
            except Exception as exc:  # keep serving the page; say why there is no band
                log.exception("forecast failed")
                self._forecast_status = f"forecast failed: {type(exc).__name__}: {exc}"
            self._stop.wait(self.forecast_every_s)

    # -- state ------------------------------------------------------------------------
    def state(self) -> dict:
        """Alerts, countdown, forecast bands, events, sensor health, quarantine, flow map."""
        from tankeco.compare import alerts as al
        from tankeco.history import weekday_name

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
        found: list[al.Alert] = []
        found += al.free_ammonia(latest, fc["_fc"] if fc else None)
        countdown = None
        if fc:
            clock = fc["_clock"]
            found += al.nitrate(fc["_fc"], lambda d: weekday_name(int(clock.ms(d)), self.tz))
            c = al.water_change_countdown_d(fc["_fc"])
            countdown = None if math.isinf(c) else c
        ages = {s.sensor: (t - s.last_seen_ms) / 60_000 for s in states if s.last_seen_ms}
        found += al.silent_sensors(ages, self.silent_min)
        found += al.ph_drift(ph_pairs)
        order = {al.CRITICAL: 0, al.WARNING: 1, al.INFO: 2}
        found.sort(key=lambda a: order.get(a.level, 3))
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
