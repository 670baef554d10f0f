"""How likely a water-change schedule is to break a limit, given what we do not know.

A Monte Carlo over four uncertainties, each draw seeded from ``(seed, draw)`` so a run
repeats exactly and every schedule sees the same draws (common random numbers, which
makes the schedules' risks comparable with few draws):

* **kinetics** - the parameters in :data:`KINETIC_PARAMETERS`, each drawn inside its
  range in :mod:`tankeco.scenario.params` from a triangular distribution with its mode at the
  default, on the logarithm of the value where the range is positive (rates and
  half-saturation constants are known to within factors, not within milligrams), and
  **conditioned on the tank being cycled**: a draw is kept only if the bed's steady film
  (:mod:`tankeco.sim.biofilm`) carries the tank's mean load with ammonia and nitrite
  below a kit's first colour step (``CYCLED_MG_L``), as the keeper of a mature tank
  reads them; others are drawn again (rejection sampling, so the kept draws follow the
  prior restricted to what the tank is observed to do).  Without this, draws of slow
  growth and fast decay describe a bed that could never have cycled, and every schedule
  looked risky;
* **feeding** - every feeding's amount lognormal around the portion written in the
  scenario, coefficient of variation ``mc_feed_cv``;
* **a missed water change** - each scheduled change skipped with probability
  ``mc_missed_change_probability``;
* **pump outages** - exponential times between failures (``mc_outage_mtbf_d``) and
  repair times (``mc_outage_mttr_h``), the engine's ``pump.random_outages``.

The ``mc_*`` values are model parameters (:mod:`tankeco.scenario.params`), so a scenario or
``--set params.mc_feed_cv=0.5`` changes them.  Each schedule starts at its periodic steady
state (from the planner) and runs for the scenario's ``simulation.days``.

Fidelity: for speed the draws run with :data:`MC_ZONES` bed zone at ``rtol``
:data:`MC_RTOL` (the planner uses the scenario's zones at 1e-3).  While the pump's flow is
split evenly over the bed (as it is until the hydraulics solver gives the layout's split)
every zone behaves alike, so one zone is the same model; the looser tolerance is what
costs accuracy.  Against 8 zones at 1e-3 over 90 days of the seed tank this moved peak
nitrate by < 0.01 %, peak free ammonia by ~1 %, the lowest alkalinity by < 0.5 % and the
lowest pH by < 0.003, also with a 24 h outage and with a pH crash, at about a tenth of
the cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tankeco.errors import UserError
from tankeco.plan.limits import WaterLimits
from tankeco.scenario.loading import apply_overrides
from tankeco.scenario.params import PARAMETERS
from tankeco.scenario.schema import RandomOutages
from tankeco.scenario.thresholds import CYCLED_MG_L
from tankeco.sim import schedule as sched
from tankeco.sim.biofilm import film_kinetics, water_factors
from tankeco.sim.ensemble import Member, run_ensemble
from tankeco.sim.petersen import C
from tankeco.sim.schedule import record_schedule

#: kinetic parameters drawn in every Monte Carlo draw
KINETIC_PARAMETERS = (
    "mu_max_aob_d",
    "mu_max_nob_d",
    "b_aob_d",
    "b_nob_d",
    "k_tan_aob_mg_l",
    "k_no2_nob_mg_l",
    "k_min_d",
    "ph_slope_nitrif",
)
MC_ZONES = 1
MC_RTOL = 1e-2
#: quantiles of the band plot
BAND_QUANTILES = (0.05, 0.5, 0.95)
#: time series kept for the bands
BAND_SERIES = ("no3_n_mg_l", "alk_mg_l_caco3")


@dataclass(frozen=True)
class ScheduleSpec:
    """A water-change schedule and the state it starts from (just after a change)."""

    interval_d: float
    fraction: float
    no3_start_mg_l: float | None = None
    alk_start_mg_l_caco3: float | None = None


@dataclass
class RiskResult:
    """What :func:`monte_carlo` returns.

    ``schedules``: one row per schedule with the probability of breaking each limit and
    any; ``draws``: one row per (schedule, draw) with its peaks, minima, breaches and the
    parameters drawn; ``bands[name]``: (schedule, quantile, sample) of ``BAND_SERIES``.
    """

    schedules: pd.DataFrame
    draws: pd.DataFrame
    time_d: np.ndarray
    bands: dict[str, np.ndarray]
    seed: int
    n_draws: int


@dataclass(frozen=True)
class CycledTank:
    """What a draw must reproduce: the tank's mean TAN load per m2 of pebble (g N/m2/d),
    at its temperature, in air-saturated tap water."""

    load_g_m2_d: float
    temp_c: float
    o2_mg_l: float
    tap_ph: float
    tap_alk_mg_l_caco3: float
    #: the TAN the engine's mature start sizes the film's water factors at (mg N/L)
    start_tan_mg_l: float

    @classmethod
    def of(cls, scenario) -> CycledTank:
        from tankeco.sim.engine import Tank

        tank = Tank(scenario, 1e-6)
        n_feed, _, _ = tank.daily_loads()
        load_mg_d = n_feed + tank.dosing_n_mg_d()
        media_m2 = float(tank.geo.zone_media_area_m2.sum())
        return cls(
            load_mg_d / 1000.0 / media_m2,
            tank.temp_c,
            float(tank.tap_mg_l[C.O2]),
            float(scenario.tap.ph),
            float(scenario.tap.alk_mg_l_caco3),
            max(float(tank.tap_mg_l[C.TAN]), 0.05),
        )

    def agrees_with(self, params: dict[str, float]) -> bool:
        """True if a bed with these parameters holds TAN and nitrite below the kit's first
        step at steady state under the tank's load."""
        f_aob, f_nob = water_factors(params, self.tap_ph, self.tap_alk_mg_l_caco3, CYCLED_MG_L)
        film = film_kinetics(params, self.temp_c, f_aob, f_nob)
        tan, no2, _, _ = film.steady(self.load_g_m2_d, self.o2_mg_l)
        if not (tan < CYCLED_MG_L and no2 < CYCLED_MG_L):
            return False
        # ...and the engine can start it mature: its steady film, sized with the water
        # factors at the tap's TAN (Tank.mature_film), exists under the same load.
        f_aob, f_nob = water_factors(
            params, self.tap_ph, self.tap_alk_mg_l_caco3, self.start_tan_mg_l
        )
        start = film_kinetics(params, self.temp_c, f_aob, f_nob).steady(
            self.load_g_m2_d, self.o2_mg_l
        )
        return bool(np.all(np.isfinite(start)))


#: draws tried for one accepted draw before the prior is declared inconsistent
MAX_TRIES = 1000


@dataclass(frozen=True)
class Draw:
    """Everything random about one draw, shared by all schedules."""

    params: dict[str, float]
    tries: int  # kinetic draws made until one agreed with a cycled tank
    feed_factors: list[np.ndarray]  # per feed routine, per feeding (in order)
    missed: np.ndarray  # per water change (in order): True = skipped
    outage_seed: int


def _triangular(rng: np.random.Generator, low: float, mode: float, high: float) -> float:
    """Triangular on [low, high] with the mode given; on log values when low > 0."""
    if low > 0:
        return float(np.exp(rng.triangular(np.log(low), np.log(mode), np.log(high))))
    return float(rng.triangular(low, mode, high))


def draw(
    seed: int,
    index: int,
    scenario,
    days: float,
    min_interval_d: float,
    p: dict[str, float],
    cycled: CycledTank | None = None,
) -> Draw:
    """The ``index``-th draw of the Monte Carlo seeded with ``seed``.

    Parameters
    ----------
    seed, index : int
        The draw's generator is ``numpy.random.default_rng([seed, index])``.
    scenario : tankeco.scenario.schema.Scenario
        Gives the feed routines (how many feedings to draw).
    days : float
        Length of the runs, d.
    min_interval_d : float
        Shortest change interval among the schedules (how many changes to draw).
    p : dict
        Resolved parameters (the ``mc_*`` values).
    cycled : CycledTank, optional
        Keep only kinetics under which this tank is cycled (see the module notes).
    """
    rng = np.random.default_rng([seed, index])
    tries = 0
    while tries < MAX_TRIES:
        tries += 1
        params = {}
        for name in KINETIC_PARAMETERS:
            par = PARAMETERS[name]
            params[name] = _triangular(rng, par.low, par.default, par.high)
        if cycled is None or cycled.agrees_with({**p, **params}):
            break
    else:
        raise UserError(
            f"risk: none of {MAX_TRIES} draws of the kinetic parameters describes a cycled "
            f"bed under this tank's load ({cycled.load_g_m2_d:.3g} g N/m2/d); allowed: a "
            "tank whose bed can carry its load (check the stock, feeding and bed)"
        )
    cv = p["mc_feed_cv"]
    sigma2 = math.log1p(cv * cv)
    factors = [
        rng.lognormal(-sigma2 / 2.0, math.sqrt(sigma2), math.ceil(days / f.interval_d) + 2)
        for f in scenario.feeds
    ]
    missed = rng.random(math.ceil(days / min_interval_d) + 2) < p["mc_missed_change_probability"]
    return Draw(params, tries, factors, missed, int(rng.integers(0, 2**31 - 1)))


def _schedule_scenario(scenario, spec: ScheduleSpec, zones: int):
    sets = [
        f"bed.zones={zones}",
        "water_changes.enabled=true",
        f"water_changes.fraction={spec.fraction!r}",
        f"water_changes.interval_d={spec.interval_d!r}",
        f"water_changes.first_day_d={spec.interval_d!r}",
    ]
    if spec.no3_start_mg_l is not None:
        sets.append(f"start.no3_n_mg_l={max(spec.no3_start_mg_l, 0.0)!r}")
    if spec.alk_start_mg_l_caco3 is not None:
        sets.append(f"start.alk_mg_l_caco3={max(spec.alk_start_mg_l_caco3, 0.0)!r}")
    return apply_overrides(scenario, sets)


def _member(base, d: Draw, days: float, p: dict[str, float]) -> tuple[Member, int, int]:
    """The schedule's scenario under draw ``d``, with its perturbed event schedule.

    The drawn values lie inside the ranges the schema allows, so the copy is not
    validated again (that would cost more than the run's set-up).  Returns the member,
    how many of its changes were missed and how many times its pump stopped.
    """
    outages = RandomOutages(
        mtbf_d=p["mc_outage_mtbf_d"], mttr_h=p["mc_outage_mttr_h"], seed=d.outage_seed
    )
    scenario = base.model_copy(
        update={
            "params": {**base.params, **d.params},
            "pump": base.pump.model_copy(update={"random_outages": outages}),
        }
    )
    s = record_schedule(scenario, days)
    value = s.value.copy()
    keep = np.ones(len(s), dtype=bool)
    for f in range(len(scenario.feeds)):
        rows = np.flatnonzero((s.kind == sched.FEED) & (s.index == f))
        value[rows] = d.feed_factors[f][: rows.size]
    changes = np.flatnonzero(s.kind == sched.WATER_CHANGE)
    missed = d.missed[: changes.size]
    keep[changes] = ~missed
    s = s.with_values(value).select(keep)
    return (
        Member(scenario, s),
        int(missed.sum()),
        int(np.sum((s.kind == sched.PUMP) & (s.value == 0))),
    )


def monte_carlo(
    scenario,
    schedules: Sequence[ScheduleSpec],
    limits: WaterLimits,
    *,
    n_draws: int = 100,
    seed: int = 0,
    days: float | None = None,
    zones: int = MC_ZONES,
    rtol: float = MC_RTOL,
    shortest_interval_d: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RiskResult:
    """Probability that each schedule breaks each limit, and the bands of its nitrate.

    Parameters
    ----------
    scenario : tankeco.scenario.schema.Scenario
    schedules : sequence of ScheduleSpec
    limits : WaterLimits
    n_draws : int
        Draws per schedule (the same draws for every schedule).
    seed : int
        Seed of every draw; the same seed gives the same result.
    days : float, optional
        Length of each run (default: the scenario's ``simulation.days``).
    zones, rtol : int, float
        Fidelity of the runs (see the module notes).
    shortest_interval_d : float, optional
        Shortest change interval of every schedule that will be compared with these
        (default: the shortest of ``schedules``).  It sets how many missed-change flags
        each draw holds, and so the rest of the draw's stream: calls with the same seed
        and the same value share their draws (common random numbers across calls).
    progress : callable(done, total), optional

    Returns
    -------
    RiskResult
    """
    if n_draws < 1:
        raise ValueError("n_draws must be at least 1")
    if not schedules:
        raise ValueError("no schedule to assess")
    days = float(scenario.simulation.days if days is None else days)
    p = scenario.parameters
    min_interval = min(s.interval_d for s in schedules)
    if shortest_interval_d is not None:
        if shortest_interval_d > min_interval:
            raise ValueError("shortest_interval_d is longer than a schedule's interval")
        min_interval = shortest_interval_d
    cycled = CycledTank.of(scenario)
    draws = [draw(seed, j, scenario, days, min_interval, p, cycled) for j in range(n_draws)]
    members, keys, missed, outages = [], [], [], []
    for k, spec in enumerate(schedules):
        base = _schedule_scenario(scenario, spec, zones)
        for j, d in enumerate(draws):
            member, n_missed, n_outages = _member(base, d, days, p)
            members.append(member)
            keys.append((k, j))
            missed.append(n_missed)
            outages.append(n_outages)
    res = run_ensemble(members, days, rtol=rtol, step_h=1.0, series=BAND_SERIES, progress=progress)
    table = res.summary.copy()
    table.insert(0, "draw", [j for _, j in keys])
    table.insert(0, "schedule", [k for k, _ in keys])
    breaks = limits.breaches(res.summary)
    for col in breaks.columns:
        table[f"breaks_{col}"] = breaks[col].to_numpy()
    table["breaks_any"] = breaks.any(axis=1).to_numpy()
    table["missed_changes"] = missed
    table["pump_outages"] = outages
    table["kinetic_tries"] = [draws[j].tries for _, j in keys]
    for name in KINETIC_PARAMETERS:
        table[name] = [draws[j].params[name] for _, j in keys]
    rows = []
    for k, spec in enumerate(schedules):
        part = table[table["schedule"] == k]
        row = {"interval_d": spec.interval_d, "fraction": spec.fraction, "draws": len(part)}
        for col in [*breaks.columns, "any"]:
            row[f"p_{col}"] = float(part[f"breaks_{col}"].mean())
        row["no3_peak_median"] = float(part["no3_n_max_mg_l"].median())
        row["no3_peak_p95"] = float(part["no3_n_max_mg_l"].quantile(0.95))
        row["alk_low_p05"] = float(part["alk_min_mg_l_caco3"].quantile(0.05))
        row["ph_low_p05"] = float(part["ph_min"].quantile(0.05))
        rows.append(row)
    bands = {}
    for name in BAND_SERIES:
        arr = res.series[name].reshape(len(schedules), n_draws, -1)
        bands[name] = np.nanquantile(arr, BAND_QUANTILES, axis=1).transpose(1, 0, 2)
    return RiskResult(pd.DataFrame(rows), table, res.time_d, bands, seed, n_draws)
