"""Records what every benchmark measured, for the README's "Measured" table.

After each benchmark of a measured run (not ``TANKECO_BENCH_FAST``), its timing statistics
(min and median seconds, rounds) and the figures it put in ``benchmark.extra_info`` are
kept; at the end of the session they are merged into ``docs/benchmarks.json`` under the
test's id, with when it ran and the machine's load, so one file re-measured updates only
its own entries.  A benchmark that failed (a missed speed target) is recorded as such.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.benchmarks.harness import FAST, RECORD, load_record

_measured: dict[str, dict] = {}
#: One id per session: a ratio in the README is only quoted between figures of one run.
RUN_ID = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@pytest.fixture(autouse=True)
def _record_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    bench = request.node.funcargs.get("benchmark")
    stats = getattr(getattr(bench, "stats", None), "stats", None)
    if FAST or stats is None or not stats.rounds:
        return
    rep = getattr(request.node, "rep_call", None)
    _measured[request.node.nodeid.removeprefix("tests/benchmarks/")] = {
        "min_s": stats.min,
        "median_s": stats.median,
        "rounds": stats.rounds,
        # False when an assertion failed, a speed target included: still a measurement,
        # and the README's table says which figures missed (readme_table.py)
        "passed": bool(rep is not None and rep.passed),
        **bench.extra_info,
        "run": RUN_ID,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Keep the call phase's report on the item, so the recorder sees pass or fail."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _measured:
        return
    record = load_record()
    record.update(_measured)
    RECORD.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n", encoding="utf-8")
    print(f"\nbenchmarks: {len(_measured)} figures recorded in {RECORD.relative_to(Path.cwd())}")
