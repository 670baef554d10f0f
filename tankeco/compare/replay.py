"""Re-run the model over a stretch of real time, with what the keeper actually did.

The scenario's schedule (feed every other day at 9, change 25 % every 7 days) is what the
keeper *means* to do; the events logged in the store are what he *did*.  A comparison
with real readings is only fair against the second, so :func:`replay` replaces each kind
of scheduled event that has logged counterparts by the logged ones.  Kinds with nothing
logged keep their schedule (most keepers log water changes, few log every feeding).

:class:`Member` is the same run cut into pieces: it can be advanced to any time, its
state read and changed in between (the ensemble Kalman filter's analysis step), and its
output read at the end.  Pure model code: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.scenario.loading import apply_overrides
from tankeco.scenario.schema import Feed, Scenario
from tankeco.sim import schedule as sched
from tankeco.sim.driver import Run
from tankeco.sim.engine import Tank
from tankeco.sim.integrators import Ros2
from tankeco.sim.results import Results, build_results, timeseries_frame

#: Logged event kinds the replay understands (as stored by the bridge and ``tankeco log``).
FEEDING, WATER_CHANGE, DOSING = "feeding", "water_change", "dosing"

#: A pinch of flakes, in grams (hobby practice: a three-finger pinch of flakes is
#: ~0.05-0.1 g; estimate).
PINCH_G = 0.075


@dataclass(frozen=True)
class Action:
    """One logged event in model time (days from the run's start)."""

    time_d: float
    kind: str
    amount: float
    unit: str
    note: str = ""


@dataclass(frozen=True)
class Knobs:
    """The uncertain quantities calibration fits, applied on top of a scenario.

    ``feed_factor`` multiplies every feeding (scheduled and logged): how much nitrogen
    really reaches the water against what the keeper thinks he feeds.  ``capacity_factor``
    multiplies both nitrifiers' maximum growth rates (how fast the bed can turn ammonia
    over).  ``nitrate_sink_mg_n_d`` is extra nitrogen uptake (plants, algae, anoxic
    pockets), added to the scenario's plant uptake.
    """

    feed_factor: float = 1.0
    capacity_factor: float = 1.0
    nitrate_sink_mg_n_d: float = 0.0
    #: nitrate in the water at the start (a nuisance the fit needs: the nitrate slope
    #: is what tells feed from sink, and a wrong start tilts it); None: the scenario's.
    no3_start_n_mg_l: float | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with these knobs turned (a new, validated scenario)."""
        p = scenario.parameters
        f, c, s = (
            float(self.feed_factor),
            float(self.capacity_factor),
            float(self.nitrate_sink_mg_n_d),
        )
        sets = [
            f"params.mu_max_aob_d={p['mu_max_aob_d'] * c!r}",
            f"params.mu_max_nob_d={p['mu_max_nob_d'] * c!r}",
            f"plants.uptake_max_mg_n_d={scenario.plants.uptake_max_mg_n_d + max(s, 0.0)!r}",
        ]
        sets += [f"feeds[{i}].amount_g={fd.amount_g * f!r}" for i, fd in enumerate(scenario.feeds)]
        if self.no3_start_n_mg_l is not None:
            sets.append(f"start.no3_n_mg_l={max(float(self.no3_start_n_mg_l), 0.0)!r}")
        return apply_overrides(scenario, sets)


def _nearest_feed(feeds: Sequence[Feed], grams: float) -> Feed:
    """The scheduled feed a logged feeding most likely was (closest portion size)."""
    return min(feeds, key=lambda f: abs(math.log(max(grams, 1e-6) / f.amount_g)))


def logged_schedule(
    scenario: Scenario, actions: Sequence[Action], feed_factor: float = 1.0
) -> sched.Schedule:
    """The logged ``actions`` as schedule events (times in model days).

    A water change logged in % changes that fraction; one logged in litres changes that
    volume of the free water column (its fraction is taken when it happens).  A logged
    feeding is the scheduled feed closest in portion, scaled to the grams logged (times
    ``feed_factor``).  Anything else (dosing of unknown products) is only written down.
    """
    rows: list[tuple[float, int, int, float]] = []
    labels: list[tuple[str, str]] = []
    for a in actions:
        if a.kind == WATER_CHANGE and a.unit == "%":
            rows.append((a.time_d, sched.WATER_CHANGE, 0, min(max(a.amount / 100.0, 0.0), 1.0)))
        elif a.kind == WATER_CHANGE:  # litres of the free water column
            rows.append((a.time_d, sched.WATER_CHANGE_L, 0, a.amount))
        elif a.kind == FEEDING and scenario.feeds:
            grams = {"g": a.amount, "mg": a.amount / 1000.0, "pinch": a.amount * PINCH_G}.get(
                a.unit, a.amount
            )
            feed = _nearest_feed(scenario.feeds, grams)
            index = next(i for i, f in enumerate(scenario.feeds) if f is feed)
            rows.append((a.time_d, sched.FEED, index, grams * feed_factor / feed.amount_g))
        else:  # dosing of unknown products is not modelled; keep it in the event log
            labels.append((a.kind, f"{a.amount:g} {a.unit} (logged; not modelled)"))
            rows.append((a.time_d, sched.NOTE, len(labels) - 1, 0.0))
    return sched.from_rows(rows, tuple(labels))


@dataclass
class Member:
    """One model run that can be advanced piecewise and have its state changed.

    ``actions`` replace the scenario's schedule for their kinds.  Two limits shape a
    forecast: scheduled water changes only happen before ``water_changes_until_d`` (a
    forecast asks "what if I change nothing from now on"), and when feedings were
    logged, the feeding schedule resumes after ``feeds_resume_d`` (the keeper goes on
    feeding after the last one he logged).  The run is the simulator's own driver
    (:class:`tankeco.sim.driver.Run`) over one schedule: the scenario's routine, less
    what was logged, plus the logged events.
    """

    scenario: Scenario
    days: float
    actions: Sequence[Action] = ()
    feed_factor: float = 1.0
    water_changes_until_d: float = math.inf
    feeds_resume_d: float = math.inf
    rtol: float = 1e-3
    tank: Tank = field(init=False)
    integrator: Ros2 = field(init=False)
    run: Run = field(init=False)

    def __post_init__(self) -> None:
        sc = self.scenario
        self.tank = Tank(sc, self.days, rtol=self.rtol)
        kinds = {a.kind for a in self.actions}
        routine = sched.record_schedule(sc, self.days, resolve_filter=self.tank.filter.has_layout)
        t = routine.time_d
        drop = (routine.kind == sched.FEED) & (FEEDING in kinds) & (t <= self.feeds_resume_d)
        drop |= (routine.kind == sched.WATER_CHANGE) & (
            (WATER_CHANGE in kinds) | (t >= self.water_changes_until_d)
        )
        logged = logged_schedule(sc, self.actions, self.feed_factor)
        schedule = routine.select(~drop).merged(logged)
        self.integrator = Ros2(self.tank.tolerances())
        self.run = Run(self.tank, schedule, self.integrator)

    def advance(self, t_d: float) -> None:
        """Run events and chemistry up to model day ``t_d`` (events at ``t_d`` come with
        the next stretch; see :mod:`tankeco.sim.driver`)."""
        self.run.advance(min(t_d, self.days))

    @property
    def t(self) -> float:
        return self.tank.t

    # -- state in the water's terms (what sensors see) ------------------------------
    def water_concentrations(self) -> np.ndarray:
        """Concentrations in the free water column (mg/L) of every component."""
        return self.tank.m[0] / self.tank.forcing.water_volume_l

    def shift_dissolved(self, component: int, delta_mg_l: float) -> None:
        """Add ``delta_mg_l`` to one dissolved component everywhere the water is.

        The bed's pore water exchanges with the column within minutes, so a correction
        applied to the column alone would be mixed away; it is applied to every
        compartment, never below zero.
        """
        vol = self.tank.model.volumes_l(self.tank.forcing)
        m = self.tank.m
        m[:, component] = np.maximum(m[:, component] + delta_mg_l * vol, 0.0)

    def biomass_mg(self, component: int) -> float:
        """Total mass of one nitrifier population in the bed (mg VSS)."""
        return float(self.tank.m[1:, component].sum())

    def scale_biomass(self, component: int, factor: float) -> None:
        """Multiply one nitrifier population everywhere in the bed (its present capacity)."""
        self.tank.m[1:, component] *= max(factor, 1e-6)

    def timeseries(self) -> pd.DataFrame:
        """Output rows written so far (the engine's ``timeseries`` columns)."""
        return timeseries_frame(self.tank)

    def results(self) -> Results:
        return build_results(self.tank, self.tank.t, self.integrator.solver_summary())


def replay(
    scenario: Scenario,
    days: float,
    actions: Sequence[Action] = (),
    knobs: Knobs | None = None,
    *,
    rtol: float = 1e-3,
) -> Results:
    """Run ``scenario`` for ``days`` with logged ``actions`` replacing its schedule.

    The run ends on the first output step at or after ``days`` (a few minutes of model past
    the end): the output holds whole steps only, and a run cut at the last whole step
    before ``days`` left every reading of the last partial hour without a model value.
    """
    knobs = knobs or Knobs()
    sc = knobs.apply(scenario)
    step_d = sc.output.step_h / 24.0
    end_d = math.ceil(days / step_d - 1e-9) * step_d
    member = Member(sc, end_d, actions, feed_factor=knobs.feed_factor, rtol=rtol)
    member.advance(end_d)
    return member.results()
