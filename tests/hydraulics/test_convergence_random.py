"""Issue 12: the solver converges on every physically meaningful layout.

1 000 random layouts across aquarium sizes (see :mod:`tests.hydraulics.random_layouts`:
headers, U and Z ladders, rings, trees; 12-32 mm headers, 6-25 mm rungs, 2-8 mm holes,
200-3000 L/h as a fixed flow or a pump curve), each solved in the momentum mode with
Rawn's port law (the default) and with a constant Cd (``port="constant"``, the law of
the EPANET comparisons), and in the friction-only mode.  Every one must converge; a
failure names the layout's index and knobs so that it can be reproduced.  Before issue
12 the momentum mode failed on 20 of these 1 000 (9 U and 11 Z ladders); after its first
round, ``port="constant"`` still failed on one (#512, a U ladder whose front header
dead-ends past the last rung, see ``Solver._either_side_of_reversals``).
"""

from __future__ import annotations

import numpy as np
import pytest

from tankeco.hydraulics.solver import SolveOptions, Solver

from .random_layouts import random_layouts

COUNT = 1000


@pytest.mark.parametrize(
    ("mode", "port"), [("momentum", "rawn"), ("momentum", "constant"), ("friction", "rawn")]
)
def test_every_random_layout_converges(mode, port):
    failed = []
    holes = []
    for drawn in random_layouts(COUNT):
        holes.append(len(drawn.network.holes))
        try:
            sol = Solver(drawn.network, SolveOptions(mode=mode, port=port)).solve()
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            failed.append(f"#{drawn.index} {drawn.shape} {drawn.knobs}: {exc}")
            continue
        q = sol.hole_flow_m3_s
        if not (np.all(np.isfinite(q)) and abs(q.sum() / sol.pump_flow_m3_s - 1) < 1e-9):
            failed.append(f"#{drawn.index} {drawn.shape}: flows do not add up")
    assert len(holes) == COUNT and max(holes) > 50
    assert not failed, f"{len(failed)} of {COUNT} failed:\n" + "\n".join(failed[:20])
