"""Speed of the hydraulic solver and the tuner (issue 12).

Run with ``python3 -m pytest tests/benchmarks/test_hydraulics_speed.py --benchmark-only -s``.
Targets:

* a 64-hole momentum solve, counting file loading and network building, at least 5x
  faster than wntr's EpanetSimulator on the same network (also counting its network
  building and file I/O), in the same run, for a Z ladder, a ring and a tree;
* the tuner at least 300 layouts/s in process, and ``tankeco layout tune`` with 1 000
  samples at least 200 layouts/s including the command's start;
* a 10 000-hole ladder: solve time and peak memory reported (no target; the issue asks
  for the figures), measured in a fresh process so that the peak is the solve's.

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
from tankeco.hydraulics.layout_file import parse_layout
from tankeco.hydraulics.network import Pump
from tankeco.hydraulics.solver import SolveOptions, Solver
from tankeco.plan.layout_tune import Range, tune
from tests.hydraulics.helpers import common

ROOT = Path(__file__).parents[2]
TARGET_EPANET_RATIO = 5.0
TARGET_LAYOUTS_PER_S = 300.0
TARGET_CLI_LAYOUTS_PER_S = 200.0

#: 64-hole layouts as layout files: a Z ladder (8 rungs x 8 holes), a ring, a tree
LAYOUTS_64 = {
    "ladder_z": """[layout]\nshape = "ladder_z"\n[pump]\nflow_l_h = 1000\n
[hole]\ndiameter_mm = 3\nspacing_cm = 4\n[shape]\nlaterals = 8\n""",
    "ring": """[layout]\nshape = "ring"\n[tank]\nlength_cm = 100\nwidth_cm = 68\n[pump]
flow_l_h = 1000\n[hole]\ndiameter_mm = 3\nspacing_cm = 5\n""",
    "tree": """[layout]\nshape = "tree"\n[pump]\nflow_l_h = 1000\n[hole]\ndiameter_mm = 3
spacing_cm = 4\n[shape]\ncolumns = 8\n""",
}


def _ours_s(text: str, mode: str, repeat: int = 40) -> tuple[float, int]:
    """Median time to parse the layout text, build the network and solve it."""
    times = []
    holes = 0
    for _ in range(repeat):
        t = time.perf_counter()
        layout = parse_layout(text)
        net = layout.network()
        Solver(net, SolveOptions(mode=mode)).solve()
        times.append(time.perf_counter() - t)
        holes = len(net.holes)
    return sorted(times)[len(times) // 2], holes


def _epanet_s(text: str, tmp: Path, repeat: int = 7) -> float:
    """Median time of wntr: build the twin network and run EpanetSimulator (file I/O)."""
    wntr = pytest.importorskip("wntr")
    from tests.hydraulics.epanet_twin import build

    net = parse_layout(text).network()
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        wn = build(net, "hazen-williams")
        wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp / f"b{i}"))
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


@pytest.mark.parametrize("shape", list(LAYOUTS_64))
def test_64_holes_against_epanet_including_loading(benchmark, shape, tmp_path):
    text = LAYOUTS_64[shape]
    _ours_s(text, "momentum", repeat=2)  # compile or load the kernel
    epanet = _epanet_s(text, tmp_path)
    result = {}

    def run():
        result["momentum"] = _ours_s(text, "momentum")
        result["friction"] = _ours_s(text, "friction")

    benchmark.pedantic(run, rounds=1, iterations=1)
    (mom, holes), (fric, _) = result["momentum"], result["friction"]
    assert holes == 64
    print(
        f"\n{shape}, 64 holes, load + build + solve: momentum {mom * 1e3:.2f} ms, "
        f"friction {fric * 1e3:.2f} ms; EPANET via wntr (build + run) {epanet * 1e3:.1f} ms: "
        f"{epanet / mom:.1f}x (momentum), {epanet / fric:.1f}x (friction)"
    )
    assert epanet / mom >= TARGET_EPANET_RATIO


def test_kernel_solve_64_holes(benchmark):
    """The solve alone (network built), for the issue-9 before/after comparison."""
    c = common(Pump("pump", flow_m3_s=1000 / 3.6e6), hole_spacing_m=0.04, hole_diameter_m=0.003)
    net = builders.ladder(c, 8, "reverse")
    assert len(net.holes) == 64
    for mode in ("momentum", "friction"):
        solver = Solver(net, SolveOptions(mode=mode))
        solver.solve()
        t = []
        for _ in range(200):
            t0 = time.perf_counter()
            sol = solver.solve()
            t.append(time.perf_counter() - t0)
        print(
            f"\nsolve only, 64-hole Z ladder, {mode}: {sorted(t)[100] * 1e3:.3f} ms "
            f"({sol.iterations} Newton iterations)"
        )
    benchmark.pedantic(Solver(net).solve, rounds=20, iterations=1)


def test_tuner_throughput(benchmark):
    base = parse_layout((ROOT / "sims" / "layouts" / "end_fed_header.toml").read_text())
    ranges = [Range("hole.diameter_mm", 3, 6), Range("hole.spacing_cm", 3, 8)]
    samples = 150
    tune(base, ranges, 10)  # compile or load the kernels

    def run():
        return tune(base, ranges, samples)

    res = benchmark.pedantic(run, rounds=3, iterations=1)
    rate = samples / benchmark.stats.stats.median
    print(f"\ntuner in process: {rate:.0f} layouts/s ({len(res.failures)} not evaluated)")
    assert res.evaluated == samples and res.best is not None
    assert rate >= TARGET_LAYOUTS_PER_S


def test_layout_tune_command_1000_samples(benchmark, tmp_path):
    layout = ROOT / "sims" / "layouts" / "end_fed_header.toml"
    cmd = [
        sys.executable,
        "-m",
        "tankeco",
        "layout",
        "tune",
        str(layout),
        "--vary",
        "hole.diameter_mm=3:6",
        "--vary",
        "hole.spacing_cm=3:8",
        "--samples",
        "1000",
        "--out",
        str(tmp_path / "best.toml"),
    ]

    def run():
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        assert proc.returncode == 0, proc.stderr
        return time.perf_counter() - t

    run()  # numba cache warm
    wall = benchmark.pedantic(run, rounds=1, iterations=1)
    print(f"\nlayout tune, 1000 samples, whole command: {wall:.2f} s, {1000 / wall:.0f} layouts/s")
    assert 1000 / wall >= TARGET_CLI_LAYOUTS_PER_S


BIG = """
import json, resource, sys, time
from tankeco.hydraulics import builders
from tankeco.hydraulics.network import Bed, Pump
from tankeco.hydraulics.solver import SolveOptions, Solver
rungs = int(sys.argv[1]); mode = sys.argv[2]
c = builders.Common(tank_length_m=rungs * 0.1, tank_width_m=5.08,
    pump=Pump("pump", flow_m3_s=3000 / 3.6e6), header_diameter_m=0.032,
    lateral_diameter_m=0.016, hole_diameter_m=0.003, hole_spacing_m=0.05, hole_cd=0.61,
    roughness_m=1.5e-6, bed=Bed(0.08, 0.01, 0.45))
t0 = time.perf_counter()
net = builders.ladder(c, rungs, "reverse")
t1 = time.perf_counter()
solver = Solver(net, SolveOptions(mode=mode))
sol = solver.solve()
t2 = time.perf_counter()
print(json.dumps({"holes": len(net.holes), "build_s": t1 - t0, "solve_s": t2 - t1,
    "iterations": sol.iterations, "nnz": int(solver.structure.row_ptr[-1]),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_10000_holes_time_and_peak_memory(benchmark):
    """Ladders of 1 000, 2 500 and 10 000 holes in fresh processes: time and peak RSS."""
    rows = {}

    def run():
        for rungs in (10, 25, 100):
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
            f"\n{r['holes']} holes, {mode}: build {r['build_s']:.2f} s, solve "
            f"{r['solve_s']:.2f} s ({r['iterations']} iterations), factor {r['nnz']} "
            f"non-zeros, peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    assert rows[(100, "momentum")]["holes"] == 10000
