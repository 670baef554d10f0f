"""The one representation of what happens to a tank and when: a :class:`Schedule`.

A schedule is a table of events in the order they are applied (times in days from the
start).  Every way of running the model takes one: ``simulate`` (the scenario's routine),
replay and forecast (the routine with what the keeper logged in place of parts of it),
the ensemble and the risk assessment (the routine with portions varied and changes
missed).  The Python driver (:mod:`tankeco.sim.driver`) and the compiled ensemble loop
(:mod:`tankeco.sim.batch`) apply them with the same boundary rule: an event at time t is
applied after the chemistry has been integrated up to t, and a run to ``days`` applies the
events at t < days only.

A scenario's routine becomes a schedule by running its simpy processes (feedings every
``interval_d`` from ``first_day_d`` at ``time_of_day_h``, water changes, top-ups, checks,
lights, the daily pipe re-solve, planned and seeded random pump failures) against a
recorder: simpy sets the order of events that fall on the same instant, the same order
the first engine used.

Event kinds (``kind``) and what ``index`` and ``value`` mean for each:

==============  ===================  =========================================
kind            index                value
==============  ===================  =========================================
FEED            feed routine         amount factor (1 = the portion as written)
WATER_CHANGE    -                    fraction of the free water changed
TOP_UP          -                    -
DOSE            -                    -
BUFFER          -                    -
PUMP            label (why)          1 on, 0 off
LIGHT           -                    1 on, 0 off
FILTER          -                    - (re-solve the pipe network for clogging)
WATER_CHANGE_L  -                    litres of the free water changed (logged)
NOTE            label (what, detail) - (logged, not modelled: only written down)
==============  ===================  =========================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import simpy

(
    FEED,
    WATER_CHANGE,
    TOP_UP,
    DOSE,
    BUFFER,
    PUMP,
    LIGHT,
    FILTER,
    WATER_CHANGE_L,
    NOTE,
) = range(10)
KIND_NAMES = (
    "feed",
    "water_change",
    "top_up",
    "dose",
    "buffer",
    "pump",
    "light",
    "filter",
    "water_change_l",
    "note",
)


@dataclass
class Schedule:
    """Events of one run in the order they are applied (times in days).

    ``labels`` holds the text of PUMP and NOTE events as (event, detail) pairs; their
    ``index`` points into it.
    """

    time_d: np.ndarray  # float64 (n,)
    kind: np.ndarray  # int64 (n,)
    index: np.ndarray  # int64 (n,)
    value: np.ndarray  # float64 (n,)
    labels: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return int(self.time_d.size)

    def select(self, keep: np.ndarray) -> Schedule:
        """The events where ``keep`` is True (e.g. without a missed water change)."""
        return Schedule(
            self.time_d[keep], self.kind[keep], self.index[keep], self.value[keep], self.labels
        )

    def copy(self) -> Schedule:
        return self.select(np.ones(len(self), dtype=bool))

    def with_values(self, value: np.ndarray) -> Schedule:
        """The same events with other values (e.g. varied portions)."""
        return Schedule(self.time_d, self.kind, self.index, np.asarray(value, float), self.labels)

    def merged(self, other: Schedule) -> Schedule:
        """Both schedules' events by time; at the same instant, this one's come first."""
        shift = len(self.labels)
        other_index = np.where(np.isin(other.kind, (PUMP, NOTE)), other.index + shift, other.index)
        time_d = np.concatenate([self.time_d, other.time_d])
        order = np.argsort(time_d, kind="stable")
        return Schedule(
            time_d[order],
            np.concatenate([self.kind, other.kind])[order],
            np.concatenate([self.index, other_index])[order],
            np.concatenate([self.value, other.value])[order],
            self.labels + other.labels,
        )


class _Recorder:
    """Collects the events the routine's simpy processes emit."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.rows: list[tuple[float, int, int, float]] = []
        self.labels: list[tuple[str, str]] = []

    def note(self, kind: int, index: int = 0, value: float = 0.0) -> None:
        self.rows.append((float(self.env.now), kind, index, value))

    def note_labelled(self, kind: int, value: float, event: str, detail: str) -> None:
        self.labels.append((event, detail))
        self.note(kind, len(self.labels) - 1, value)

    def schedule(self) -> Schedule:
        rows = self.rows
        return Schedule(
            np.array([r[0] for r in rows], dtype=np.float64),
            np.array([r[1] for r in rows], dtype=np.int64),
            np.array([r[2] for r in rows], dtype=np.int64),
            np.array([r[3] for r in rows], dtype=np.float64),
            tuple(self.labels),
        )


def _every(start_d: float, interval_d: float) -> Iterator[float]:
    """Event times start, start+interval, ... (generator, for simpy timeouts)."""
    k = 0
    while True:
        yield start_d + k * interval_d
        k += 1


def _at_times(env: simpy.Environment, times: Iterator[float], action: Callable[[], None]):
    for t in times:
        if t > env.now:
            yield env.timeout(t - env.now)
        action()


def _outage(env: simpy.Environment, rec: _Recorder, start_d: float, duration_d: float):
    yield env.timeout(max(0.0, start_d - env.now))
    rec.note_labelled(PUMP, 0.0, "pump_off", f"scheduled outage, {duration_d * 24:g} h")
    yield env.timeout(duration_d)
    rec.note_labelled(PUMP, 1.0, "pump_on", "end of scheduled outage")


def _random_outages(env, rec: _Recorder, mtbf_d: float, mttr_d: float, seed: int):
    """Failures as a Poisson process (exponential up and down times)."""
    rng = np.random.default_rng(seed)
    while True:
        yield env.timeout(rng.exponential(mtbf_d))
        down = rng.exponential(mttr_d)
        rec.note_labelled(PUMP, 0.0, "pump_off", f"random failure, {down * 24:.1f} h")
        yield env.timeout(down)
        rec.note_labelled(PUMP, 1.0, "pump_on", "repaired")


def _routine(
    env: simpy.Environment,
    rec: _Recorder,
    scenario,
    *,
    feeds: bool,
    water_changes: bool,
    resolve_filter: bool,
) -> None:
    """Register the scenario's routine as simpy processes that note into ``rec``.

    The registration order is the tie order at equal times (simpy runs events of the same
    instant in the order they were scheduled).
    """
    sc = scenario
    if feeds:
        for i, feed in enumerate(sc.feeds):
            start = feed.first_day_d + feed.time_of_day_h / 24.0
            env.process(
                _at_times(env, _every(start, feed.interval_d), lambda i=i: rec.note(FEED, i, 1.0))
            )
    if sc.plants.uptake_max_mg_n_d > 0:
        on, off = sc.lights.on_h / 24.0, sc.lights.off_h / 24.0
        env.process(_at_times(env, _every(on, 1.0), lambda: rec.note(LIGHT, 0, 1.0)))
        env.process(_at_times(env, _every(off, 1.0), lambda: rec.note(LIGHT, 0, 0.0)))
    wc = sc.water_changes
    if wc.enabled and water_changes:
        start = wc.first_day_d + wc.time_of_day_h / 24.0
        env.process(
            _at_times(
                env, _every(start, wc.interval_d), lambda: rec.note(WATER_CHANGE, 0, wc.fraction)
            )
        )
    tu = sc.top_up
    if tu.enabled and sc.tank.evaporation_mm_d > 0:  # nothing to top up otherwise
        start = tu.time_of_day_h / 24.0
        env.process(_at_times(env, _every(start, tu.interval_d), lambda: rec.note(TOP_UP)))
    for care, kind in ((sc.buffer, BUFFER), (sc.dosing, DOSE)):
        if care.enabled:
            start = care.time_of_day_h / 24.0
            env.process(_at_times(env, _every(start, care.interval_d), lambda k=kind: rec.note(k)))
    if resolve_filter and sc.filter.layout is not None:
        step = sc.filter.resolve_interval_d
        env.process(_at_times(env, _every(step, step), lambda: rec.note(FILTER)))
    for outage in sc.pump.outages:
        env.process(_outage(env, rec, outage.start_d, outage.duration_h / 24.0))
    ro = sc.pump.random_outages
    if ro is not None:
        env.process(_random_outages(env, rec, ro.mtbf_d, ro.mttr_h / 24.0, ro.seed))


def record_schedule(
    scenario,
    days: float,
    events: bool = True,
    *,
    feeds: bool = True,
    water_changes: bool = True,
    resolve_filter: bool = False,
) -> Schedule:
    """Every event of ``scenario``'s routine before ``days``, in the order applied.

    Parameters
    ----------
    scenario : tankeco.scenario.schema.Scenario
    days : float
        Length of the run; events at or after it do not happen.
    events : bool
        False gives an empty schedule (``simulate(..., events=False)``).
    feeds, water_changes : bool
        False leaves the routine's feedings or water changes out (replay puts the
        logged ones, or its own, in their place).
    resolve_filter : bool
        Re-solve the pipe layout every ``filter.resolve_interval_d`` as the bed clogs
        (``simulate`` does; the ensemble keeps each run's initial flows).
    """
    env = simpy.Environment()
    rec = _Recorder(env)
    if events:
        _routine(
            env,
            rec,
            scenario,
            feeds=feeds,
            water_changes=water_changes,
            resolve_filter=resolve_filter,
        )
    while env.peek() < days:
        env.step()
    return rec.schedule()


def from_rows(
    rows: list[tuple[float, int, int, float]], labels: tuple[tuple[str, str], ...] = ()
) -> Schedule:
    """A schedule from (time_d, kind, index, value) rows, sorted by time (stable)."""
    rows = sorted(rows, key=lambda r: r[0])
    return Schedule(
        np.array([r[0] for r in rows], dtype=np.float64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.float64),
        labels,
    )
