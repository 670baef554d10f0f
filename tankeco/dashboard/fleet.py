"""Every tank of a store: the overview, the live stream by tank, forecasts for them all.

Breeders, shops and labs run tens of tanks into one store.  The overview shows each
one's status, last reading, most urgent alert and nitrate forecast, and must open in
under a second for a hundred tanks, so it costs three queries whatever the number of
tanks or the length of their history: the tank names, the sensors (``sensor_state``, one
row each) and the newest reading of every sensor
(:meth:`tankeco.store.Store.latest_readings`, index searches per sensor).  Forecasts
take about a second of CPU per tank in the worker process; they are computed in the
background in batches (one worker process per batch, the model imported once), tanks
whose page was opened recently first, then tanks that have none, then the oldest, and the
overview shows the latest one of each tank or that it is queued.  It never waits for one.

A tank's page is a :class:`~tankeco.dashboard.monitor.Monitor`, opened when the page is
first asked for; at most :attr:`Fleet.max_open` stay open (each holds a store connection
and a cache of its charts), the least recently viewed closed first.  The live stream
reads every new row once, whatever the tank, and hands each tank's rows to the pages of
that tank.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tankeco.compare import alerts as al
from tankeco.dashboard.monitor import POLL_LIMIT, Monitor, live_item, tank_alerts
from tankeco.scenario import thresholds as limits
from tankeco.store import open_store

log = logging.getLogger("tankeco.dashboard")

#: Tanks one forecast worker computes before the next batch is chosen (a tank whose page
#: is opened waits for at most the rest of one batch: ~1 s a tank, plus the start-up).
BATCH = 8
#: A tank's page counts as viewed for this long after it last asked for anything, s.
VIEWED_S = 600.0
#: A tank nobody is viewing has its forecast refreshed this often (a viewed one every
#: ``forecast_every_s``), s: the overview shows the countdown in days, which an hour
#: changes by hundredths, while its alerts from readings are computed at every request.
#: A hundred tanks at ~1-2 s of CPU each are then a few percent of one core.
UNVIEWED_EVERY_S = 3600.0
#: Status of a tank on the overview, the most urgent first; the words are shown with
#: the colour (never colour alone).
STATUS_ORDER = ("alarm", "warning", "silent", "ok", "no readings")


class UnknownTank(LookupError):
    """A page or API call named a tank that is not in the store."""


@dataclass
class TankForecast:
    """The latest forecast of one tank: the overview's summary, and the worker's whole
    line (bands for the charts) to hand to the tank's page when it is opened."""

    status: str
    tried_ms: int
    computed_ms: int | None = None
    countdown_d: float | None = None
    now_mean: dict | None = None
    alerts: list[dict] = dataclasses.field(default_factory=list)
    result: str | None = None  # JSON text: ~90 kB a tank, parsed only for an open page

    def parsed(self) -> dict | None:
        return json.loads(self.result) if self.result else None


class Fleet:
    """The dashboard over every tank of one store; ``default`` is the tank shown at ``/``
    when the store holds one tank or ``--tank`` named it."""

    def __init__(self, default: Monitor, *, max_open: int = 8, batch: int = BATCH) -> None:
        self.default = default
        self.max_open = max_open
        self.batch = batch
        self._store = open_store(default.store_url)
        self._lock = threading.Lock()  # the store connection and the open pages
        self._open: OrderedDict[str, Monitor] = OrderedDict()
        self._viewed: dict[str, float] = {}
        self._forecasts: dict[str, TankForecast] = {}
        #: The tanks of the running batch not returned yet, in the worker's order.
        self._computing: tuple[str, ...] = ()
        #: Id of the last row the live stream has seen (-1: not primed yet).
        self._cursor = -1
        self._stop = threading.Event()

    # -- tanks ------------------------------------------------------------------------
    def tanks(self) -> list[str]:
        with self._lock:
            return self._store.tanks()

    def opens_on_overview(self) -> bool:
        """``/`` shows the overview unless ``--tank`` named one or the store has one tank."""
        return not self.default.tank_given and len(self.tanks()) > 1

    def monitor(self, tank: str | None) -> Monitor:
        """The page of ``tank`` (None: the default tank), opened on first use."""
        if tank is None or tank == self.default.tank:
            if self.default.tank is not None:
                self._viewed[self.default.tank] = time.monotonic()
            return self.default
        with self._lock:
            m = self._open.get(tank)
            if m is not None:
                self._open.move_to_end(tank)
                self._viewed[tank] = time.monotonic()
                return m
            if tank not in self._store.tanks():
                raise UnknownTank(tank)
        m = dataclasses.replace(self.default, tank=tank)
        cached = self._forecasts.get(tank)
        if cached is not None:
            result = cached.parsed()
            m.use_forecast(result if result is not None else {"status": cached.status})
        closing: list[Monitor] = []
        with self._lock:
            if tank in self._open:  # another request opened it meanwhile
                closing.append(m)
                m = self._open[tank]
            else:
                self._open[tank] = m
            while len(self._open) > self.max_open:
                closing.append(self._open.popitem(last=False)[1])
            self._viewed[tank] = time.monotonic()
        for old in closing:
            old.close()
        return m

    def close(self) -> None:
        self._stop.set()
        self.default.close()  # stops a running forecast worker
        with self._lock:
            pages = list(self._open.values())
            self._open.clear()
            self._store.close()
        for m in pages:
            m.close()

    # -- live -------------------------------------------------------------------------
    def prime(self) -> None:
        """Start the cursor at the last stored row, so the stream sends only what is new."""
        with self._lock:
            _, self._cursor = self._store.readings_after(-1)

    def poll_new(self) -> dict[str, list[dict]]:
        """Readings committed since the last poll, by tank: rows after a cursor on the last
        row seen.

        Reading only new rows keeps each poll as cheap as what arrived (re-reading the
        last 10 minutes twice a second took 64 % of a core at 1000 readings/s), one query
        serves every tank, and the state is one integer, so memory does not grow with the
        number of tanks or sensors.
        """
        with self._lock:
            if self._cursor < 0:
                _, self._cursor = self._store.readings_after(-1)
                return {}
            rows, self._cursor = self._store.readings_after(self._cursor, limit=POLL_LIMIT)
        out: dict[str, list[dict]] = {}
        for r in rows:
            out.setdefault(r.tank, []).append(live_item(r))
        return out

    # -- forecasts --------------------------------------------------------------------
    def due(self) -> list[str]:
        """Tanks whose forecast is missing or old (``forecast_every_s`` for a viewed page,
        :data:`UNVIEWED_EVERY_S` for the rest), in the order they are computed: viewed
        pages first, then tanks without one, then the oldest."""
        now = self.default.clock()
        recent = time.monotonic() - VIEWED_S
        due = []
        for tank in self.tanks():
            f = self._forecasts.get(tank)
            viewed = self._viewed.get(tank, -math.inf) >= recent
            every_s = self.default.forecast_every_s
            every_ms = 1000 * (every_s if viewed else max(every_s, UNVIEWED_EVERY_S))
            if f is None or now - f.tried_ms >= every_ms:
                due.append((not viewed, f is not None, f.tried_ms if f else 0, tank))
        return [t for *_, t in sorted(due)]

    def _take(self, out: dict) -> None:
        """One tank's line from the worker: keep it, and give it to the tank's open page."""
        tank = str(out.get("tank"))
        ok = out.get("status") == "ok"
        self._forecasts[tank] = TankForecast(
            status=str(out.get("status")),
            tried_ms=self.default.clock(),
            computed_ms=out.get("computed_ms") if ok else None,
            countdown_d=out.get("countdown_d") if ok else None,
            now_mean=out.get("now_mean") if ok else None,
            alerts=out.get("alerts", []) if ok else [],
            result=json.dumps(out) if ok else None,
        )
        self._computing = tuple(t for t in self._computing if t != tank)
        for m in self._pages_of(tank):
            m.use_forecast(out)

    def _pages_of(self, tank: str) -> list[Monitor]:
        with self._lock:
            pages = [m for t, m in self._open.items() if t == tank]
        return pages + ([self.default] if self.default.tank == tank else [])

    def refresh_forecasts(self, tanks: list[str]) -> None:
        """Compute the forecasts of ``tanks`` in one worker process, each kept as it comes."""
        self._computing = tuple(tanks)
        for tank in tanks:
            for m in self._pages_of(tank):
                m.mark_computing()
        failed = self.default.run_worker(tanks, self._take)
        for tank in self._computing:  # the worker stopped before these
            self._take({"tank": tank, "status": failed or "forecast failed: no result"})
        self._computing = ()

    def forecast_loop(self) -> None:
        """Background thread: keep every tank's forecast fresh, one batch at a time, and
        re-read the open pages' chart caches now and then (late readings)."""
        rebuilt = time.monotonic()
        self.default.series()  # the page's default range is ready before anyone asks
        while not self._stop.is_set():
            due: list[str] = []
            try:
                if time.monotonic() - rebuilt >= self.default.forecast_every_s:
                    rebuilt = time.monotonic()
                    with self._lock:
                        pages = list(self._open.values())
                    for m in [self.default, *pages]:
                        m.rebuild_series_cache()
                due = self.due()
                if due:
                    self.refresh_forecasts(due[: self.batch])
            except Exception:  # keep serving the pages; the next round tries again
                log.exception("forecast round failed")
            self._stop.wait(0.5 if due else 5.0)

    # -- overview ---------------------------------------------------------------------
    def overview(self) -> dict:
        """Every tank's status, last reading, top alert and nitrate forecast.

        Three queries in all (tanks, sensors, each sensor's newest reading); the alerts are
        those of the tank page (:func:`~tankeco.dashboard.monitor.tank_alerts`) from the
        newest readings, the sensors' last-seen times and the tank's latest forecast, all
        but the pH-probe drift check, which needs the kit history and stays on the page.
        """
        t = self.default.clock()
        with self._lock:
            tanks = self._store.tanks()
            states = self._store.sensor_states()
            newest = self._store.latest_readings()
        by_tank: dict[str, dict] = {}

        def of(tank: str) -> dict:
            return by_tank.setdefault(
                tank, {"sites": set(), "ages": {}, "latest": {}, "last_ms": None, "no3": None}
            )

        for name in tanks:
            of(name)
        for s in states:
            d = of(s.tank)
            d["sites"].add(s.site)
            if s.last_seen_ms:
                d["ages"][s.sensor] = (t - s.last_seen_ms) / 60_000
        for r in newest:  # per quantity, the newest of its sensors wins
            d = of(r.tank)
            old = d["latest"].get(r.quantity)
            age = (t - r.ts_ms) / 60_000
            if old is None or age < old.age_min:
                d["latest"][r.quantity] = al.Latest(r.value, age)
                if r.quantity == "no3_n":
                    d["no3"] = {"value": r.value, "unit": r.unit, "t": r.ts_ms}
            d["last_ms"] = max(d["last_ms"] or r.ts_ms, r.ts_ms)
        rows = []
        for name, d in by_tank.items():
            fc = self._forecasts.get(name)
            summary = None
            if fc is not None and fc.result is not None:
                summary = {"now_mean": fc.now_mean, "alerts": fc.alerts}
            found = tank_alerts(
                d["latest"], summary, d["ages"], self.default.silent_min,
                max_fraction=self.default.max_fraction,
            )  # fmt: skip
            silent = sum(age > self.default.silent_min for age in d["ages"].values())
            rows.append(
                {
                    "tank": name,
                    "sites": sorted(d["sites"]),
                    "status": _status(found, len(d["ages"]), silent, d["last_ms"]),
                    "last_reading_ms": d["last_ms"],
                    "age_min": None if d["last_ms"] is None else (t - d["last_ms"]) / 60_000,
                    "sensors": len(d["ages"]),
                    "silent": silent,
                    "alerts": len(found),
                    "top_alert": found[0].as_dict() if found else None,
                    "no3_n": d["no3"],
                    "forecast": self._forecast_summary(name, fc),
                }
            )
        rank = {s: i for i, s in enumerate(STATUS_ORDER)}
        rows.sort(key=lambda r: (rank[r["status"]], r["tank"]))
        counts = {s: sum(r["status"] == s for r in rows) for s in STATUS_ORDER}
        return {
            "now_ms": t,
            "silent_min": self.default.silent_min,
            "counts": counts,
            "forecasts_ready": sum(r["forecast"]["status"] == "ok" for r in rows),
            "no3_limit_mg_l": limits.NO3_N_MG_L,
            "tanks": rows,
        }

    def _forecast_summary(self, tank: str, fc: TankForecast | None) -> dict:
        if self._computing[:1] == (tank,):  # the worker's tank now; the rest wait
            status = "computing"
        elif fc is None:
            status = "queued"
        else:
            status = fc.status
        return {
            "status": status,
            "countdown_d": fc.countdown_d if fc else None,
            "computed_ms": fc.computed_ms if fc else None,
        }


def _status(found: list[al.Alert], sensors: int, silent: int, last_ms: int | None) -> str:
    """alarm (a critical alert), silent (every sensor silent), warning, ok, no readings."""
    if any(a.level == al.CRITICAL for a in found):
        return "alarm"
    if last_ms is None:
        return "no readings"
    if sensors and silent == sensors:
        return "silent"
    if any(a.level == al.WARNING for a in found):
        return "warning"
    return "ok"
