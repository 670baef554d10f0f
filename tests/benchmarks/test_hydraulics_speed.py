"""Speed of the hydraulic solver and the tuner (issues 3 and 12).

Run with ``python3 -m pytest tests/benchmarks/test_hydraulics_speed.py --benchmark-only -s``.
Targets:

* one solve of a 64-hole layout in at most 2 ms and at least 5x faster than wntr's
  EpanetSimulator on the same network in the same run (issue 3);
* the same, counting file loading and network building on both sides, for a Z ladder,
  a ring and a tree: still at least 5x (issue 12);
* the tuner at least 300 layouts/s in process, and ``tankeco layout tune`` with 1 000
  samples at least 200 layouts/s including the command's start (issue 12);
* a 10 000-hole ladder: solve time and peak memory reported (issue 12 asks for the
  figures, no target), each size in a fresh process so that the peak is its own.

The compiled kernel is built (or loaded from numba's cache) before anything is timed;
every solve is a cold start (no warm start from a previous solution).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tankeco.hydraulics import builders
from tankeco.hydraulics.layout_file import load_layout, parse_layout
from tankeco.hydraulics.network import Pump
from tankeco.hydraulics.solver import SolveOptions, Solver
from tankeco.plan.layout_tune import Range, tune
from tests.benchmarks.harness import size, target
from tests.hydraulics.helpers import common

ROOT = Path(__file__).parents[2]
TARGET_SOLVE_S = 2e-3
TARGET_EPANET_RATIO = 5.0
TARGET_LAYOUTS_PER_S = 300.0
TARGET_CLI_LAYOUTS_PER_S = 200.0


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
    iterations = solver.solve().iterations
    benchmark.extra_info["epanet_s"] = epanet_s
    benchmark.extra_info["newton_iterations"] = iterations
    print(
        f"\n64 holes, {mode}: {ours * 1e3:.3f} ms/solve ({iterations} Newton iterations, "
        f"{ours / max(iterations, 1) * 1e6:.1f} us each); EPANET via wntr "
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


#: 64-hole layouts as layout files: a Z ladder (8 rungs x 8 holes), a ring, a tree
LAYOUTS_64 = {
    "ladder_z": '[layout]\nshape = "ladder_z"\n[pump]\nflow_l_h = 1000\n'
    "[hole]\ndiameter_mm = 3\nspacing_cm = 4\n[shape]\nlaterals = 8\n",
    "ring": '[layout]\nshape = "ring"\n[tank]\nlength_cm = 104\nwidth_cm = 72\n'
    "[pump]\nflow_l_h = 1000\n[hole]\ndiameter_mm = 3\nspacing_cm = 5\n",
    "tree": '[layout]\nshape = "tree"\n[pump]\nflow_l_h = 1000\n'
    "[hole]\ndiameter_mm = 3\nspacing_cm = 4\n[shape]\ncolumns = 8\n",
}


def _ours_s(text: str, mode: str, repeat: int) -> tuple[float, int]:
    """Median time to parse the layout text, build the network and solve it."""
    times, holes = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        net = parse_layout(text).network()
        Solver(net, SolveOptions(mode=mode)).solve()
        times.append(time.perf_counter() - t)
        holes = len(net.holes)
    return sorted(times)[len(times) // 2], holes


@pytest.mark.parametrize("shape", list(LAYOUTS_64))
def test_64_holes_against_epanet_including_loading(benchmark, shape, tmp_path):
    """Both sides from a description to a solution: tankeco parses the layout file,
    builds the network and solves it; wntr builds the twin network and EpanetSimulator
    writes, runs and reads its files."""
    wntr = pytest.importorskip("wntr")
    from tests.hydraulics.epanet_twin import build

    text = LAYOUTS_64[shape]
    net = parse_layout(text).network()
    times = []
    for i in range(size(7, 1)):
        t = time.perf_counter()
        wntr.sim.EpanetSimulator(build(net, "hazen-williams")).run_sim(
            file_prefix=str(tmp_path / f"b{i}")
        )
        times.append(time.perf_counter() - t)
    epanet = sorted(times)[len(times) // 2]
    _ours_s(text, "momentum", 2)  # compile or load the kernel
    result = {}

    def run():
        result["momentum"] = _ours_s(text, "momentum", size(40, 2))
        result["friction"] = _ours_s(text, "friction", size(40, 2))

    benchmark.pedantic(run, rounds=1, iterations=1)
    (mom, holes), (fric, _) = result["momentum"], result["friction"]
    assert holes == 64
    benchmark.extra_info.update(
        {"epanet_s": epanet, "momentum_s": mom, "friction_s": fric, "ratio": epanet / mom}
    )
    print(
        f"\n{shape}, 64 holes, load + build + solve: momentum {mom * 1e3:.2f} ms, "
        f"friction {fric * 1e3:.2f} ms; EPANET via wntr (build + run) {epanet * 1e3:.1f} ms: "
        f"{epanet / mom:.1f}x (momentum), {epanet / fric:.1f}x (friction)"
    )
    target(epanet / mom >= TARGET_EPANET_RATIO, f"EPANET / ours >= {TARGET_EPANET_RATIO:g}")


def test_tuner_throughput(benchmark):
    base = load_layout(ROOT / "sims" / "layouts" / "end_fed_header.toml")
    ranges = [Range("hole.diameter_mm", 3, 6), Range("hole.spacing_cm", 3, 8)]
    samples = size(150, 10)
    tune(base, ranges, 10)  # compile or load the kernels

    def run():
        return tune(base, ranges, samples)

    res = benchmark.pedantic(run, rounds=size(5, 1), iterations=1)
    rate = samples / benchmark.stats.stats.median
    benchmark.extra_info["layouts_per_s"] = rate
    print(f"\ntuner: {rate:.0f} layouts/s ({len(res.failures)} could not be evaluated)")
    assert res.evaluated == samples and res.best is not None
    target(rate >= TARGET_LAYOUTS_PER_S, f"tuner >= {TARGET_LAYOUTS_PER_S:g} layouts/s")


def test_layout_tune_command_1000_samples(benchmark, tmp_path):
    samples = size(1000, 20)
    cmd = [
        sys.executable,
        "-m",
        "tankeco",
        "layout",
        "tune",
        str(ROOT / "sims" / "layouts" / "end_fed_header.toml"),
        "--vary",
        "hole.diameter_mm=3:6",
        "--vary",
        "hole.spacing_cm=3:8",
        "--samples",
        str(samples),
        "--out",
        str(tmp_path / "best.toml"),
    ]

    def run():
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return time.perf_counter() - t

    run()  # numba's cache warm
    wall = benchmark.pedantic(run, rounds=1, iterations=1)
    rate = samples / wall
    benchmark.extra_info["layouts_per_s"] = rate
    print(f"\nlayout tune, {samples} samples, whole command: {wall:.2f} s, {rate:.0f} layouts/s")
    target(rate >= TARGET_CLI_LAYOUTS_PER_S, f"layout tune >= {TARGET_CLI_LAYOUTS_PER_S:g}/s")


BIG = """
import json, sys, time
def status_mb(key):
    # VmHWM / VmRSS of this process image: unlike getrusage's ru_maxrss, which Linux
    # carries over from the forked parent (pytest) across exec, they start afresh
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")
from tankeco.hydraulics import builders
from tankeco.hydraulics.network import Bed, Pump
from tankeco.hydraulics.solver import SolveOptions, Solver
rungs, mode = int(sys.argv[1]), sys.argv[2]
c = builders.Common(tank_length_m=rungs * 0.1, tank_width_m=5.08,
    pump=Pump("pump", flow_m3_s=3000 / 3.6e6), header_diameter_m=0.032,
    lateral_diameter_m=0.016, hole_diameter_m=0.003, hole_spacing_m=0.05, hole_cd=0.61,
    roughness_m=1.5e-6, bed=Bed(0.08, 0.01, 0.45))
rss_imports = status_mb("VmRSS")
t0 = time.perf_counter()
net = builders.ladder(c, rungs, "reverse")
t1 = time.perf_counter()
solver = Solver(net, SolveOptions(mode=mode))
sol = solver.solve()
t2 = time.perf_counter()
Solver(net, SolveOptions(mode=mode)).solve()  # again: the kernel loaded, the pattern cached
t3 = time.perf_counter()
print(json.dumps({"holes": len(net.holes), "build_s": t1 - t0, "first_s": t2 - t1,
    "solve_s": t3 - t2,
    "iterations": sol.iterations, "nnz": int(solver.structure.row_ptr[-1]),
    "rss_after_imports_mb": rss_imports, "peak_rss_mb": status_mb("VmHWM")}))
"""


def test_10000_holes_time_and_peak_memory(benchmark):
    """Z ladders of 1 000, 2 500 and 10 000 holes (100 per 5 m rung), each in a fresh
    process: network building, structure and solve time, factor size and peak RSS."""
    sizes = size((10, 25, 100), (2,))
    rows = {}

    def run():
        for rungs in sizes:
            for mode in ("friction", "momentum"):
                proc = subprocess.run(
                    [sys.executable, "-c", BIG, str(rungs), mode],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    check=False,
                )
                assert proc.returncode == 0, proc.stderr[-2000:]
                rows[(rungs, mode)] = json.loads(proc.stdout)

    benchmark.pedantic(run, rounds=1, iterations=1)
    for (_, mode), r in sorted(rows.items()):
        print(
            f"\n{r['holes']} holes, {mode}: build {r['build_s']:.2f} s, first solve (kernel "
            f"load, structure) {r['first_s']:.2f} s, solve {r['solve_s']:.2f} s "
            f"({r['iterations']} iterations), factor {r['nnz']} "
            f"non-zeros, peak RSS {r['peak_rss_mb']:.0f} MB "
            f"({r['rss_after_imports_mb']:.0f} MB after the imports)"
        )
        benchmark.extra_info[f"{r['holes']}_{mode}"] = r
    assert rows[(sizes[-1], "momentum")]["holes"] == sizes[-1] * 100
