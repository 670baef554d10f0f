"""``tankeco sweep``: many runs of one scenario with keys varied, all results to Parquet."""

from __future__ import annotations

import argparse
import sys
import time

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError

HELP = "run a scenario many times with keys varied (grid or Latin hypercube) to Parquet"
DESCRIPTION = """\
Vary scenario keys between a low and a high value and run every combination (--method
grid: N levels of each key) or N runs of a Latin hypercube (--method lhs), all at once in
the ensemble engine.  Each run's peaks and minima (nitrate, free ammonia, nitrite,
alkalinity, pH, oxygen), water used and nitrogen-balance residual go to one Parquet file,
one row per run.  Without --scheduler the runs go to local worker processes; with it, to
an existing Dask cluster in chunks (its workers need tankeco installed).

examples:
  tankeco sweep sims/seed_tank.toml --vary water_changes.fraction=10%:50% --n 5
  tankeco sweep --vary params.mu_max_aob_d=0.3:1.5 --vary feeds[0].amount_g=1:3 \\
      --method lhs --n 200 --seed 1 --out lhs.parquet
  tankeco sweep --vary water_changes.interval_d=3:14 --n 12 --scheduler tcp://10.0.0.5:8786
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help=HELP, description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the embedded seed tank)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LOW:HIGH", help="repeatable")
    p.add_argument("--n", type=int, default=5, help="levels per key (grid) or runs (lhs)")
    p.add_argument("--method", default="grid", help="grid or lhs (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Latin hypercube")
    p.add_argument("--days", type=float, default=None, help="days per run (scenario's)")
    add_set_option(p)
    p.add_argument(
        "--out", default="sweep.parquet", metavar="FILE", help="Parquet file to write (%(default)s)"
    )
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Dask cluster")
    p.add_argument("--workers", type=int, default=None, help="local processes (CPU count)")
    p.add_argument("--chunk", type=int, default=32, help="runs per task (%(default)s)")
    p.add_argument("--rtol", type=float, default=1e-3, help="integrator tolerance (%(default)g)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    if not args.vary:
        raise UserError("--vary: give at least one KEY=LOW:HIGH")
    if args.method not in ("grid", "lhs"):
        raise UserError(f"--method {args.method}: allowed grid, lhs")
    if not 1 <= args.n <= 100_000:
        raise UserError(f"--n {args.n}: allowed 1 to 100000")
    if args.seed < 0:
        raise UserError(f"--seed {args.seed}: allowed 0 or more")
    if args.days is not None and not 0 < args.days <= 3650:
        raise UserError(f"--days {args.days:g}: allowed more than 0 and at most 3650")
    if not 1e-10 <= args.rtol <= 1e-1:
        raise UserError(f"--rtol {args.rtol:g}: allowed 1e-10 to 1e-1")
    if not 1 <= args.chunk <= 10_000:
        raise UserError(f"--chunk {args.chunk}: allowed 1 to 10000")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise UserError(f"--workers {args.workers}: allowed 1 to 256")
    if args.scheduler is not None and "://" not in args.scheduler:
        raise UserError(f"--scheduler {args.scheduler}: expected tcp://HOST:PORT")
    if not str(args.out).endswith(".parquet"):
        raise UserError(f"--out {args.out}: expected a file name ending in .parquet")


def run(args: argparse.Namespace) -> int:
    _check(args)
    from tankeco.scenario.loading import load_scenario
    from tankeco.sim.distribute import run_sweep
    from tankeco.sim.sweep import design, parse_vary

    scenario = load_scenario(args.scenario, args.overrides)
    varies = [parse_vary(text, scenario) for text in args.vary]
    keys = [v.key for v in varies]
    if len(set(keys)) != len(keys):
        raise UserError("--vary: each key may be varied once")
    values = design(varies, args.n, args.method, args.seed)
    if len(values) > 1_000_000:
        raise UserError(f"--n {args.n}: {len(values)} runs; at most 1000000")
    import pyarrow  # noqa: F401  # the 'parquet' extra, checked before the runs start

    days = args.days if args.days is not None else scenario.simulation.days
    from tqdm import tqdm

    bar = tqdm(
        total=len(values), desc="sweep", unit="run", file=sys.stderr,
        disable=True if args.quiet else None, leave=False,
    )  # fmt: skip
    start = time.perf_counter()
    try:
        table = run_sweep(
            scenario.model_dump(), varies, values, days, rtol=args.rtol,
            chunk_size=args.chunk, scheduler=args.scheduler, workers=args.workers,
            progress=lambda done, total: bar.update(done - bar.n),
        )  # fmt: skip
    finally:
        bar.close()
    elapsed = time.perf_counter() - start
    table.insert(len(keys) + 1, "days", days)
    try:
        table.to_parquet(args.out, index=False)
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot write ({exc.strerror or exc})") from None
    if not args.quiet:
        where = args.scheduler or "local processes"
        failed = int((~table["ok"]).sum())
        print(
            f"{len(table)} runs x {days:g} d in {elapsed:.1f} s on {where}"
            + (f"; {failed} failed to integrate" if failed else "")
        )
        print(f"wrote {args.out}")
    return 0
