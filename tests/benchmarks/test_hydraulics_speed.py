"""Speed of the hydraulic solver and the tuner.

Run with ``python3 -m pytest tests/benchmarks/test_hydraulics_speed.py --benchmark-only -s``.
Targets (issue 3): one solve of a 64-hole layout in at most 2 ms and at least 5x faster
than wntr's EpanetSimulator on the same network in the same run; at least 300 layouts/s
tuned.  The compiled kernel is built (or loaded from numba's cache) before anything is
timed; every solve is a cold start (no warm start from a previous solution).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tankeco.hydraulics import builders
from tankeco.hydraulics.layout_file import load_layout
from tankeco.hydraulics.network import Pump
from tankeco.hydraulics.solver import SolveOptions, Solver
from tankeco.plan.layout_tune import Range, tune
from tests.benchmarks.harness import size, target
from tests.hydraulics.helpers import common

ROOT = Path(__file__).parents[2]
TARGET_SOLVE_S = 2e-3
TARGET_EPANET_RATIO = 5.0
TARGET_LAYOUTS_PER_S = 300.0


def _net64():
    # 8 perforated rungs x 8 holes between two headers, same-path (Z): 64 holes
    c = common(Pump("pump", flow_m3_s=1000 / 3.6e6), hole_spacing_m=0.04, hole_diameter_m=0.003)
    net = builders.ladder(c, 8, "reverse")
    assert len(net.holes) == 64
    return net


def _median_solve_s(solver: Solver, repeat: int = 50) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        solver.solve()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


@pytest.fixture(scope="module")
def epanet_s(tmp_path_factory):
    """Median wall time of wntr's EpanetSimulator on the 64-hole network (Hazen-Williams)."""
    wntr = pytest.importorskip("wntr")
    from tests.hydraulics.epanet_twin import build

    wn = build(_net64(), "hazen-williams")
    tmp = tmp_path_factory.mktemp("epanet")
    times = []
    for i in range(size(7, 1)):
        t = time.perf_counter()
        wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp / f"b{i}"))
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


@pytest.mark.parametrize("mode", ["momentum", "friction"])
def test_solve_64_holes(benchmark, mode, epanet_s):
    solver = Solver(_net64(), SolveOptions(mode=mode))
    solver.solve()  # compile or load the kernel
    benchmark.pedantic(solver.solve, rounds=size(200, 3), iterations=1, warmup_rounds=5)
    ours = benchmark.stats.stats.median
    benchmark.extra_info["epanet_s"] = epanet_s
    print(
        f"\n64 holes, {mode}: {ours * 1e3:.3f} ms/solve "
        f"({solver.solve().iterations} Newton iterations); EPANET via wntr "
        f"{epanet_s * 1e3:.2f} ms, {epanet_s / ours:.0f}x"
    )
    target(ours <= TARGET_SOLVE_S, f"64-hole solve <= {TARGET_SOLVE_S * 1e3:g} ms")
    target(epanet_s / ours >= TARGET_EPANET_RATIO, f"EPANET / ours >= {TARGET_EPANET_RATIO:g}")


def test_faster_than_epanet_same_formula(benchmark, epanet_s):
    """Like for like: friction-only Hazen-Williams, the formula EPANET runs."""
    solver = Solver(_net64(), SolveOptions(mode="friction", headloss="hazen-williams"))
    solver.solve()
    benchmark.pedantic(solver.solve, rounds=size(200, 3), iterations=1, warmup_rounds=5)
    ours = _median_solve_s(solver, size(50, 3))
    print(f"\ntankeco {ours * 1e3:.3f} ms, EPANET via wntr {epanet_s * 1e3:.2f} ms")
    target(epanet_s / ours >= TARGET_EPANET_RATIO, f"EPANET / ours >= {TARGET_EPANET_RATIO:g}")


def test_tuner_throughput(benchmark):
    base = load_layout(ROOT / "sims" / "layouts" / "end_fed_header.toml")
    ranges = [Range("hole.diameter_mm", 3, 6), Range("hole.spacing_cm", 3, 8)]
    samples = size(150, 10)
    tune(base, ranges, 10)  # compile or load the kernels

    def run():
        return tune(base, ranges, samples)

    best, evaluated = benchmark.pedantic(run, rounds=size(5, 1), iterations=1)
    rate = samples / benchmark.stats.stats.median
    benchmark.extra_info["layouts_per_s"] = rate
    print(f"\ntuner: {rate:.0f} layouts/s")
    assert evaluated == samples and best is not None
    target(rate >= TARGET_LAYOUTS_PER_S, f"tuner >= {TARGET_LAYOUTS_PER_S:g} layouts/s")
