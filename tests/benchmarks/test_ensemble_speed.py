"""Ensemble engine speed, measured (skipped in normal runs).

Run:  python3 -m pytest tests/benchmarks/test_ensemble_speed.py --benchmark-only -s

Target (issue 6): 1,000 scenarios x 90 days in <= 20 s on two cores, quoted with the
single-scenario time measured in the same run.  The scenarios are the Monte Carlo's: the
seed tank with drawn nitrifier kinetics, varied portions, missed water changes and random
pump outages, at the Monte Carlo's fidelity (1 bed zone, rtol 1e-2; see
tankeco/plan/risk.py for what that costs in accuracy).  The timing covers everything
``run_ensemble`` does: building each member's model tables and start state, packing,
the compiled parallel batch, and the summaries.
"""

import os
import time

import numba
import pytest

from tankeco.plan import risk
from tankeco.scenario.loading import load_scenario
from tankeco.sim.engine import simulate
from tankeco.sim.ensemble import run_ensemble
from tests.benchmarks.harness import size, target

N = size(1000, 8)  # TANKECO_BENCH_FAST=1: a handful of members, a few days
DAYS = size(90.0, 5.0)
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def members():
    scenario = load_scenario(None)
    spec = risk.ScheduleSpec(3.0, 0.5, 5.5, 137.0)
    base = risk._schedule_scenario(scenario, spec, risk.MC_ZONES)
    p = scenario.parameters
    # the Monte Carlo's own draws: kinetics kept only where the bed reads as cycled
    cycled = risk.CycledTank.of(scenario)
    draws = [risk.draw(0, j, scenario, DAYS, spec.interval_d, p, cycled) for j in range(N)]
    out = [risk._member(base, d, DAYS, p)[0] for d in draws]
    run_ensemble(out[:2], 2.0, rtol=risk.MC_RTOL)  # compile or load the batch once
    simulate(out[0].scenario, 2.0)
    return out


def test_single_scenario(benchmark, members):
    scenario = members[0].scenario
    benchmark.pedantic(
        simulate,
        args=(scenario, DAYS),
        kwargs={"rtol": risk.MC_RTOL},
        rounds=size(5, 1),
        iterations=1,
    )
    TIMES["single"] = benchmark.stats.stats.min


def test_ensemble_1000_scenarios(benchmark, members):
    cpu: list[float] = []

    def run():
        c0 = time.process_time()
        out = run_ensemble(members, DAYS, rtol=risk.MC_RTOL, step_h=1.0)
        cpu.append(time.process_time() - c0)
        return out

    res = benchmark.pedantic(run, rounds=1, iterations=1)
    TIMES["ensemble"] = benchmark.stats.stats.min
    assert res.summary["ok"].all()
    assert (res.summary["n_relative_residual"].abs() < 1e-6).all()
    single = TIMES.get("single")
    threads = numba.get_num_threads()
    benchmark.extra_info["threads"] = threads
    line = f"\n{N} scenarios x {DAYS:g} d: {TIMES['ensemble']:.1f} s on {threads} threads"
    if single is not None:
        line += (
            f"; one scenario through simulate(): {single * 1000:.0f} ms, so {N} of them in a "
            f"Python loop: {single * N:.0f} s on one core ({single * N / threads:.0f} s if "
            f"perfectly spread over {threads})"
        )
    line += (
        f"\nCPU time of the ensemble, all threads: {cpu[0]:.1f} s; load average while it "
        f"ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (teammates' jobs share them)"
    )
    print(line)
    target(TIMES["ensemble"] <= 20.0, f"{N} scenarios x {DAYS:g} d <= 20 s")
