"""The ensemble Kalman filter, the 14-day forecast and the alerts built on it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tankeco.compare import alerts
from tankeco.compare.align import Clock, observations
from tankeco.compare.calibrate import start_overrides
from tankeco.compare.forecast import Forecast, enkf_update, forecast
from tankeco.compare.replay import Knobs, Member
from tankeco.scenario import thresholds as limits
from tankeco.scenario.loading import apply_overrides, load_scenario
from tankeco.units.quantities import MODEL_COLUMN, SENSOR_SIGMA


def test_enkf_matches_the_kalman_filter_on_a_linear_gaussian_case():
    rng = np.random.default_rng(0)
    n = 4000
    # prior x ~ N([0, 1], [[1, .5], [.5, 1]]); we observe the first component, var 1, as 2
    prior = rng.multivariate_normal([0, 1], [[1, 0.5], [0.5, 1]], size=n).T
    post = enkf_update(prior, prior[:1], np.array([2.0]), np.array([1.0]), rng)
    # Kalman: gain (1/2, 1/4); mean (1, 1.5); var of the first 1/2, of the second 1 - 1/8
    assert post.mean(axis=1) == pytest.approx([1.0, 1.5], abs=0.06)
    assert post[0].var() == pytest.approx(0.5, rel=0.08)
    assert post[1].var() == pytest.approx(0.875, rel=0.08)


@pytest.fixture(scope="module")
def synthetic():
    """A true tank (knobs unknown to the filter) measured for 3 days, then left alone."""
    sc = load_scenario(None)
    truth = Knobs(1.3, 0.7, 15.0)
    m = Member(truth.apply(sc), 17.0, feed_factor=1.3, water_changes_until_d=3.0, rtol=1e-5)
    m.advance(17.0)
    ts = m.timeseries()
    rng = np.random.default_rng(3)
    t = np.arange(0, 3, 5 / 1440)
    rows = [
        pd.DataFrame(
            {
                "ts_ms": (t * 86_400_000).astype(np.int64),
                "quantity": q,
                "sensor": q,
                "value": np.interp(t, ts["time_d"], ts[MODEL_COLUMN[q]])
                + rng.normal(0, SENSOR_SIGMA[q], t.size),
            }
        )
        for q in ("tan_n", "no3_n", "ph")
    ]
    obs = observations(pd.concat(rows), pd.DataFrame(), Clock(0))
    return sc, obs, ts


def test_forecast_band_holds_the_truth_and_assimilation_beats_the_open_loop(synthetic):
    sc, obs, truth = synthetic
    started = apply_overrides(sc, start_overrides(obs))
    fc = forecast(started, obs, 3.0, members=24, seed=1)
    assert fc.analyses == 12
    true_now = float(np.interp(3.0, truth["time_d"], truth["no3_n_mg_l"]))
    assert abs(fc.now_mean["no3_n"] - true_now) < 3 * max(fc.now_std["no3_n"], 0.05)
    for day in (5.0, 10.0, 16.5):
        i = int(np.searchsorted(fc.time_d, day))
        true = float(np.interp(fc.time_d[i], truth["time_d"], truth["no3_n_mg_l"]))
        assert fc.low["no3_n_mg_l"][i] <= true <= fc.high["no3_n_mg_l"][i], day
    # the band widens with the horizon
    assert np.ptp([fc.low["no3_n_mg_l"][-1], fc.high["no3_n_mg_l"][-1]]) > np.ptp(
        [fc.low["no3_n_mg_l"][0], fc.high["no3_n_mg_l"][0]]
    )
    # without the data (no analyses) the same ensemble misses "now" by far more
    blind = forecast(started, obs.iloc[:0], 3.0, members=24, seed=1)
    assert blind.analyses == 0
    err_blind = abs(blind.now_mean["tan_n"] - np.interp(3.0, truth["time_d"], truth["tan_mg_l"]))
    err_fc = abs(fc.now_mean["tan_n"] - np.interp(3.0, truth["time_d"], truth["tan_mg_l"]))
    assert err_fc < err_blind


def _fake_forecast(no3: np.ndarray, now_d: float = 10.0) -> Forecast:
    t = now_d + np.arange(no3.size) / 24.0
    curves = {"no3_n_mg_l": no3}
    return Forecast(
        now_d, t, curves, curves, curves, {}, {}, 1, 0, 0.25, 7.0, {"tap_no3_n_mg_l": 2.0}
    )


def test_nitrate_alert_names_the_change_and_the_day():
    # 5 mg N/L now, rising 1 mg N/L a day: passes 10 in about 5 days
    no3 = 5.0 + np.arange(14 * 24) / 24.0
    fc = _fake_forecast(no3)
    (a,) = alerts.nitrate(fc, lambda d: f"day{d:.1f}")
    assert a.code == "nitrate_will_pass_limit"
    assert "in about 5 days" in a.message
    # at the deadline nitrate is 9.5; a week more at 1/d needs (9.5 + 7 - 10) / 7.5 = 87 %
    # in one go, more than the 50 % a tank takes at once (issue 11, point 3: it said
    # "change 90%"); now a series of daily changes of at most 50 % (9.5 -> 5.75 -> ...).
    assert "change 50% by day14.5" in a.message and "90%" not in a.message
    assert alerts.water_change_countdown_d(fc) == pytest.approx(5.0 + 1 / 24, abs=0.05)
    over = alerts.nitrate(_fake_forecast(no3 + 10), lambda d: "x")
    assert over[0].code == "nitrate_above_limit" and "today" in over[0].message
    assert alerts.nitrate(_fake_forecast(np.full(48, 3.0)), lambda d: "x") == []
    assert math.isinf(alerts.water_change_countdown_d(_fake_forecast(np.full(48, 3.0))))


def test_change_series_never_exceeds_the_safe_single_change():
    """20 mg N/L, tap 2, rising 0.5/d, limit 10: one change would be 75 % (the test below).

    Hand calculation with c' = c - f (c - tap) and +0.5 a day between changes, target
    10 - 0.5 * 7 = 6.5: 50 % -> 11.0; +0.5 = 11.5; need (11.5-6.5)/9.5 = 53 % -> 50 %
    -> 6.75; +0.5 = 7.25; need (7.25-6.5)/5.25 = 14.3 % -> 15 % -> 6.4625 <= 6.5.
    """
    s = alerts.change_series(20.0, 0.5, 2.0, 10.0, 7.0)
    assert s.fractions == (0.5, 0.5, 0.15)
    assert s.after_mg_l == pytest.approx((11.0, 6.75, 6.4625))
    assert s.enough
    assert max(alerts.change_series(80.0, 2.0, 2.0, 10.0).fractions) <= 0.5
    assert max(alerts.change_series(20.0, 0.5, 2.0, 10.0, max_fraction=0.3).fractions) <= 0.3
    text = s.describe("today")
    assert text.startswith("change 50% today, then 50% and 15% on the next 2 days")


def test_a_rise_too_fast_for_a_week_of_margin_stops_half_way_and_asks_for_a_schedule():
    """Seed tank on the dashboard: 29.3 mg N/L, tap 3, rising 0.9 a day, limit 10.

    A week's margin wants 10 - 0.9 * 7 = 3.7, barely above the tap's 3: seven daily 50 %
    changes still missed it ("not yet enough").  The series now stops at half-way between
    tap and limit, 6.5, and says the rise needs a schedule.  By hand, c' = c - f (c - 3),
    +0.9 a day between changes: 50 % -> 16.15; 17.05 -> 50 % -> 10.025; 10.925 -> need
    (10.925 - 6.5) / 7.925 = 56 % -> 50 % -> 6.9625; 7.8625 -> need 28.1 % -> 30 % -> 6.40375.
    """
    s = alerts.change_series(29.3, 0.9, 3.0, 10.0, 7.0)
    assert s.fractions == (0.5, 0.5, 0.5, 0.3)
    assert s.after_mg_l == pytest.approx((16.15, 10.025, 6.9625, 6.40375))
    assert s.enough and s.fast_rise_mg_l_d == pytest.approx(0.9)
    text = s.describe("today", 10.0)
    assert text.startswith("change 50% today, then 50%, 50% and 30% on the next 3 days")
    assert "under the 10 mg N/L limit from the 3rd change" in text
    assert "rises 0.9 mg N/L a day" in text and "plan water-changes" in text
    # where a week's margin is within reach the series goes for it and says nothing more
    assert alerts.change_series(20.0, 0.5, 2.0, 10.0, 7.0).fast_rise_mg_l_d is None


def test_nitrate_far_above_the_limit_gets_a_series_not_90_percent():
    """The dashboard said "nitrate 29.2 mg N/L is above the limit now - change 90% today"."""
    fc = _fake_forecast(np.full(48, 29.2))
    (a,) = alerts.nitrate(fc, lambda d: "x")
    assert a.code == "nitrate_above_limit"
    assert "90%" not in a.message and "change 50% today, then" in a.message


def test_recommended_fraction_keeps_a_week_of_margin():
    f = alerts.recommended_fraction(20.0, 0.5, 2.0, 10.0, 7.0)
    assert f == 0.75  # (20 + 3.5 - 10) / 18 = 0.75
    after = (1 - f) * 20.0 + f * 2.0
    assert after + 0.5 * 7.0 <= 10.0 + 1e-9


def test_free_ammonia_needs_tan_and_ph_and_fresh_readings():
    latest = {
        "tan_n": alerts.Latest(1.0, 2.0),
        "ph": alerts.Latest(8.0, 2.0),
        "temperature": alerts.Latest(28.0, 2.0),
    }
    (a,) = alerts.free_ammonia(latest)
    assert a.level == alerts.CRITICAL and "free ammonia above limit now" in a.message
    assert alerts.free_ammonia({**latest, "ph": alerts.Latest(6.5, 2.0)}) == []
    stale = {q: alerts.Latest(r.value, 600.0) for q, r in latest.items()}
    assert alerts.free_ammonia(stale) == []
    assert limits.FREE_NH3_N_MG_L < 0.02


def test_silent_sensors_and_ph_drift():
    (a,) = alerts.silent_sensors({"temp": 3.0, "ph-probe": 25.0})
    assert a.sensor == "ph-probe" and "silent for 25 min" in a.message
    steady = [(0.0, 7.6, 7.8), (5.0, 7.6, 7.8)]  # a constant offset: the kit's colour bias
    assert alerts.ph_drift(steady) == []
    drifting = [(0.0, 7.6, 7.65), (5.0, 7.6, 7.8), (10.0, 7.4, 7.8)]
    (d,) = alerts.ph_drift(drifting)
    assert "drifting" in d.message and "+0.40" in d.message
