"""The Monte Carlo: reproducible with a seed, and its draws really vary what they say."""

import numpy as np
import pandas as pd
import pytest

from tankeco.plan.limits import WaterLimits
from tankeco.plan.risk import (
    KINETIC_PARAMETERS,
    MC_ZONES,
    ScheduleSpec,
    _member,
    _schedule_scenario,
    draw,
    monte_carlo,
)
from tankeco.scenario.loading import load_scenario
from tankeco.scenario.params import PARAMETERS
from tankeco.sim.engine import simulate

SPECS = [ScheduleSpec(3.0, 0.5, 5.5, 137.0), ScheduleSpec(7.0, 0.25, 26.0, 60.0)]


def _run(seed, overrides=(), n=4):
    scenario = load_scenario(None, list(overrides))
    return monte_carlo(scenario, SPECS, WaterLimits(), n_draws=n, seed=seed, days=12.0)


@pytest.fixture(scope="module")
def first():
    return _run(5)


def test_same_seed_same_result(first):
    again = _run(5)
    pd.testing.assert_frame_equal(first.draws, again.draws)
    pd.testing.assert_frame_equal(first.schedules, again.schedules)
    for name, band in first.bands.items():
        assert np.array_equal(band, again.bands[name])


def test_another_seed_other_draws(first):
    other = _run(6)
    assert not np.allclose(first.draws["mu_max_aob_d"], other.draws["mu_max_aob_d"])
    assert not np.allclose(first.draws["no3_n_max_mg_l"], other.draws["no3_n_max_mg_l"])


def test_draws_are_shared_by_schedules_and_inside_the_parameter_ranges(first):
    d = first.draws
    for name in KINETIC_PARAMETERS:
        a = d.loc[d["schedule"] == 0, name].to_numpy()
        b = d.loc[d["schedule"] == 1, name].to_numpy()
        assert np.array_equal(a, b)  # common random numbers
        assert (a >= PARAMETERS[name].low).all() and (a <= PARAMETERS[name].high).all()
    assert len(set(d["mu_max_aob_d"])) == 4
    p = first.schedules[["p_no3", "p_nh3", "p_alk", "p_ph", "p_any"]].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()


def test_missed_changes_and_outages_happen_when_certain():
    run = _run(
        1,
        [
            "params.mc_missed_change_probability=1",
            "params.mc_outage_mtbf_d=1",
            "params.mc_outage_mttr_h=12",
        ],
        n=2,
    )
    assert (run.draws["water_changed_l"] == 0).all()
    assert (run.draws["missed_changes"] > 0).all()
    # days without the pump: the bed stops nitrifying and ammonia climbs past the limit
    assert run.schedules["p_nh3"].min() == 1.0


def test_known_safe_and_known_bad_schedules_get_p_0_and_p_1():
    """Two schedules whose nitrate verdict is certain from nitrogen conservation alone.

    Settings: 3 days, nitrate limit 15 mg N/L, every portion exactly as written
    (``mc_feed_cv=0``), tap water without nitrate, no change due inside the run.

    * Known bad: nitrate starts at 30 mg N/L. The peak of a run is at least its start and
      nothing can halve nitrate inside the run (no water change is due), so every draw
      breaks the limit: p = 1.
    * Known safe: nitrate starts at 0. Water-column nitrate can then never exceed all the
      nitrogen there is, (N in the tank at the start + N fed) / the smallest water volume.
      N fed: the scenario's portions x protein fraction x 0.16 g N per g protein (Jones
      1931) = 320.8 mg in 3 days; N in the tank at the start: the draw's own start state
      (biomass, waste, ammonia, nitrite: 20-300 mg, it depends on the drawn kinetics);
      volume: at least 90 % of the 60 x 40 x 25 cm of water (2 mm/d of evaporation
      takes < 1.5 L in 3 days). The bound, computed below for each draw, stays under
      13 mg N/L, so no draw can break the limit: p = 0.
    """
    days, limit = 3.0, 15.0
    scenario = load_scenario(
        None,
        ["params.mc_feed_cv=0", "params.mc_outage_mtbf_d=3650", "tap.no3_n_mg_l=0"],
    )
    safe, bad = ScheduleSpec(7.0, 0.25, 0.0, 137.0), ScheduleSpec(7.0, 0.25, 30.0, 137.0)
    run = monte_carlo(
        scenario, [safe, bad], WaterLimits(max_no3_n_mg_l=limit), n_draws=6, seed=3, days=days
    )
    # the bound of the safe schedule, draw by draw
    fed_n_mg = sum(
        f.amount_g * f.protein_fraction * PARAMETERS["n_per_protein"].default * 1000
        * len(np.arange(f.first_day_d, days, f.interval_d))
        for f in scenario.feeds
    )  # fmt: skip
    assert fed_n_mg == pytest.approx(320.8)
    t = scenario.tank
    volume_min_l = 0.9 * t.length_cm * t.width_cm * t.water_depth_cm / 1000
    base = _schedule_scenario(scenario, safe, MC_ZONES)
    p = scenario.parameters
    bounds = []
    for j in range(run.n_draws):
        member, _ = _member(base, draw(3, j, scenario, days, safe.interval_d, p), days, p)
        start_n_mg = simulate(member.scenario, 0.1).balance["nitrogen_mg"]["stored"]["start"]
        bounds.append((start_n_mg + fed_n_mg) / volume_min_l)
    assert max(bounds) < limit, bounds
    p_safe, p_bad = run.schedules["p_no3"].tolist()
    assert p_safe == 0.0
    assert p_bad == 1.0
    d = run.draws
    safe_peaks = d.loc[d["schedule"] == 0].sort_values("draw")["no3_n_max_mg_l"].to_numpy()
    assert (safe_peaks <= np.array(bounds)).all(), (safe_peaks, bounds)
    assert (d.loc[d["schedule"] == 1, "no3_n_max_mg_l"] >= 30.0 - 1e-6).all()
