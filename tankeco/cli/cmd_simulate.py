"""``tankeco simulate``: the 90-day nitrogen-cycle forecast of a tank."""

from __future__ import annotations

import argparse
import sys
import time

from tankeco.errors import UserError
from tankeco.scenario.loading import load_scenario

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
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario field or params.NAME (repeatable)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip report.png")
    p.add_argument(
        "--no-events",
        action="store_true",
        help="switch off all discrete events (feeding, changes, dosing, outages)",
    )
    p.add_argument("--rtol", type=float, default=1e-3, help="integrator tolerance (%(default)g)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def _progress_bar(days: float, quiet: bool):
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(
        total=round(days, 3),
        unit="d",
        desc="simulating",
        file=sys.stderr,
        disable=None,
        leave=False,
        bar_format="{desc} {bar} {n:.0f}/{total:.0f} d",
    )

    def update(t_d: float) -> None:
        bar.update(round(t_d, 3) - bar.n)

    return update, bar.close


def run(args: argparse.Namespace) -> int:
    if args.days is not None and not (0 < args.days <= 3650):
        raise UserError(f"--days {args.days:g}: allowed more than 0 and at most 3650")
    if not (1e-10 <= args.rtol <= 1e-2):
        raise UserError(f"--rtol {args.rtol:g}: allowed 1e-10 to 1e-2")
    scenario = load_scenario(args.scenario, args.overrides)
    from tankeco.io.output import prepare_dir, write_results
    from tankeco.io.summary_table import format_summary
    from tankeco.sim.engine import simulate

    out = prepare_dir(args.out)
    days = args.days if args.days is not None else scenario.simulation.days
    update, close = _progress_bar(days, args.quiet)
    start = time.perf_counter()
    try:
        results = simulate(
            scenario, days, events=not args.no_events, rtol=args.rtol, progress=update
        )
    finally:
        close()
    elapsed = time.perf_counter() - start
    files = write_results(results, out)
    if not args.no_plot:
        from tankeco.io.report import plot_report

        files["report"] = plot_report(results, out / "report.png")
    if not args.quiet:
        print(format_summary(results, elapsed))
        print("wrote " + ", ".join(str(f) for f in files.values()))
    return 0
