"""Simulator speed, measured (not asserted in the unit tests).

Run:  python -m pytest tests/benchmarks/test_simulator_speed.py --benchmark-only

Targets (issue "The simulator"): 90 days of the seed tank in <= 0.5 s of engine time and
>= 3x faster than solve_ivp's BDF on the same right-hand side and events in the same run;
the whole ``tankeco simulate --days 90 --no-plot`` command in <= 2 s; 365 days in <= 2 s.
The numba kernel is compiled (or loaded from its cache) before anything is timed.
"""

import sys
import time
from pathlib import Path

import pytest

from tankeco.scenario.loading import load_scenario
from tankeco.sim.engine import simulate
from tests.benchmarks.harness import run_command, size, target

REPO = Path(__file__).resolve().parents[2]
TIMES: dict[str, float] = {}
DAYS_90 = size(90, 2)  # TANKECO_BENCH_FAST=1: a few days, one round (see harness)
DAYS_365 = size(365, 3)


@pytest.fixture(scope="module")
def seed():
    scenario = load_scenario(None)
    # compile (or load from the cache) every kernel specialisation before timing
    for integrator in ("ros2", "bdf", "bdf+jac"):
        simulate(scenario, 0.5, integrator=integrator)
    return scenario


def _record(benchmark, name):
    TIMES[name] = benchmark.stats.stats.min
    print(f"\n{name}: min {TIMES[name]:.3f} s")


def test_engine_90_days(benchmark, seed):
    benchmark.pedantic(simulate, args=(seed, DAYS_90), rounds=size(5, 1), iterations=1)
    _record(benchmark, "ros2_90d")


def test_engine_365_days(benchmark, seed):
    benchmark.pedantic(simulate, args=(seed, DAYS_365), rounds=size(3, 1), iterations=1)
    _record(benchmark, "ros2_365d")


def test_reference_bdf_90_days(benchmark, seed):
    """solve_ivp(method="BDF") at the engine's tolerance, finite-difference Jacobian."""
    benchmark.pedantic(
        simulate,
        args=(seed, DAYS_90),
        kwargs={"integrator": "bdf"},
        rounds=size(2, 1),
        iterations=1,
    )
    _record(benchmark, "bdf_90d")


def test_reference_bdf_with_jacobian_90_days(benchmark, seed):
    """solve_ivp(method="BDF") given the model's analytic Jacobian: the hardest yardstick."""
    benchmark.pedantic(
        simulate,
        args=(seed, DAYS_90),
        kwargs={"integrator": "bdf+jac"},
        rounds=size(2, 1),
        iterations=1,
    )
    _record(benchmark, "bdf_jac_90d")


def test_whole_command_90_days_without_plot(benchmark, tmp_path, seed):
    cmd = [
        sys.executable,
        "-m",
        "tankeco",
        "simulate",
        "--days",
        str(DAYS_90),
        "--no-plot",
        "--quiet",
        "--out",
        str(tmp_path),
    ]

    cpu: list[float] = []
    benchmark.pedantic(lambda: cpu.append(run_command(cmd, REPO)), rounds=size(3, 1), iterations=1)
    # CPU seconds barely move with the machine's load; the wall time (the target) does
    benchmark.extra_info["cpu_s_min"] = round(min(cpu), 3)
    _record(benchmark, "command_90d")
    print(f"command_90d: min {min(cpu):.3f} s CPU")


def test_summary_against_targets(benchmark):
    """Ratios against the baselines measured above, in this run."""
    needed = {"ros2_90d", "ros2_365d", "bdf_90d", "bdf_jac_90d", "command_90d"}
    if not needed <= TIMES.keys():
        pytest.skip("run the whole file")
    t0 = time.perf_counter()
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    ros2 = TIMES["ros2_90d"]
    lines = [
        f"engine, 90 d:            {ros2:.3f} s (target <= 0.5)",
        f"engine, 365 d:           {TIMES['ros2_365d']:.3f} s (target <= 2)",
        f"BDF (FD Jacobian), 90 d: {TIMES['bdf_90d']:.3f} s = {TIMES['bdf_90d'] / ros2:.1f}x",
        f"BDF (analytic J), 90 d:  {TIMES['bdf_jac_90d']:.3f} s = "
        f"{TIMES['bdf_jac_90d'] / ros2:.1f}x",
        f"whole command, 90 d:     {TIMES['command_90d']:.3f} s (target <= 2)",
    ]
    print("\n" + "\n".join(lines), f"\n(summary in {time.perf_counter() - t0:.3f} s)")
    target(ros2 <= 0.5, "engine, 90 d <= 0.5 s")
    target(TIMES["ros2_365d"] <= 2.0, "engine, 365 d <= 2 s")
    target(TIMES["bdf_90d"] / ros2 >= 3.0, "BDF / engine >= 3")
    target(TIMES["command_90d"] <= 2.0, "whole command <= 2 s")
