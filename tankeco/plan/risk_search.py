"""The least water whose own Monte Carlo rates it safe: a risk-aware search.

The deterministic planner (:mod:`tankeco.plan.water_changes`) finds the schedules that keep
every limit at their periodic steady state; the cheapest of them sit just under the nitrate
limit, so the Monte Carlo (:mod:`tankeco.plan.risk`) rates them unsafe.  This search walks
up in water from there and stops at the first schedule whose risk is at most
``max_risk``:

* **What counts.**  The risk a schedule is judged by is P(it breaks a limit it controls):
  nitrate, alkalinity, pH, or a failed run.  Free ammonia and nitrite are reported apart
  (``p_outside``), with the share of draws that had a pump outage: free ammonia passes the
  strict 0.02 mg NH3/L for an hour or two after the turtle's meal in draws with slow
  nitrifiers whatever the water changes do, nitrite rises in the same draws and while the
  pump is off, and the steady state already keeps both.  On the seed tank their rate is
  the same from 300 to 900 L a month (the same draws, every schedule); smaller meals, a
  second filter or a battery air pump reduce them, more water does not.
* **Common random numbers.**  Every candidate runs under the same draws (the same seed,
  and the same shortest interval, which fixes each draw's stream), so differences between
  candidates are the schedules' and not the dice's, and few draws rank them.
* **Few evaluations.**  At a fixed interval the risk falls as the share changed grows (the
  same draws, more dilution; the draw-wise breaches are monotone in the steady-state
  nitrate, which the closed form puts at C_tap + P T / (f V)).  So for each interval the
  search bisects the feasible fractions for the smallest safe one (a share is skipped when a
  larger one at its interval was unsafe, or a smaller one safe), and only among those
  using less water than the best schedule found so far (branch and bound, intervals in
  the order of their cheapest feasible schedule).  Where the evaluated fractions of an
  interval contradict monotonicity (a smaller share safe, a larger one not: Monte Carlo
  noise), every fraction of that interval in range is evaluated instead.
* **A first look.**  Each schedule first meets a fifth of the draws
  (:func:`screen_draws`); one clearly unsafe on them (the lower end of its 95 % interval
  above ``max_risk``) is rejected without the rest, which spares most of the cost of the
  cheap schedules that the search must rule out.
* **Confidence.**  Each risk is a proportion of ``n`` draws; its 95 % interval is Wilson's
  score interval (Wilson 1927), which keeps its coverage near the nominal level for the
  small ``n`` and the proportions near 0 that a safe schedule has, where the normal
  approximation gives intervals below zero.  The verdict uses the estimate itself; the
  interval says how far to trust it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.plan.closed_form import water_per_month_l
from tankeco.plan.limits import WaterLimits
from tankeco.plan.risk import RiskResult, ScheduleSpec, monte_carlo
from tankeco.plan.water_changes import WaterChangePlan

#: limits a water-change schedule controls; the others are the bed's and the pump's
SCHEDULE_LIMITS = ("no3", "alk", "ph", "failed")
OUTSIDE_LIMITS = ("nh3", "no2")
#: two-sided 95 % normal quantile for the Wilson interval
Z_95 = 1.959963984540054


def wilson_interval(breaches: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion ``breaches / n``.

    .. math::

        \\frac{\\hat p + z^2/2n \\pm z \\sqrt{\\hat p (1 - \\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    Wilson (1927), J. Am. Stat. Assoc. 22, 209-212.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    p = breaches / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def screen_draws(n_draws: int) -> int:
    """Draws of the first look at a schedule (0: none), a fifth of them, at least 10.

    Draw ``j`` is the same in every run with the same seed, so these are the first draws
    of the full run.  A schedule whose risk is above ``max_risk`` even at the lower end
    of its 95 % Wilson interval over them is rejected on them; any other gets every draw.
    """
    n = max(10, n_draws // 5)
    return n if n * 2 <= n_draws else 0


def schedule_breaks(draws: pd.DataFrame) -> pd.Series:
    """Per draw: did it break a limit the water changes control?"""
    return draws[[f"breaks_{k}" for k in SCHEDULE_LIMITS]].any(axis=1)


def outside_breaks(draws: pd.DataFrame) -> pd.Series:
    """Per draw: free ammonia or nitrite over its limit (the bed's and the pump's risk)."""
    return draws[[f"breaks_{k}" for k in OUTSIDE_LIMITS]].any(axis=1)


def rate(draws: pd.DataFrame) -> dict[str, float]:
    """The risks of one schedule's draws, each with its Wilson interval."""
    n = len(draws)
    own = schedule_breaks(draws)
    k = int(own.sum())
    lo, hi = wilson_interval(k, n)
    row = {"draws": n, "p_schedule": k / n, "p_schedule_lo": lo, "p_schedule_hi": hi}
    for name in ("no3", "no2", "alk", "ph", "nh3", "failed"):
        kk = int(draws[f"breaks_{name}"].sum())
        row[f"p_{name}"] = kk / n
        row[f"p_{name}_lo"], row[f"p_{name}_hi"] = wilson_interval(kk, n)
    outside = outside_breaks(draws)
    row["p_outside"] = float(outside.mean())
    outage = draws["pump_outages"] > 0
    row["p_outside_lo"], row["p_outside_hi"] = wilson_interval(int(outside.sum()), n)
    row["p_outside_with_outage"] = float((outside & outage).mean())
    row["p_outage"] = float(outage.mean())
    row["no3_peak_p95"] = float(draws["no3_n_max_mg_l"].quantile(0.95))
    return row


@dataclass
class RiskSearch:
    """What :func:`search` returns.

    ``assessed``: one row per schedule the Monte Carlo ran, in the order run, with its
    risks (``p_schedule`` is the one judged against ``max_risk``) and ``safe``;
    ``chosen``: the least-water safe schedule (a row of ``assessed``) or None;
    ``best``: the lowest-risk schedule assessed (what to say when none is safe);
    ``skipped``: feasible schedules cheaper than the chosen one that were not run, with why;
    ``results``: the RiskResult of each assessed schedule (same order).
    """

    assessed: pd.DataFrame
    chosen: pd.Series | None
    best: pd.Series | None
    skipped: pd.DataFrame
    max_risk: float
    n_draws: int
    seed: int
    results: list[RiskResult] = field(default_factory=list)
    monotonic: bool = True
    #: draw by draw, at the same interval: pairs (smaller share, larger share) of the same
    #: draw where only the larger share broke a limit, and how many pairs were compared
    draw_violations: int = 0
    draw_pairs: int = 0


def search(
    scenario,
    plan: WaterChangePlan,
    limits: WaterLimits,
    max_risk: float,
    *,
    n_draws: int = 100,
    seed: int = 0,
    days: float | None = None,
    on_start: Callable[[float, float, float], None] | None = None,
    on_done: Callable[[pd.Series], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RiskSearch:
    """The schedule with the least water per month (ties: fewest changes) whose Monte
    Carlo risk of breaking a limit it controls is at most ``max_risk``.

    Parameters
    ----------
    scenario : tankeco.scenario.schema.Scenario
    plan : WaterChangePlan
        The deterministic plan; its schedules that keep every limit at steady state (all
        within its ``max_fraction``) are the candidates.
    limits : WaterLimits
    max_risk : float
        Largest acceptable P(breaking a limit the schedule controls), 0-1.
    n_draws, seed, days
        As :func:`tankeco.plan.risk.monte_carlo`.
    on_start : callable(interval_d, fraction, water_l_per_month), optional
        Called before each Monte Carlo (progress).
    on_done : callable(row), optional
        Called with each assessed row.
    progress : callable(done, total), optional
        Passed to each Monte Carlo's ensemble run.
    """
    table = plan.table
    ok = table[table["keeps_limits"]].copy()
    v_col = plan.production.column_volume_l
    ok["water_l_per_month"] = water_per_month_l(ok["fraction"], ok["interval_d"], v_col)
    shortest = float(ok["interval_d"].min()) if len(ok) else 1.0
    cache: dict[tuple[float, float], dict] = {}
    broke: dict[tuple[float, float], np.ndarray] = {}
    results: list[RiskResult] = []

    def assess(row) -> bool:
        key = (float(row.interval_d), float(row.fraction))
        if key not in cache:
            if on_start:
                on_start(key[0], key[1], float(row.water_l_per_month))
            spec = ScheduleSpec(key[0], key[1], float(row.no3_low), float(row.alk_high))
            res = None
            n_screen = screen_draws(n_draws)
            if n_screen:
                res = monte_carlo(
                    scenario, [spec], limits, n_draws=n_screen, seed=seed, days=days,
                    shortest_interval_d=shortest, progress=progress,
                )  # fmt: skip
                k = int(schedule_breaks(res.draws).sum())
                if wilson_interval(k, n_screen)[0] <= max_risk:
                    res = None  # not clearly unsafe: all the draws decide
            if res is None:
                res = monte_carlo(
                    scenario, [spec], limits, n_draws=n_draws, seed=seed, days=days,
                    shortest_interval_d=shortest, progress=progress,
                )  # fmt: skip
            results.append(res)
            broke[key] = schedule_breaks(res.draws).to_numpy()
            rated = {
                "interval_d": key[0],
                "fraction": key[1],
                "water_l_per_month": float(row.water_l_per_month),
                "changes_per_month": 30.0 / key[0],
                "no3_peak_steady": float(row.no3_peak),
                **rate(res.draws),
            }
            rated["safe"] = rated["p_schedule"] <= max_risk + 1e-12
            cache[key] = rated
            if on_done:
                on_done(pd.Series(rated))
        return bool(cache[key]["safe"])

    def better(water: float, interval: float, best: tuple[float, float] | None) -> bool:
        """Less water than the best so far, or as much with fewer changes."""
        if best is None:
            return True
        if water < best[0] - 1e-9:
            return True
        return abs(water - best[0]) <= 1e-9 and interval > best[1]

    groups = {t: g.sort_values("fraction") for t, g in ok.groupby("interval_d")}
    order = sorted(groups, key=lambda t: (groups[t]["water_l_per_month"].min(), -t))
    best: tuple[float, float] | None = None
    best_key: tuple[float, float] | None = None
    monotonic = True
    for t in order:
        g = groups[t]
        rows = [r for r in g.itertuples() if better(r.water_l_per_month, t, best)]
        if not rows:
            continue
        # bisection for the smallest safe share: rows[lo] unsafe (or none below), rows[hi]
        # safe (hi == len(rows): none found safe yet); the largest share is run only when
        # every smaller one tried was unsafe
        lo, hi = -1, len(rows)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if assess(rows[mid]):
                hi = mid
            else:
                lo = mid
        evaluated = [(r.fraction, cache[(t, r.fraction)]["safe"]) for r in rows
                     if (t, r.fraction) in cache]  # fmt: skip
        if any(s1 and not s2 for (f1, s1), (f2, s2) in _pairs(evaluated) if f1 < f2):
            monotonic = False
            for r in rows:
                assess(r)
            hi = min(
                (i for i, r in enumerate(rows) if cache[(t, r.fraction)]["safe"]), default=len(rows)
            )
        if hi == len(rows):
            continue
        chosen = rows[hi]
        best = (float(chosen.water_l_per_month), t)
        best_key = (t, float(chosen.fraction))
    violations, pairs = _draw_monotonicity(broke)
    assessed = pd.DataFrame(list(cache.values()))
    chosen_row = None
    best_row = None
    if len(assessed):
        if best_key is not None:
            mask = (assessed["interval_d"] == best_key[0]) & (assessed["fraction"] == best_key[1])
            chosen_row = assessed[mask].iloc[0]
        best_row = assessed.sort_values(["p_schedule", "water_l_per_month"]).iloc[0]
    limit_water = best[0] if best else np.inf
    cheaper = ok[ok["water_l_per_month"] < limit_water - 1e-9]
    skipped = []
    for r in cheaper.itertuples():
        if (float(r.interval_d), float(r.fraction)) in cache:
            continue
        skipped.append(
            {
                "interval_d": r.interval_d,
                "fraction": r.fraction,
                "water_l_per_month": r.water_l_per_month,
                "why": "not run: a larger share at the same interval was already unsafe",
            }
        )
    return RiskSearch(
        assessed=assessed,
        chosen=chosen_row,
        best=best_row,
        skipped=pd.DataFrame(
            skipped, columns=["interval_d", "fraction", "water_l_per_month", "why"]
        ),
        max_risk=max_risk,
        n_draws=n_draws,
        seed=seed,
        results=results,
        monotonic=monotonic,
        draw_violations=violations,
        draw_pairs=pairs,
    )


def _draw_monotonicity(broke: dict[tuple[float, float], np.ndarray]) -> tuple[int, int]:
    """What the bisection relies on, checked on the draws: under common random numbers a
    draw that breaks a limit with a larger share changed should break it with a smaller
    one too.  Returns (draw pairs where it does not, draw pairs compared)."""
    violations = pairs = 0
    for (t1, f1), b1 in broke.items():
        for (t2, f2), b2 in broke.items():
            if t1 == t2 and f1 < f2:
                m = min(b1.size, b2.size)  # a first look holds the first draws only
                violations += int(np.sum(b2[:m] & ~b1[:m]))
                pairs += m
    return violations, pairs


def _pairs(items: list) -> list:
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]


def merged(results: list[RiskResult]) -> RiskResult | None:
    """The assessed schedules' Monte Carlo results as one (for the band plot)."""
    if not results:
        return None
    schedules = pd.concat([r.schedules for r in results], ignore_index=True)
    draws = []
    for k, r in enumerate(results):
        d = r.draws.copy()
        d["schedule"] = k
        draws.append(d)
    bands = {name: np.concatenate([r.bands[name] for r in results]) for name in results[0].bands}
    first = results[0]
    return RiskResult(
        schedules, pd.concat(draws, ignore_index=True), first.time_d, bands, first.seed,
        max(r.n_draws for r in results),
    )  # fmt: skip
