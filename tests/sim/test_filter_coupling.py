"""The pipe layout feeds the bed zones: flows from the solved network, clogging that moves
them, and what a poor layout does to the biofilter."""

from pathlib import Path

import numpy as np
import pytest

from tankeco.errors import ScenarioError
from tankeco.hydraulics.analysis import Analyser
from tankeco.hydraulics.layout_file import resolve_layout
from tankeco.scenario.loading import load_scenario
from tankeco.sim.engine import simulate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def same_path():
    return simulate(load_scenario(None, ["filter.layout=seed_same_path"]), 60)


@pytest.fixture(scope="module")
def poor():
    return simulate(load_scenario(None, ["filter.layout=poor_one_end"]), 60)


def test_zone_flows_are_the_solved_network(same_path):
    layout = resolve_layout("seed_same_path")
    solved = Analyser(layout.network(), 8, layout.options()).run().zone_flow_l_h
    # the bed barely clogs in 60 days, so the flows stay close to the clean solve
    np.testing.assert_allclose(same_path.summary["zone_flow_l_h"], solved, rtol=0.02)
    assert same_path.summary["pump_flow_l_h"] == pytest.approx(solved.sum(), rel=0.02)
    assert same_path.timeseries["pump_flow_l_h"].iloc[0] == pytest.approx(solved.sum())


def test_poor_layout_starves_part_of_the_bed(same_path, poor):
    s, p = same_path.summary, poor.summary
    assert s["anoxic_zone_days"] == 0
    assert p["anoxic_zone_days"] > 100  # zones the pipe does not reach go anoxic
    assert p["bed_do_min_mg_l"] < 0.5 < s["bed_do_min_mg_l"]
    assert p["denitrified_n_mg"] > 2 * s["denitrified_n_mg"]  # anoxic pockets
    # the bed's own capacity (each zone fed by its share of the pump) shows the layout; the
    # tank's is also held back by the oxygen the surface supplies, the same for both
    assert p["nitrification_capacity_bed_mg_n_d"] < 0.7 * s["nitrification_capacity_bed_mg_n_d"]
    assert p["nitrification_capacity_mg_n_d"] <= s["nitrification_capacity_mg_n_d"]
    for run in (same_path, poor):
        assert abs(run.balance["nitrogen_mg"]["relative_residual"]) < 1e-6


def test_clogging_shifts_the_flow_in_a_down_flow_bed():
    """A down-flow bed catches waste where the water goes; with lots of inert solids the
    busiest zones clog, the daily re-solve sends water elsewhere and the split evens out."""
    scenario = load_scenario(
        None,
        [
            "filter.direction=down",
            "params.inert_fraction_of_waste=1",
            "params.deposit_solids_kg_m3=20",
            "feeds[0].amount_g=6",
            # three times the turtle's food: at the steady nitrate of weekly 25 % changes
            # the tap's alkalinity would be used up; start from a drifted tank instead
            "start.alk_mg_l_caco3=40",
        ],
    )
    run = simulate(scenario, 60)
    resolves = run.events[run.events["event"] == "filter"]
    assert len(resolves) > 30
    assert run.summary["bed_porosity_min"] < 0.35
    first = np.asarray(resolve_analysis_flows())
    last = np.asarray(run.summary["zone_flow_l_h"])
    assert last.max() / last.min() < 0.9 * first.max() / first.min()
    assert abs(run.balance["nitrogen_mg"]["relative_residual"]) < 1e-6


def resolve_analysis_flows():
    layout = resolve_layout("seed_same_path")
    return Analyser(layout.network(), 8, layout.options()).run().zone_flow_l_h


def test_unknown_layout_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="filter.layout.*shipped layouts"):
        simulate(load_scenario(None, ["filter.layout=spaghetti"]), 1)


def test_layout_for_another_tank_is_refused():
    scenario = load_scenario(None, ["tank.length_cm=80", "filter.layout=seed_same_path"])
    with pytest.raises(ScenarioError, match="drawn for a 60 x 40 cm tank"):
        simulate(scenario, 1)


def test_shipped_layouts_match_sims_folder():
    for name in ("seed_same_path", "poor_one_end"):
        shipped = (REPO / "tankeco" / "data" / "layouts" / f"{name}.toml").read_text()
        assert shipped == (REPO / "sims" / "layouts" / f"{name}.toml").read_text()


def test_layout_simulate_command(tmp_path):
    import subprocess
    import sys

    png = tmp_path / "cmp.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tankeco",
            "layout",
            "simulate",
            "seed_same_path",
            "poor_one_end",
            "--days",
            "5",
            "--png",
            str(png),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "poor_one_end" in proc.stdout and png.stat().st_size > 10_000
