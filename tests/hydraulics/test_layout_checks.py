"""Issue 12, point 6: the smaller fixes, each with its test."""

from __future__ import annotations

import numpy as np
import pytest

from tankeco.errors import ScenarioError
from tankeco.hydraulics import builders, fittings
from tankeco.hydraulics.network import Hole, Network, Node, Pipe, Pump
from tankeco.hydraulics.solver import SolveOptions, Solver

from .helpers import common


def test_overlapping_holes_are_refused():
    """6 mm holes every 3 mm overlap; the builder's layout is refused in one line."""
    with pytest.raises(ScenarioError) as info:
        builders.header(common(hole_diameter_m=0.006, hole_spacing_m=0.003))
    assert "overlaps" in str(info.value) and "\n" not in str(info.value)
    # 6 mm holes every 6.5 mm do not touch and are accepted
    builders.header(common(hole_diameter_m=0.006, hole_spacing_m=0.0065))


def _lone_hole_network() -> Network:
    nodes = (Node("p", 0.05, 0.05), Node("a", 0.3, 0.05), Node("lone", 0.3, 0.3))
    pipes = (Pipe("s", "p", "a", 0.016, 1.5e-6),)
    holes = (Hole("h1", "a", 0.004, 0.61), Hole("h2", "lone", 0.004, 0.61))
    return Network(nodes, pipes, holes, Pump("p", flow_m3_s=1e-4), 0.6, 0.4)


def test_a_hole_on_a_disconnected_node_is_reported_as_disconnected():
    with pytest.raises(ScenarioError) as info:
        _lone_hole_network()
    msg = str(info.value)
    assert "not connected" in msg and "lone" in msg and "diameter" not in msg


def test_hole_run_loss_uses_the_actual_split_for_wide_holes():
    """Crane's run K for beta^2 > 0.4 depends on the split; it used to be read at a
    split of 0.5, where it is zero, so holes wider than 0.63 of the bore had no run
    loss at all.  Now the run of a 12 mm header with 10 mm holes loses head."""
    c = common(header_diameter_m=0.012, hole_diameter_m=0.010, hole_spacing_m=0.05)
    net = builders.header(c)
    solver = Solver(net)
    beta2 = solver.fits.run_beta2
    assert beta2.size > 0 and np.all(beta2 > 0.4)
    from tankeco.hydraulics import newton_kernel as kernel

    k_small_share, _ = kernel.crane_k_smooth(kernel.RUN_DIVERGING, float(beta2[0]), 90.0, 0, 0.1)
    assert k_small_share < 0  # a regain, credited (x <= 0.5: M = 2 (2x - 1) < 0)
    k_large_share, _ = kernel.crane_k_smooth(kernel.RUN_DIVERGING, float(beta2[0]), 90.0, 0, 0.8)
    assert k_large_share > 0
    # the solve sees it: momentum hole flows differ from a run loss switched off
    with_run = solver.solve().hole_flow_l_h
    no_run = Solver(net)
    no_run.fits = no_run.fits._replace(run_node=no_run.fits.run_node[:0])
    without = no_run.solve().hole_flow_l_h
    assert np.max(np.abs(with_run / without - 1)) > 1e-4


def test_a_reducing_corner_keeps_its_bend():
    """A corner where a 16 mm pipe turns 90 degrees into a 12 mm pipe is a reducer and
    an elbow; the elbow used to be dropped."""
    nodes = (Node("p", 0.05, 0.05), Node("corner", 0.3, 0.05), Node("end", 0.3, 0.3))
    pipes = (Pipe("a", "p", "corner", 0.016, 1.5e-6), Pipe("b", "corner", "end", 0.012, 1.5e-6))
    holes = (Hole("h", "end", 0.004, 0.61),)
    net = Network(nodes, pipes, holes, Pump("p", flow_m3_s=500 / 3.6e6), 0.6, 0.4)
    f = fittings.classify(net, net.compiled)
    assert f.two.a.size == 2  # the reducer and the bend
    straight_nodes = (Node("p", 0.05, 0.05), Node("corner", 0.3, 0.05), Node("end", 0.55, 0.05))
    straight = Network(straight_nodes, pipes, holes, Pump("p", flow_m3_s=500 / 3.6e6), 0.6, 0.4)
    assert fittings.classify(straight, straight.compiled).two.a.size == 1
    # the same pipe lengths (25 cm each): only the bend tells the two apart
    bent_head = Solver(net).solve().pump_head_m
    straight_head = Solver(straight).solve().pump_head_m
    assert bent_head > straight_head
    friction = SolveOptions(mode="friction")
    assert Solver(net, friction).solve().pump_head_m == pytest.approx(
        Solver(straight, friction).solve().pump_head_m, rel=1e-12
    )


def test_too_big_a_network_is_one_line():
    from tankeco.hydraulics import solver as solver_mod

    net = builders.header(common())
    limit = solver_mod.MAX_UNKNOWNS
    try:
        solver_mod.MAX_UNKNOWNS = 10
        with pytest.raises(ScenarioError) as info:
            Solver(net)
    finally:
        solver_mod.MAX_UNKNOWNS = limit
    assert "beyond the solver's limit of 10" in str(info.value)
