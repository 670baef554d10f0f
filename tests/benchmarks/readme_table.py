"""Writes the README's "Measured" table from the benchmarks' record (docs/benchmarks.json).

Run after a measured benchmark run:

    python3 -m pytest tests/benchmarks --benchmark-only -s
    python3 -m tests.benchmarks.readme_table

The table sits between the two marker comments in README.md; nothing else is touched.
``tests/benchmarks/test_readme_table.py`` checks that the committed README shows what
this script makes of the committed record, so no figure is copied by hand.  A ratio is
only quoted between two figures of the same run (same ``run`` stamp in the record).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.harness import load_record

README = Path(__file__).resolve().parents[2] / "README.md"
START = "<!-- measured table: written by python3 -m tests.benchmarks.readme_table -->"
END = "<!-- end of measured table -->"

ENGINE_90 = "test_simulator_speed.py::test_engine_90_days"
ENGINE_365 = "test_simulator_speed.py::test_engine_365_days"
BDF_90 = "test_simulator_speed.py::test_reference_bdf_90_days"
BDF_JAC_90 = "test_simulator_speed.py::test_reference_bdf_with_jacobian_90_days"
COMMAND_90 = "test_simulator_speed.py::test_whole_command_90_days_without_plot"
SOLVE_MOMENTUM = "test_hydraulics_speed.py::test_solve_64_holes[momentum]"
SOLVE_FRICTION = "test_hydraulics_speed.py::test_solve_64_holes[friction]"
TUNER = "test_hydraulics_speed.py::test_tuner_throughput"
ENSEMBLE = "test_ensemble_speed.py::test_ensemble_1000_scenarios"
SINGLE = "test_ensemble_speed.py::test_single_scenario"
BRIDGE = "test_bridge_throughput.py::test_bridge_keeps_up_with_a_bare_subscriber[sqlite]"
BRIDGE_PG = "test_bridge_throughput.py::test_bridge_keeps_up_with_a_bare_subscriber[postgresql]"
DASH = "test_dashboard_speed.py::test_first_paint_of_a_month_of_minute_data_and_memory"
FLEET = "test_fleet_overview_speed.py::test_first_paint_of_the_overview_of_100_tanks_and_memory"
WITH_PLOT = "test_simulate_command_with_plot.py::test_command_with_plot"
FIRST_RUN = "test_first_run_compile.py::test_first_run_announces_the_compile_and_how_long_it_takes"
LOADING = "test_hydraulics_speed.py::test_64_holes_against_epanet_including_loading"
TUNE_COMMAND = "test_hydraulics_speed.py::test_layout_tune_command_1000_samples"
HOLES_10K = "test_hydraulics_speed.py::test_10000_holes_time_and_peak_memory"


class MissingFigure(LookupError):
    """A figure the table needs is not in the record (its benchmark timed out or never ran)."""


class Figures:
    """Read access to the record that names the missing entry instead of a KeyError."""

    def __init__(self, record: dict[str, dict]) -> None:
        self.record = record

    def __call__(self, test: str, field: str = "min_s") -> float:
        try:
            return self.record[test][field]
        except KeyError:
            raise MissingFigure(f"{test} ({field})") from None

    def ratio(self, slow: str, fast: str, field: str = "min_s") -> float:
        """slow / fast, both from one run (never a ratio across two sessions)."""
        runs = {self.record[t].get("run") for t in (slow, fast) if t in self.record}
        if len(runs) > 1:
            raise SystemExit(f"readme_table: {slow} and {fast} come from different runs {runs}")
        return self(slow, field) / self(fast, field)


Row = tuple[str, Callable[[Figures], str], str]


def _epanet(f: Figures) -> str:
    ms = f(SOLVE_MOMENTUM, "epanet_s") * 1e3
    momentum = f(SOLVE_MOMENTUM, "epanet_s") / f(SOLVE_MOMENTUM, "median_s")
    friction = f(SOLVE_FRICTION, "epanet_s") / f(SOLVE_FRICTION, "median_s")
    return f"{ms:.1f} ms: {momentum:.0f}x ({friction:.0f}x) slower"


def _first_paint(f: Figures, test: str = DASH) -> str:
    paints = f(test, "first_paint_s")  # the first is the cold load, then the timed rounds
    warm = paints[1:]
    return f"{min(warm):.2f}-{max(warm):.2f} s warm ({paints[0]:.2f} s on the first load)"


def _loading(f: Figures) -> str:
    return ", ".join(
        f"{case} {f(f'{LOADING}[{case}]', 'ratio'):.1f}x" for case in ("ladder_z", "ring", "tree")
    )


def _holes_10k(f: Figures) -> str:
    m = f(HOLES_10K, "10000_momentum")
    return f"{m['first_s'] + m['build_s']:.2f} s (first solve), {m['peak_rss_mb']:.0f} MB peak"


def _bridge(f: Figures, test: str) -> str:
    return (
        f"{f(test, 'bridge_msg_s'):,.0f} msg/s, "
        f"{f(test, 'ratio_bridge_to_bare'):.2f}x a bare paho subscriber in the same run, "
        f"{f(test, 'bridge_peak_pss_mb'):.0f} MB"
    )


ROWS: list[Row] = [
    (
        "90 days of the seed tank, engine (`simulate`)",
        lambda f: f"{f(ENGINE_90):.2f} s",
        "<= 0.5 s",
    ),
    (
        "same with scipy `solve_ivp` BDF, finite-difference Jacobian",
        lambda f: f"{f(BDF_90):.2f} s = {f.ratio(BDF_90, ENGINE_90):.1f}x slower",
        ">= 3x",
    ),
    (
        "same with BDF given the model's analytic Jacobian",
        lambda f: f"{f(BDF_JAC_90):.2f} s = {f.ratio(BDF_JAC_90, ENGINE_90):.1f}x slower",
        "",
    ),
    ("365 days, engine", lambda f: f"{f(ENGINE_365):.2f} s", "<= 2 s"),
    (
        "whole `tankeco simulate --days 90 --no-plot` command",
        lambda f: f"{f(COMMAND_90):.2f} s",
        "<= 2 s",
    ),
    (
        "whole `tankeco simulate --days 90` with the plot, warm",
        lambda f: f"{f(WITH_PLOT):.2f} s",
        "<= 2 s",
    ),
    (
        "first run: compile notice after / whole cold run (numba compile)",
        lambda f: f"{f(FIRST_RUN, 'notice_s'):.2f} s / {f(FIRST_RUN, 'cold_wall_s'):.0f} s",
        "<= 1 s / -",
    ),
    (
        "one solve of a 64-hole layout, momentum mode (friction mode)",
        lambda f: (
            f"{f(SOLVE_MOMENTUM, 'median_s') * 1e3:.2f} ms "
            f"({f(SOLVE_FRICTION, 'median_s') * 1e3:.3f} ms)"
        ),
        "<= 2 ms",
    ),
    ("same network in EPANET through wntr", _epanet, ">= 5x"),
    ("64 holes incl. loading and building, EPANET (wntr) slower by", _loading, ">= 5x"),
    ("layout tuner", lambda f: f"{f(TUNER, 'layouts_per_s'):.0f} layouts/s", ">= 300"),
    (
        "`layout tune` with 1,000 samples, whole command",
        lambda f: f"{f(TUNE_COMMAND, 'layouts_per_s'):.0f} layouts/s",
        ">= 200",
    ),
    ("10,000-hole layout, momentum mode", _holes_10k, ""),
    (
        "1,000 scenarios x 90 days, ensemble engine",
        lambda f: (
            f"{f(ENSEMBLE):.1f} s on {f(ENSEMBLE, 'threads')} threads "
            f"(one scenario through `simulate`: {f(SINGLE) * 1e3:.0f} ms)"
        ),
        "<= 20 s",
    ),
    (
        "bridge ingestion, QoS 1 through Mosquitto into SQLite (memory: both processes, PSS)",
        lambda f: _bridge(f, BRIDGE),
        ">= 0.7x bare, < 100 MB",
    ),
    (
        "bridge ingestion, QoS 1 through Mosquitto into PostgreSQL",
        lambda f: _bridge(f, BRIDGE_PG),
        ">= 0.7x bare, < 100 MB",
    ),
    ("dashboard first paint, a month of 1-minute data from 8 sensors", _first_paint, "<= 1 s"),
    (
        "bridge + dashboard memory",
        lambda f: f"{f(DASH, 'bridge_plus_dashboard_rss_mb'):.0f} MB",
        "< 300 MB",
    ),
    (
        "overview first paint, 100 tanks x 8 sensors, a week of 1-minute data",
        lambda f: _first_paint(f, FLEET),
        "<= 1 s",
    ),
    (
        "newest reading of those 800 sensors (`latest_readings`), SQLite",
        lambda f: (
            f"{f(FLEET, 'latest_readings_ms'):.0f} ms "
            f"(GROUP BY ... MAX: {f(FLEET, 'group_by_max_ms'):,.0f} ms)"
        ),
        "",
    ),
    (
        "bridge + dashboard memory, 100 tanks",
        lambda f: f"{f(FLEET, 'bridge_plus_dashboard_rss_mb'):.0f} MB",
        "< 300 MB",
    ),
]


def table(record: dict[str, dict]) -> str:
    """The Markdown table, and under it when and under what load it was measured."""
    f = Figures(record)
    lines = ["| what | figure | target |", "|---|---|---|"]
    missing = []
    for what, figure, goal in ROWS:
        try:
            text = figure(f)
        except MissingFigure as exc:
            missing.append(str(exc))
            text = "not in the record"
        lines.append(f"| {what} | {text} | {goal} |")
    if missing:
        lines += ["", "Not in the record (the benchmark timed out or did not run): "]
        lines[-1] += ", ".join(f"`{m}`" for m in missing) + "."
    failed = sorted(test for test, e in record.items() if not e["passed"])
    if failed:
        lines += ["", "Failed (a target missed or a check failed) in the recorded run: "]
        lines[-1] += ", ".join(f"`{t}`" for t in failed) + "."
    runs = sorted({(e["run"], e["cpus"]) for e in record.values()})
    loads = [e["load_average_1min"] for e in record.values()]
    lines += [
        "",
        f"Measured in {len(runs)} run(s) ({', '.join(r for r, _ in runs)}) on "
        f"{runs[0][1]} cores; 1-minute load average during the benchmarks "
        f"{min(loads):.1f}-{max(loads):.1f} (cores shared with other jobs).",
    ]
    return "\n".join(lines)


def rewrite(readme: str, record: dict[str, dict]) -> str:
    """``readme`` with the text between the markers replaced by :func:`table`."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"readme_table: README.md lacks the markers {START!r} ... {END!r}")
    return f"{head}{START}\n{table(record)}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = rewrite(text, load_record())
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: Measured table rewritten from docs/benchmarks.json")
    else:
        print("README.md: Measured table already matches docs/benchmarks.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
