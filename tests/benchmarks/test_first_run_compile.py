"""The first run of an install: the compile notice and the compile itself (issue 11, point 8).

Run:  python3 -m pytest tests/benchmarks/test_first_run_compile.py --benchmark-only -s

``tankeco simulate --days 90 --no-plot`` with an empty numba cache (a fresh
``NUMBA_CACHE_DIR``), as a keeper's first run after ``pip install``.  Measured: the wall
time until the first line on stderr (target: the notice that it is compiling, within a
second), the whole run's wall time and its CPU time (user + system, read from the child's
resource usage, so a figure taken on a loaded machine can still be compared), and how the
first run compares with a warm one in the same session.

With ``TANKECO_BENCH_FAST=1`` the run is stopped right after the notice (the compile
takes half a minute of CPU): only the notice and its timing are checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.benchmarks.harness import FAST, children_cpu_s, target

REPO = Path(__file__).resolve().parents[2]
NOTICE = "compiling the simulator once"


def _first_run(tmp_path: Path, cache: Path) -> dict:
    """One simulate run on ``cache``: seconds to the first stderr line, in all, CPU."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "tankeco", "simulate", "--days", "90", "--no-plot",
           "--out", str(tmp_path / "run")]  # fmt: skip
    cpu0 = children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first: dict = {}

    def read_first_line() -> None:
        first["line"] = proc.stderr.readline()
        first["s"] = time.perf_counter() - t0

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(timeout=600)
    if FAST:
        proc.kill()
        proc.wait()
        return {"first_line": first.get("line", ""), "notice_s": first.get("s")}
    stdout, stderr = proc.communicate(timeout=600)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, stderr
    return {
        "first_line": first.get("line", ""),
        "notice_s": first.get("s"),
        "wall_s": wall,
        "cpu_s": children_cpu_s() - cpu0,
        "stdout": stdout,
    }


def test_first_run_announces_the_compile_and_how_long_it_takes(benchmark, tmp_path):
    cache = tmp_path / "numba"
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_first_run(tmp_path, cache)), rounds=1, iterations=1)
    cold = runs[0]
    assert NOTICE in cold["first_line"], cold["first_line"]
    print(f"\nfirst line on stderr after {cold['notice_s']:.2f} s: {cold['first_line'].strip()}")
    benchmark.extra_info["notice_s"] = round(cold["notice_s"], 3)
    if not FAST:
        warm = _first_run(tmp_path, cache)  # the same cache, now filled
        assert NOTICE not in warm["first_line"], "a warm run must not say it compiles"
        benchmark.extra_info.update(
            cold_wall_s=round(cold["wall_s"], 2),
            cold_cpu_s=round(cold["cpu_s"], 2),
            warm_wall_s=round(warm["wall_s"], 2),
            warm_cpu_s=round(warm["cpu_s"], 2),
        )
        print(
            f"first run {cold['wall_s']:.1f} s wall, {cold['cpu_s']:.1f} s CPU;"
            f" warm run {warm['wall_s']:.2f} s wall, {warm['cpu_s']:.2f} s CPU"
            f" (load {os.getloadavg()[0]:.1f})"
        )
    target(cold["notice_s"] <= 1.0, "the first run says it compiles within 1 s")
