"""The one driver and the one schedule: the boundary rule, and what replay builds on them."""

import numpy as np
import pytest

from tankeco.compare.replay import Action, Member, logged_schedule, replay
from tankeco.scenario.loading import load_scenario
from tankeco.sim import schedule as sched
from tankeco.sim.driver import Run
from tankeco.sim.engine import Tank, simulate
from tankeco.sim.ensemble import Member as EnsembleMember
from tankeco.sim.ensemble import run_ensemble
from tankeco.sim.integrators import Ros2
from tankeco.sim.results import timeseries_frame

DAYS = 6.0


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(
        None,
        [
            "filter={}",
            "water_changes.first_day_d=1",
            "water_changes.interval_d=2",
            "pump.outages=[{start_d=2.5, duration_h=6}]",
        ],
    )


def _run(scenario, stops):
    tank = Tank(scenario, DAYS)
    schedule = sched.record_schedule(scenario, DAYS)
    run = Run(tank, schedule, Ros2(tank.tolerances()))
    for t in stops:
        run.advance(t)
    return tank, schedule


def test_a_run_cut_into_stretches_is_the_same_run(scenario):
    """Stopping at event times (and between them) applies every event once, in order."""
    whole, schedule = _run(scenario, [DAYS])
    stops = sorted({*schedule.time_d[::3].tolist(), 0.7, 2.5, 3.0, DAYS})
    cut, _ = _run(scenario, stops)
    assert [e["event"] for e in cut.ledger.events] == [e["event"] for e in whole.ledger.events]
    # the solver restarts at every stop, so the numbers agree to its tolerance, not bitwise
    a, b = timeseries_frame(whole), timeseries_frame(cut)
    for col in ("tan_mg_l", "no3_n_mg_l", "water_volume_l"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-2, atol=1e-3)


def test_an_event_at_the_stop_belongs_to_the_next_stretch(scenario):
    tank, schedule = _run(scenario, [])
    run = Run(tank, schedule, Ros2(tank.tolerances()))
    t_change = float(schedule.time_d[schedule.kind == sched.WATER_CHANGE][0])
    run.advance(t_change)
    assert "water_change" not in {e["event"] for e in tank.ledger.events}
    run.advance(t_change + 1e-6)
    assert [e["time_d"] for e in tank.ledger.events if e["event"] == "water_change"] == [t_change]


def test_simulate_runs_the_recorded_schedule(scenario):
    res = simulate(scenario, DAYS)
    schedule = sched.record_schedule(scenario, DAYS)
    feeds = np.count_nonzero(schedule.kind == sched.FEED)
    assert (res.events["event"] == "feeding").sum() == feeds
    pump = schedule.kind == sched.PUMP
    assert list(res.events["detail"][res.events["event"].str.startswith("pump")]) == [
        schedule.labels[i][1] for i in schedule.index[pump]
    ]


def test_merged_schedule_keeps_time_order_and_labels():
    a = sched.from_rows([(1.0, sched.PUMP, 0, 0.0), (3.0, sched.PUMP, 1, 1.0)], (("x", "a"),) * 2)
    b = sched.from_rows([(1.0, sched.NOTE, 0, 0.0), (2.0, sched.TOP_UP, 0, 0.0)], (("y", "b"),))
    m = a.merged(b)
    assert m.time_d.tolist() == [1.0, 1.0, 2.0, 3.0]
    assert m.kind.tolist() == [sched.PUMP, sched.NOTE, sched.TOP_UP, sched.PUMP]
    assert m.labels[m.index[1]] == ("y", "b")


def test_replay_applies_logged_feedings_and_litres(scenario):
    """A logged feeding of 1 g counts its own grams; a change logged in litres takes them."""
    actions = [
        Action(0.5, "feeding", 1.0, "g"),
        Action(1.5, "water_change", 10.0, "L"),
        Action(2.0, "dosing", 5.0, "ml"),
    ]
    res = replay(scenario, 3.0, actions)
    ev = res.events
    feeds = ev[ev["event"] == "feeding"]
    # feedings were logged, so the logged one replaces the routine's (no resume given)
    assert list(feeds["time_d"]) == [pytest.approx(0.5)]
    assert feeds["detail"].iloc[0] == "turtle pellets: 1 g"  # nearest portion: 2 g
    changes = ev[ev["event"] == "water_change"]
    assert list(changes["time_d"]) == [pytest.approx(1.5)]
    assert changes["volume_l"].iloc[0] == pytest.approx(10.0)
    assert "(logged; not modelled)" in ev[ev["event"] == "dosing"]["detail"].iloc[0]
    # the nitrogen balance still closes with the logged events
    assert abs(res.balance["nitrogen_mg"]["relative_residual"]) < 1e-6


def test_logged_schedule_scales_the_nearest_feed(scenario):
    s = logged_schedule(scenario, [Action(1.0, "feeding", 2.0, "pinch")], feed_factor=2.0)
    fish = next(i for i, f in enumerate(scenario.feeds) if f.eaten_by == "fish")
    assert s.kind.tolist() == [sched.FEED] and s.index.tolist() == [fish]
    expected = 2.0 * 0.075 * 2.0 / scenario.feeds[fish].amount_g  # 2 pinches of 0.075 g, x2
    assert s.value[0] == pytest.approx(expected)


def test_member_water_changes_stop_at_now(scenario):
    m = Member(scenario, DAYS, water_changes_until_d=2.0)
    m.advance(DAYS)
    times = [e["time_d"] for e in m.tank.ledger.events if e["event"] == "water_change"]
    assert times and max(times) < 2.0


def test_the_ensemble_refuses_a_pipe_re_solve(scenario):
    s = sched.from_rows([(1.0, sched.FILTER, 0, 0.0)])
    with pytest.raises(ValueError, match="FILTER"):
        run_ensemble([EnsembleMember(scenario, s)], 2.0)
