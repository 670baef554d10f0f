"""Which water-change schedules keep a tank inside its limits, and what each costs.

The planner works in four steps:

1. **Production.**  One run with the water changes switched off (everything else as in the
   scenario) measures the tank's own net nitrate production and alkalinity use: the rise
   of nitrate (and fall of alkalinity) times the whole water volume, over a window of
   whole feeding cycles.  The feed gives a second, a-priori nitrate figure: the N the
   feed puts into the water each day (it ignores denitrification and the N kept in
   biomass and waste).
2. **Closed form.**  For every candidate (interval x fraction) the periodic steady state
   of :mod:`tankeco.plan.closed_form` with both production figures.  Candidates the
   closed form puts far outside the nitrate or alkalinity limit (by ``screen_factor``)
   are not simulated.
3. **Simulation.**  The remaining candidates run together in the ensemble engine at full
   fidelity (the scenario's bed zones and ``rtol``), each starting at its closed-form
   steady state, long enough for what is left of the start to fade ((1 - f)^n <= 1/4,
   at least ``spin_up_d``), then over an evaluation window holding at least one whole
   cycle of changes and feedings.  Peaks and minima are taken over that window: the
   schedule's periodic steady state.
4. **Recommendation.**  For each interval the smallest fraction whose simulated steady
   state keeps every limit, at most ``max_fraction``; fewest changes first.  These sit
   just under a limit; :mod:`tankeco.plan.risk_search` then looks among all the
   candidates that keep the limits for the least water its Monte Carlo rates safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.plan.closed_form import periodic_steady_state, water_per_month_l
from tankeco.plan.limits import WaterLimits
from tankeco.scenario import thresholds
from tankeco.scenario.loading import apply_overrides
from tankeco.sim.engine import Tank, geometry_of
from tankeco.sim.ensemble import run_ensemble

#: candidate intervals, d, and fractions of the water column
DEFAULT_INTERVALS_D = (1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 14.0)
DEFAULT_FRACTIONS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.75)
#: hobby practice: larger changes swing temperature and chemistry in one go
DEFAULT_MAX_FRACTION = thresholds.MAX_SINGLE_CHANGE_FRACTION
#: a candidate is simulated unless the closed form misses a limit by more than this factor
DEFAULT_SCREEN_FACTOR = 1.25
#: least spin-up before the evaluation window, d; and the longest run the planner makes
DEFAULT_SPIN_UP_D = 28.0
MAX_DAYS = 365.0


@dataclass(frozen=True)
class Production:
    """Net production rates of the tank, measured with no water changes.

    Attributes
    ----------
    no3_n_mg_d : float
        Net nitrate production (nitrification - denitrification + tap nitrate of the
        top-ups), mg N/d, from the simulation.
    no3_n_feed_mg_d : float
        N the feed puts into the water each day, mg N/d (the a-priori figure).
    alk_mg_d : float
        Net alkalinity production, mg CaCO3/d (negative: nitrification uses it).
    window_d : tuple of float
        Start and end of the measuring window, d.
    column_volume_l, total_volume_l : float
        Free water column and column + bed pores, L.
    """

    no3_n_mg_d: float
    no3_n_feed_mg_d: float
    alk_mg_d: float
    window_d: tuple[float, float]
    column_volume_l: float
    total_volume_l: float


@dataclass
class WaterChangePlan:
    """What :func:`plan_water_changes` returns.

    ``table`` has one row per candidate; ``recommended`` the chosen rows; ``time_d`` and
    ``no3_n_mg_l`` the simulated nitrate of the simulated candidates over the evaluation
    window (rows in the order of ``table[table.simulated]``).
    """

    production: Production
    limits: WaterLimits
    table: pd.DataFrame
    recommended: pd.DataFrame
    days: float
    window_start_d: float
    time_d: np.ndarray = field(default_factory=lambda: np.zeros(0))
    no3_n_mg_l: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def feed_cycle_h(scenario) -> int:
    """Whole hours after which the feeding pattern repeats (LCM of the feed intervals)."""
    cycle = 1
    for f in scenario.feeds:
        cycle = math.lcm(cycle, max(1, round(f.interval_d * 24)))
    return cycle


def _cycle_d(interval_d: float, feed_h: int) -> float:
    """Days after which changes and feedings repeat together (at most 4 intervals)."""
    lcm_h = math.lcm(max(1, round(interval_d * 24)), feed_h)
    return min(lcm_h / 24.0, 4 * interval_d)


def measure_production(scenario, rtol: float = 1e-3, window_d: float = 10.0) -> Production:
    """Net nitrate and alkalinity production with the water changes off.

    The window starts on day 4 (after the start has settled) and lasts whole feeding
    cycles of at least ``window_d``; both ends fall at the same time of day.
    """
    geo = geometry_of(scenario)
    v_col = geo.water_volume_l
    v_tot = v_col + float(geo.zone_pore_volume_l.sum())
    cycle_h = feed_cycle_h(scenario)
    n_cycles = max(1, math.ceil(window_d * 24 / cycle_h))
    t0 = 4.0
    t1 = t0 + n_cycles * cycle_h / 24.0
    quiet = apply_overrides(scenario, ["water_changes.enabled=false"])
    res = run_ensemble([quiet], t1, rtol=rtol, step_h=1.0, series=("no3_n_mg_l", "alk_mg_l_caco3"))
    i0, i1 = round(t0 * 24), round(t1 * 24)
    no3 = res.series["no3_n_mg_l"][0]
    alk = res.series["alk_mg_l_caco3"][0]
    n_load, _, _ = Tank(scenario, 1e-6).daily_loads()
    return Production(
        no3_n_mg_d=float((no3[i1] - no3[i0]) * v_tot / (t1 - t0)),
        no3_n_feed_mg_d=float(n_load),
        alk_mg_d=float((alk[i1] - alk[i0]) * v_tot / (t1 - t0)),
        window_d=(t0, t1),
        column_volume_l=v_col,
        total_volume_l=v_tot,
    )


def _closed_forms(scenario, prod: Production, grid: pd.DataFrame) -> pd.DataFrame:
    f, t = grid["fraction"].to_numpy(), grid["interval_d"].to_numpy()
    v_col, v_tot = prod.column_volume_l, prod.total_volume_l
    tap = scenario.tap
    no3_b, no3_a = periodic_steady_state(prod.no3_n_mg_d, f, t, v_col, v_tot, tap.no3_n_mg_l)
    feed_b, feed_a = periodic_steady_state(prod.no3_n_feed_mg_d, f, t, v_col, v_tot, tap.no3_n_mg_l)
    alk_b, alk_a = periodic_steady_state(prod.alk_mg_d, f, t, v_col, v_tot, tap.alk_mg_l_caco3)
    out = grid.copy()
    out["water_l_per_month"] = water_per_month_l(f, t, v_col)
    out["changes_per_month"] = 30.0 / t
    out["no3_peak_closed_form"] = no3_b
    out["no3_low_closed_form"] = no3_a
    out["no3_peak_closed_form_feed"] = feed_b
    out["alk_low_closed_form"] = alk_b
    out["alk_high_closed_form"] = alk_a
    return out


def _spin_up_d(fraction: float, interval_d: float, least_d: float) -> float:
    n = math.ceil(math.log(0.25) / math.log(1.0 - fraction)) if fraction < 1 else 1
    return max(least_d, n * interval_d)


def plan_water_changes(
    scenario,
    limits: WaterLimits,
    *,
    intervals_d: Sequence[float] = DEFAULT_INTERVALS_D,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    max_fraction: float = DEFAULT_MAX_FRACTION,
    screen_factor: float = DEFAULT_SCREEN_FACTOR,
    spin_up_d: float = DEFAULT_SPIN_UP_D,
    rtol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
) -> WaterChangePlan:
    """Candidate schedules, their simulated steady states and the recommended ones.

    Parameters
    ----------
    scenario : tankeco.scenario.schema.Scenario
        The tank; its own water-change settings are replaced by each candidate's.
    limits : WaterLimits
    intervals_d, fractions : sequences of float
        The candidate grid (fractions above ``max_fraction`` are left out).
    max_fraction : float
        Largest share of the water column changed at once.
    screen_factor : float
        Candidates whose closed form exceeds the nitrate limit, or falls below the
        alkalinity floor, by more than this factor are not simulated.
    spin_up_d : float
        Least simulated time before the evaluation window, d.
    rtol : float
        Integrator tolerance of the candidate runs.
    progress : callable(done, total), optional
        Passed to the ensemble engine.

    Returns
    -------
    WaterChangePlan
    """
    prod = measure_production(scenario, rtol=rtol)
    grid = pd.DataFrame(
        [(t, f) for t in intervals_d for f in fractions if f <= max_fraction + 1e-12],
        columns=["interval_d", "fraction"],
    )
    if grid.empty:
        raise ValueError("no candidate: every fraction is above max_fraction")
    table = _closed_forms(scenario, prod, grid)
    table["simulated"] = (
        table["no3_peak_closed_form"] <= screen_factor * limits.max_no3_n_mg_l
    ) & (table["alk_low_closed_form"] >= limits.min_alk_mg_l_caco3 / screen_factor)
    sim = table[table["simulated"]]
    feed_h = feed_cycle_h(scenario)
    window = max((_cycle_d(t, feed_h) for t in sim["interval_d"]), default=0.0)
    spin = max(
        (
            _spin_up_d(f, t, spin_up_d)
            for t, f in zip(sim["interval_d"], sim["fraction"], strict=True)
        ),
        default=spin_up_d,
    )
    days = min(MAX_DAYS, spin + 2 * window)
    window_start = days - window
    for col in (
        "no3_peak",
        "no3_low",
        "alk_low",
        "alk_high",
        "ph_low",
        "nh3_peak",
        "no2_peak",
        "no3_drift",
    ):
        table[col] = np.nan
    table["keeps_limits"] = False
    table["breaks"] = "closed form: " + _closed_form_breaks(table, limits)
    time_d = np.zeros(0)
    no3 = np.zeros((0, 0))
    if not sim.empty:
        members = [
            _candidate(scenario, t, f, a_no3, a_alk)
            for t, f, a_no3, a_alk in zip(
                sim["interval_d"],
                sim["fraction"],
                sim["no3_low_closed_form"],
                sim["alk_high_closed_form"],
                strict=True,
            )
        ]
        res = run_ensemble(
            members,
            days,
            rtol=rtol,
            step_h=1.0,
            series=("no3_n_mg_l", "alk_mg_l_caco3"),
            window_start_d=window_start,
            progress=progress,
        )
        s = res.summary
        t_all = res.time_d
        win = t_all >= window_start - 1e-9
        prev = (t_all >= window_start - window - 1e-9) & (t_all <= window_start + 1e-9)
        no3_all = res.series["no3_n_mg_l"]
        idx = sim.index
        table.loc[idx, "no3_peak"] = s["no3_n_max_mg_l"].to_numpy()
        table.loc[idx, "no3_low"] = s["no3_n_min_mg_l"].to_numpy()
        table.loc[idx, "alk_low"] = s["alk_min_mg_l_caco3"].to_numpy()
        table.loc[idx, "alk_high"] = res.series["alk_mg_l_caco3"][:, win].max(axis=1)
        table.loc[idx, "ph_low"] = s["ph_min"].to_numpy()
        table.loc[idx, "nh3_peak"] = s["nh3_max_mg_l"].to_numpy()
        table.loc[idx, "no2_peak"] = s["no2_n_max_mg_l"].to_numpy()
        table.loc[idx, "no3_drift"] = no3_all[:, win].max(axis=1) - no3_all[:, prev].max(axis=1)
        breaks = limits.breaches(s)
        table.loc[idx, "keeps_limits"] = ~breaks.any(axis=1).to_numpy()
        table.loc[idx, "breaks"] = [
            ", ".join(c for c in breaks.columns if row[c]) for _, row in breaks.iterrows()
        ]
        time_d = t_all[win]
        no3 = no3_all[:, win]
    table["keeps_limits"] = table["keeps_limits"].astype(bool)
    ok = table[table["keeps_limits"]]
    recommended = (
        ok.sort_values(["interval_d", "fraction"]).groupby("interval_d", as_index=False).first()
    )
    recommended = recommended.sort_values("interval_d", ascending=False).reset_index(drop=True)
    return WaterChangePlan(
        production=prod,
        limits=limits,
        table=table,
        recommended=recommended,
        days=days,
        window_start_d=window_start,
        time_d=time_d,
        no3_n_mg_l=no3,
    )


def _closed_form_breaks(table: pd.DataFrame, limits: WaterLimits) -> pd.Series:
    no3 = np.where(table["no3_peak_closed_form"] > limits.max_no3_n_mg_l, "no3", "")
    alk = np.where(table["alk_low_closed_form"] < limits.min_alk_mg_l_caco3, "alk", "")
    return pd.Series([", ".join(x for x in pair if x) for pair in zip(no3, alk, strict=True)])


def _candidate(scenario, interval_d: float, fraction: float, no3_start: float, alk_start: float):
    """The scenario with a candidate schedule, starting just after a change at the closed
    form's steady state (the first change one interval in)."""
    return apply_overrides(
        scenario,
        [
            "water_changes.enabled=true",
            f"water_changes.fraction={fraction!r}",
            f"water_changes.interval_d={interval_d!r}",
            f"water_changes.first_day_d={interval_d!r}",
            f"start.no3_n_mg_l={max(no3_start, 0.0)!r}",
            f"start.alk_mg_l_caco3={max(alk_start, 1.0)!r}",
        ],
    )
