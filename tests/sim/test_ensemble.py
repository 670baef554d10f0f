"""The ensemble engine against the simpy engine, and the shared event functions."""

import numpy as np
import pytest

from tankeco.scenario.loading import load_scenario
from tankeco.sim import events
from tankeco.sim import schedule as sched
from tankeco.sim.engine import Tank, simulate
from tankeco.sim.ensemble import SERIES, Member, run_ensemble
from tankeco.sim.petersen import C
from tankeco.sim.schedule import record_schedule

BUSY = [
    "dosing.enabled=true",
    "dosing.threshold_tan_mg_l=0.1",
    "dosing.target_tan_mg_l=0.5",
    "buffer.enabled=true",
    "buffer.min_alk_mg_l_caco3=145",
    "buffer.target_alk_mg_l_caco3=160",
    "plants.uptake_max_mg_n_d=15",
    "water_changes.first_day_d=2",
    "water_changes.interval_d=3",
    "pump.outages=[{start_d=4, duration_h=12}]",
    "pump.random_outages={mtbf_d=3, mttr_h=2, seed=7}",
]
DAYS = 8.0


@pytest.fixture(scope="module")
def pair():
    """A busy tank (every kind of event) and the plain seed tank, run both ways."""
    # without a pipe layout: the ensemble keeps a layout's initial flows where simulate
    # re-solves them daily, so bit-for-bit equality holds for the even split only
    scenarios = [
        load_scenario(None, [*BUSY, "filter={}"]),
        load_scenario(None, ["bed.zones=3", "filter={}"]),
    ]
    ens = run_ensemble(scenarios, DAYS, series=SERIES, keep_final_state=True)
    return scenarios, ens, [simulate(s, DAYS) for s in scenarios]


def test_batch_gives_simulates_numbers(pair):
    scenarios, ens, runs = pair
    for i, run in enumerate(runs):
        for name in SERIES:
            np.testing.assert_allclose(
                ens.series[name][i].astype(float),
                run.timeseries[name].to_numpy(dtype=float),
                rtol=1e-12,
                atol=1e-15,
                err_msg=name,
            )
        # the state itself is identical to the last bit: same kernel, same event functions
        assert np.array_equal(ens.final_state[i], run.final_state)
        assert ens.summary["steps"][i] == run.solver["steps"]


def test_batch_books_the_same_ledger_and_closes_the_balance(pair):
    scenarios, ens, runs = pair
    kinds = set(runs[0].events["event"])
    assert {"dosing", "buffer", "pump_off", "water_change", "lights_on"} <= kinds
    for i, run in enumerate(runs):
        nb = run.balance["nitrogen_mg"]
        led = dict(zip(events.LEDGER_FIELDS, ens.ledger[i], strict=True))
        assert led["n_in_feed_mg"] == pytest.approx(nb["in"]["feed"], rel=1e-14)
        assert led["n_in_dosing_mg"] == pytest.approx(nb["in"]["dosing"], rel=1e-14)
        assert led["n_out_water_change_mg"] == pytest.approx(nb["out"]["water_changes"], rel=1e-14)
        assert ens.summary["n_relative_residual"][i] == pytest.approx(
            nb["relative_residual"], abs=1e-12
        )
        assert abs(ens.summary["n_relative_residual"][i]) < 1e-6
    assert ens.ledger[0][events.BAKING_SODA] > 0 and ens.ledger[0][events.N_IN_DOSING] > 0


def test_a_members_own_schedule_is_what_runs():
    """A member without its second water change and with double portions."""
    scenario = load_scenario(None, ["water_changes.first_day_d=1", "water_changes.interval_d=2"])
    s = record_schedule(scenario, 6.0)
    changes = np.flatnonzero(s.kind == sched.WATER_CHANGE)
    assert changes.size == 3
    keep = np.ones(len(s), dtype=bool)
    keep[changes[1]] = False
    value = np.where(s.kind == sched.FEED, 2.0, s.value)
    custom = sched.Schedule(s.time_d, s.kind, s.index, value).select(keep)
    ens = run_ensemble([scenario, Member(scenario, custom)], 6.0)
    led = ens.ledger
    assert led[1, events.N_IN_FEED] == pytest.approx(2 * led[0, events.N_IN_FEED])
    assert led[1, events.WATER_OUT] == pytest.approx(led[0, events.WATER_OUT] * 2 / 3, rel=1e-3)
    assert ens.summary["no3_n_end_mg_l"][1] > ens.summary["no3_n_end_mg_l"][0]


def test_water_change_moves_only_water_and_books_its_nitrogen():
    tank = Tank(load_scenario(None), 1e-6)
    m = tank.m.copy()
    before = m.copy()
    vol, out_l, in_l, n_out, n_in = events.water_change(
        m, 0.25, 58.0, 60.0, tank.tap_mg_l, events.WATER_BORNE, tank.model.n_weights
    )
    assert vol == 60.0 and out_l == pytest.approx(14.5) and in_l == pytest.approx(16.5)
    assert np.array_equal(m[1:], before[1:])  # the bed is untouched
    assert m[0, C.GUT_N_FISH] == before[0, C.GUT_N_FISH]  # so are the animals' guts
    water_n = before[0, list(events.WATER_BORNE)] @ tank.model.n_weights[events.WATER_BORNE]
    assert n_out == pytest.approx(0.25 * water_n)
    assert n_in == pytest.approx(16.5 * tank.tap_mg_l @ tank.model.n_weights)
    n_now = m[0] @ tank.model.n_weights
    assert n_now == pytest.approx(before[0] @ tank.model.n_weights - n_out + n_in)
