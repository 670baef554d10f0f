"""Flow conservation at every junction; the bed's resistance, clean and clogged."""

from __future__ import annotations

from pathlib import Path

import fluids
import numpy as np
import pytest

from tankeco.hydraulics.analysis import Analyser, analyse, zone_flows_l_h
from tankeco.hydraulics.bed import (
    clogged_porosity,
    deposit_volume_m3,
    ergun_coefficients,
    kozeny_carman_factor,
)
from tankeco.hydraulics.layout_file import load_layout
from tankeco.hydraulics.solver import SolveOptions, Solver

LAYOUTS = sorted((Path(__file__).parents[2] / "sims" / "layouts").glob("*.toml"))


@pytest.mark.parametrize("path", LAYOUTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("mode", ["momentum", "friction"])
def test_flow_conserved_at_every_junction(path, mode):
    layout = load_layout(path)
    sol = Solver(layout.network(), SolveOptions(mode=mode)).solve()
    imbalance_l_h = np.abs(sol.junction_imbalance_m3_s()) * 3.6e6
    assert imbalance_l_h.max() < 1e-9
    assert sol.hole_flow_m3_s.sum() == pytest.approx(sol.pump_flow_m3_s, rel=1e-12)


def test_ergun_coefficients_match_fluids():
    a, b = ergun_coefficients(0.45, 0.01, 0.08, 997.0, 0.00089, sphericity=1.0)
    for v in (1e-4, 1e-3, 1e-2):
        ref = fluids.Ergun(dp=0.01, voidage=0.45, vs=v, rho=997.0, mu=0.00089, L=0.08)
        assert a * v + b * v**2 == pytest.approx(ref, rel=1e-12)


def test_clogging_helpers():
    eps = clogged_porosity(0.45, deposit_volume_m3(0.05, 50.0), 0.004)  # 50 g in 4 L of bed
    assert eps == pytest.approx(0.45 - 0.001 / 0.004)
    assert clogged_porosity(0.45, 1.0, 0.004) == pytest.approx(0.02)  # floor
    assert kozeny_carman_factor(0.45, 0.45) == pytest.approx(1.0)
    assert kozeny_carman_factor(0.2, 0.45) > 10


def _seed():
    return load_layout(LAYOUTS[[p.stem for p in LAYOUTS].index("seed_same_path")])


def test_clean_bed_adds_almost_nothing():
    net = _seed().network()
    with_bed = analyse(net).hole_flow_l_h
    without = Solver(net).solve().hole_flow_l_h
    assert np.max(np.abs(with_bed / without - 1)) < 0.005
    # a few pascals of bed against the holes' head
    res = analyse(net).resistance
    q = without / 3.6e6
    bed_head = res.c1 * q + res.c2 * q**2
    hole_head = Solver(net).solve().hole_static_head_m
    assert np.max(bed_head / hole_head) < 0.01


def test_clogged_zones_shift_the_flow():
    net = _seed().network()
    clean = zone_flows_l_h(net, np.full(8, 0.45), 8, 0.6, 0.4)
    eps = np.full(8, 0.45)
    eps[:2] = 0.08
    clogged = zone_flows_l_h(net, eps, 8, 0.6, 0.4)
    assert clogged[:2].sum() < 0.9 * clean[:2].sum()
    assert clogged[2:].sum() > clean[2:].sum()
    assert clogged.sum() == pytest.approx(clean.sum(), rel=0.05)


def test_analyser_warm_start_and_zone_sum():
    an = Analyser(_seed().network(), 8)
    first = an.run()
    again = an.run()
    assert again.solution.iterations <= 2
    assert first.zone_flow_l_h.sum() == pytest.approx(first.solution.pump_flow_m3_s * 3.6e6)
    with pytest.raises(ValueError):
        zone_flows_l_h(an, np.full(8, 0.45), 8, 0.8, 0.4)
