"""Two ways to run the benchmarks: measured (the default) and fast (CI's execution check).

``python3 -m pytest tests/benchmarks --benchmark-only -s`` measures at full size, asserts
the speed targets and records every benchmark's figures in ``docs/benchmarks.json``
(``tests/benchmarks/conftest.py``), from which ``python3 -m tests.benchmarks.readme_table``
writes the README's "Measured" table.

With ``TANKECO_BENCH_FAST=1`` (``.ci/run`` sets it) each benchmark runs at a small size
and a round or two, so a broken benchmark fails CI in seconds; every check of what the
code computed still runs, only the speed targets are not asserted (on shared CI cores a
timing says nothing) and nothing is recorded.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: The measured figures, committed: test id -> min/median seconds, rounds, extra_info.
RECORD = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.json"

FAST: bool = os.environ.get("TANKECO_BENCH_FAST", "") not in ("", "0")

#: A tank's eight sensors in the dashboard benchmarks: name -> (quantity, mean, sd).
EIGHT_SENSORS: dict[str, tuple[str, float, float]] = {
    "temp": ("temperature", 25.0, 0.1),
    "ph": ("ph", 7.6, 0.05),
    "tan": ("tan_n", 0.2, 0.05),
    "no2": ("no2_n", 0.1, 0.03),
    "no3": ("no3_n", 20.0, 0.5),
    "do": ("do", 6.5, 0.2),
    "ec": ("ec", 450.0, 5.0),
    "temp2": ("temperature", 25.2, 0.1),
}


def size(measured: T, fast: T) -> T:
    """The measured run's size (days, rounds, messages, ...), or the fast one in CI."""
    return fast if FAST else measured


def target(met: bool, what: str) -> None:
    """Assert a speed target in a measured run; in the fast run only report it."""
    if FAST:
        print(f"\n(fast run: target not asserted: {what}: {'met' if met else 'not met'})")
        return
    assert met, f"speed target missed: {what}"


def load_record(path: Path = RECORD) -> dict[str, dict]:
    """The committed record: test id -> figures (empty if there is none yet)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def children_cpu_s() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(cmd: list[str], cwd: Path) -> float:
    """Run a command to the end (failing on a non-zero exit); its CPU seconds.

    A command's CPU time barely moves with the machine's load while its wall time does:
    a benchmark that records both lets a figure measured on a busy machine be read.
    """
    before = children_cpu_s()
    subprocess.run(cmd, cwd=cwd, check=True)
    return children_cpu_s() - before
