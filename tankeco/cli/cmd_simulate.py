"""``tankeco simulate``: the 90-day nitrogen-cycle forecast of a tank."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError
from tankeco.scenario.loading import load_scenario

#: ``simulate --strict``: a limit was broken (the same code as in tankeco.cli's table).
EXIT_BREACH = 1

HELP = "forecast ammonia, nitrite, nitrate, oxygen and pH of a tank"
DESCRIPTION = """\
Simulate the tank's nitrogen cycle: a discrete-event model (feedings, water changes,
top-ups, dosing, pump outages) with the water chemistry and the nitrifying biofilm of the
ceramsite bed integrated between events.

Without a scenario file it runs the embedded seed tank (60 x 40 cm, turtle and six fish,
8 cm ceramsite bed, reverse-flow undergravel filter).  Copy sims/seed_tank.toml to
describe your own tank; change any field or model parameter with --set.

Writes to --out: timeseries.csv (hourly), events.csv, summary.json (with the nitrogen and
water balances) and report.png.

examples:
  tankeco simulate --days 90
  tankeco simulate sims/fishless_cycling.toml --days 60 --out cycling
  tankeco simulate --set water_changes.fraction=0.1 --set water_changes.interval_d=3
  tankeco simulate --set params.mu_max_nob_d=1.2 --set "tap.no3_n_mg_l='40 ppm NO3'"
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the embedded seed tank)")
    p.add_argument("--days", type=float, help="simulated days (default: the scenario's)")
    p.add_argument(
        "--out",
        default="tankeco_run",
        metavar="DIR",
        help="directory for the outputs (default: %(default)s)",
    )
    add_set_option(p)
    p.add_argument("--no-plot", action="store_true", help="skip report.png")
    p.add_argument(
        "--no-events",
        action="store_true",
        help="switch off all discrete events (feeding, changes, dosing, outages)",
    )
    p.add_argument("--rtol", type=float, default=1e-3, help="integrator tolerance (%(default)g)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit with code 1 when the run breaks a water-quality limit (for scripts);"
        " the verdict at the end of the summary says which, when and why",
    )
    p.set_defaults(func=run)


def kernel_cache_is_cold(module: str = "tankeco.sim.ros2_kernel") -> bool:
    """True when numba has no compiled copy of ``module`` newer than its source.

    numba's on-disk cache (numba.core.caching, ``_CacheLocator``) keeps a kernel's index
    as ``<module>.<function>-<line>.pyXY.nbi`` in ``<cache dir>/<folder>_<sha1 of the
    source folder's path>``, and recompiles when the source is newer.  Only a cheap look
    at the files: it decides whether to say "compiling", never what is run.
    """
    import hashlib
    import importlib.util
    from pathlib import Path

    from tankeco import numba_cache_dir

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    src = Path(spec.origin).resolve()
    folder = f"{src.parent.name}_{hashlib.sha1(str(src.parent).encode()).hexdigest()}"
    index = list((numba_cache_dir() / folder).glob(f"{src.stem}.*.nbi"))
    # An edited source leaves the old indexes behind (their names carry line numbers), so
    # the newest index decides: none written since the source changed means compiling.
    return not index or max(p.stat().st_mtime for p in index) < src.stat().st_mtime


class _Progress:
    """What the keeper sees while the run computes: a compile notice, then a day counter.

    The first run of an install compiles the integrator (numba, 20-60 s, minutes on a busy
    machine) before the first simulated day is done; nothing used to be printed
    meanwhile.  When numba's cache holds no compiled kernel (:func:`kernel_cache_is_cold`)
    one line says, at once, that it is compiling, once, and where the result is cached;
    on a terminal the seconds tick on after it until the first day is done.
    """

    def __init__(self, days: float, quiet: bool) -> None:
        self.days, self.quiet = days, quiet
        self.bar = None
        self.compile_s = 0.0
        self._first = threading.Event()
        self._start = time.perf_counter()
        self._thread = None
        if not quiet and kernel_cache_is_cold():
            self._thread = threading.Thread(target=self._notice, daemon=True)
            self._thread.start()

    def _notice(self) -> None:
        from tankeco import numba_cache_dir

        tty = sys.stderr.isatty()
        msg = (
            "first run: compiling the simulator once (numba: about half a minute, longer on a busy"
            " machine);"
            f" later runs reuse {numba_cache_dir()}"
        )
        print(msg, file=sys.stderr, flush=True)
        while tty and not self._first.wait(1.0):
            waited = time.perf_counter() - self._start
            print(f"\rcompiling... {waited:.0f} s", end="", file=sys.stderr, flush=True)
        if tty:
            print("\r" + " " * 24 + "\r", end="", file=sys.stderr, flush=True)

    def clock_starts(self) -> None:
        """The run proper starts now: its compile time counts from here, as its run time does
        (the imports between the notice and this point are part of neither)."""
        self._start = time.perf_counter()

    def update(self, t_d: float) -> None:
        if not self._first.is_set():
            if self._thread is not None:  # the time to the first day was mostly compiling
                self.compile_s = time.perf_counter() - self._start
            self._first.set()
            if self._thread is not None:
                self._thread.join()
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=round(self.days, 3),
                unit="d",
                desc="simulating",
                file=sys.stderr,
                disable=None,
                leave=False,
                bar_format="{desc} {bar} {n:.0f}/{total:.0f} d",
            )
        self.bar.update(round(t_d, 3) - self.bar.n)

    def close(self) -> None:
        self._first.set()
        if self._thread is not None:
            self._thread.join()
        if self.bar is not None:
            self.bar.close()


def run_title(scenario_name: str, days: float, overrides: list[str]) -> str:
    """The figure's title: the scenario and every --set override, so a picture says what ran."""
    title = f"tankeco: {scenario_name}, {days:g} days"
    if overrides:
        title += "  with --set " + ", ".join(overrides)
    return title


def run(args: argparse.Namespace) -> int:
    if args.days is not None and not (0 < args.days <= 3650):
        raise UserError(f"--days {args.days:g}: allowed more than 0 and at most 3650")
    if not (1e-10 <= args.rtol <= 1e-2):
        raise UserError(f"--rtol {args.rtol:g}: allowed 1e-10 to 1e-2")
    scenario = load_scenario(args.scenario, args.overrides)
    from tankeco.io.output import prepare_dir, write_results

    out = prepare_dir(args.out)
    days = args.days if args.days is not None else scenario.simulation.days
    # the compile notice before the simulator's imports (numba alone takes a quarter of a
    # second): a first run says what it is doing at once
    progress = _Progress(days, args.quiet)
    try:
        from tankeco.sim.engine import simulate

        start = time.perf_counter()
        progress.clock_starts()
        results = simulate(
            scenario, days, events=not args.no_events, rtol=args.rtol, progress=progress.update
        )
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    from tankeco.io.summary_table import format_summary
    from tankeco.io.verdict import verdict

    judged = verdict(results, has_animals=bool(scenario.animals))
    files = write_results(results, out, verdict=judged.as_dict())
    if not args.no_plot:
        from tankeco.io.report import plot_report

        title = run_title(results.summary["scenario"], days, args.overrides)
        files["report"] = plot_report(results, out / "report.png", title=title)
    if not args.quiet:
        print(format_summary(results, elapsed, compile_s=progress.compile_s))
        print(judged.text)
        print("wrote " + ", ".join(str(f) for f in files.values()))
    if args.strict and not judged.ok:
        return EXIT_BREACH
    return 0
