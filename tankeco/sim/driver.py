"""The one driver: a tank, a schedule and an integrator, advanced to any time.

``simulate`` runs it once to the end; replay and the forecast's ensemble Kalman filter
advance it in stretches and read or change the state in between.  The rule at the
boundaries is the same everywhere (and in the compiled ensemble loop of
:mod:`tankeco.sim.batch`, which applies the same schedules): the chemistry is integrated
up to an event's time, then the event is applied; :meth:`Run.advance` to ``t`` applies
the events at times < t, so an event at exactly ``t`` belongs to the next stretch and
each event is applied once however the run is cut.

Between two events the forcing (pump, light, water volume) is constant, which is what
lets an integrator take long steps; after each stretch the evaporation of that stretch is
taken off (the tank's :meth:`~tankeco.sim.engine.Tank.after_interval`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tankeco.sim import schedule as sched
from tankeco.sim.integrators import Integrator
from tankeco.sim.model import TankModel
from tankeco.sim.schedule import Schedule
from tankeco.sim.state import Samples, TankState


class DrivenTank(Protocol):
    """What the driver needs from a tank (:class:`tankeco.sim.engine.Tank`)."""

    model: TankModel
    state: TankState
    samples: Samples
    scenario: object

    def flags(self) -> tuple[float, float, float, float]: ...
    def after_interval(self, t_end: float) -> None: ...
    def feed(self, feed, amount_factor: float = 1.0) -> None: ...
    def water_change(self, fraction: float) -> None: ...
    def top_up(self) -> None: ...
    def dose_check(self, dosing) -> None: ...
    def buffer_check(self, buffer) -> None: ...
    def set_pump(self, on: bool, why: str) -> None: ...
    def set_light(self, on: bool) -> None: ...
    def resolve_filter(self) -> None: ...
    def log(self, kind: str, detail: str = "", n_mg: float = 0.0, volume_l: float = 0.0): ...


def apply_event(tank: DrivenTank, schedule: Schedule, j: int) -> None:
    """Apply event ``j`` of ``schedule`` to ``tank`` (see the kinds in :mod:`schedule`)."""
    kind, index, value = int(schedule.kind[j]), int(schedule.index[j]), float(schedule.value[j])
    sc = tank.scenario
    if kind == sched.FEED:
        tank.feed(sc.feeds[index], value)
    elif kind == sched.WATER_CHANGE:
        tank.water_change(value)
    elif kind == sched.WATER_CHANGE_L:
        tank.water_change(min(max(value / tank.state.forcing.water_volume_l, 0.0), 1.0))
    elif kind == sched.TOP_UP:
        tank.top_up()
    elif kind == sched.DOSE:
        tank.dose_check(sc.dosing)
    elif kind == sched.BUFFER:
        tank.buffer_check(sc.buffer)
    elif kind == sched.PUMP:
        tank.set_pump(value > 0.5, schedule.labels[index][1])
    elif kind == sched.LIGHT:
        tank.set_light(value > 0.5)
    elif kind == sched.FILTER:
        tank.resolve_filter()
    elif kind == sched.NOTE:
        tank.log(*schedule.labels[index])
    else:
        raise ValueError(f"schedule event {j}: unknown kind {kind}")


class Run:
    """One tank driven through one schedule by one integrator."""

    def __init__(self, tank: DrivenTank, schedule: Schedule, integrator: Integrator) -> None:
        if len(schedule) and np.any(np.diff(schedule.time_d) < 0):
            raise ValueError("a schedule's events must be in time order")
        self.tank = tank
        self.schedule = schedule
        self.integrator = integrator
        self.next_event = 0

    @property
    def t(self) -> float:
        return self.tank.state.t

    def advance(self, t_d: float) -> None:
        """Integrate and apply the events before ``t_d``; then integrate up to ``t_d``."""
        s = self.schedule
        while self.next_event < len(s) and s.time_d[self.next_event] < t_d:
            self._integrate(float(s.time_d[self.next_event]))
            apply_event(self.tank, s, self.next_event)
            self.next_event += 1
        self._integrate(t_d)

    def _integrate(self, t_end: float) -> None:
        tank = self.tank
        if t_end <= tank.state.t:
            return
        samples = tank.samples
        k0 = samples.k_out
        self.integrator.advance(tank.model, tank.state, samples, t_end)
        samples.out_flags[k0 : samples.k_out] = tank.flags()
        tank.after_interval(t_end)
