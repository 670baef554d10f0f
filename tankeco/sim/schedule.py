"""A scenario's discrete events as arrays, for the ensemble engine.

The times come from the simpy engine's own processes (:func:`tankeco.sim.engine.
build_processes`) run against a recorder instead of a tank, so both engines see exactly
the same instants, in the same order, including ties and seeded random pump failures.
What an event does to the state is not recorded here: the ensemble engine calls the same
functions of :mod:`tankeco.sim.events` as the simpy engine.

Event kinds (``kind``) and what ``index`` and ``value`` mean for each:

=============  ===================  =========================================
kind           index                value
=============  ===================  =========================================
FEED           feed routine         amount factor (1 = the portion as written)
WATER_CHANGE   -                    fraction of the free water changed
TOP_UP         -                    -
DOSE           -                    -
BUFFER         -                    -
PUMP           -                    1 on, 0 off
LIGHT          -                    1 on, 0 off
=============  ===================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

FEED, WATER_CHANGE, TOP_UP, DOSE, BUFFER, PUMP, LIGHT = range(7)
KIND_NAMES = ("feed", "water_change", "top_up", "dose", "buffer", "pump", "light")


@dataclass
class Schedule:
    """Events of one run in the order the engine applies them (times in days)."""

    time_d: np.ndarray  # float64 (n,)
    kind: np.ndarray  # int64 (n,)
    index: np.ndarray  # int64 (n,)
    value: np.ndarray  # float64 (n,)

    def __len__(self) -> int:
        return int(self.time_d.size)

    def select(self, keep: np.ndarray) -> Schedule:
        """The events where ``keep`` is True (e.g. without a missed water change)."""
        return Schedule(self.time_d[keep], self.kind[keep], self.index[keep], self.value[keep])

    def copy(self) -> Schedule:
        return self.select(np.ones(len(self), dtype=bool))


class _NoFilterResolve:
    """The ensemble keeps each run's initial layout flows: no daily re-solve for clogging
    (over 90 days it moves the seed tank's zone flows by < 2 %); see :mod:`tankeco.sim.batch`."""

    has_layout = False


class _Recorder:
    """Stands in for :class:`tankeco.sim.engine.Tank`: notes each event, changes nothing."""

    filter = _NoFilterResolve()

    def __init__(self, scenario, env: simpy.Environment, evaporation_l_d: float):
        self.scenario = scenario
        self.env = env
        self.evaporation_l_d = evaporation_l_d
        self.rows: list[tuple[float, int, int, float]] = []
        self._feed_index = {id(f): i for i, f in enumerate(scenario.feeds)}

    def _note(self, kind: int, index: int = 0, value: float = 0.0) -> None:
        self.rows.append((float(self.env.now), kind, index, value))

    def feed(self, feed) -> None:
        self._note(FEED, self._feed_index[id(feed)], 1.0)

    def water_change(self, fraction: float) -> None:
        self._note(WATER_CHANGE, 0, fraction)

    def top_up(self) -> None:
        self._note(TOP_UP)

    def dose_check(self, dosing) -> None:
        self._note(DOSE)

    def buffer_check(self, buffer) -> None:
        self._note(BUFFER)

    def set_pump(self, on: bool, why: str) -> None:
        self._note(PUMP, 0, float(on and self.scenario.pump.flow_l_h > 0))

    def set_light(self, on: bool) -> None:
        self._note(LIGHT, 0, float(on))


def record_schedule(scenario, days: float, events: bool = True) -> Schedule:
    """Every event of ``scenario`` before ``days``, as the simpy engine would run them.

    Parameters
    ----------
    scenario : tankeco.scenario.schema.Scenario
    days : float
        Length of the run; events at or after it do not happen (as in ``simulate``).
    events : bool
        False gives an empty schedule (``simulate(..., events=False)``).
    """
    from tankeco.sim.engine import build_processes, evaporation_l_d

    env = simpy.Environment()
    rec = _Recorder(scenario, env, evaporation_l_d(scenario))
    build_processes(env, rec, events_on=events)  # type: ignore[arg-type]
    while env.peek() < days:
        env.step()
    rows = rec.rows
    return Schedule(
        np.array([r[0] for r in rows], dtype=np.float64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.float64),
    )
