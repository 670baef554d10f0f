"""``tankeco plan water-changes``: how little water can be changed, and how sure that is."""

from __future__ import annotations

import argparse
import sys

from tankeco.cli import EXIT_BREACH
from tankeco.cli.helptext import (
    add_max_fraction_option,
    add_set_option,
    parse_fraction,
    parse_positive,
)
from tankeco.errors import UserError

HELP = "plan water changes: schedules that keep the limits, and their risk"
DESCRIPTION = """\
Recommend water-change schedules (every how many days, what share of the water) that keep
nitrate, free ammonia, nitrite, alkalinity and pH inside their limits, with the water each
uses per month.  Candidates are simulated to their periodic steady state and checked
against the closed-form balance C_before = C_tap + P T / (f V).  A risk search then runs a
Monte Carlo over the nitrifiers' kinetics, feeding, a missed change and pump outages (the
same draws for every schedule) on the cheapest of them and on more water, up to
--max-fraction, until it finds the least water whose risk of breaking a limit the schedule
controls (nitrate, alkalinity, pH) is at most --max-risk.  Free-ammonia and nitrite peaks
(after meals, during outages) are reported apart: more water does not remove them.

Limits take the units keepers use:
  --max-no3-n 9   or "40 ppm NO3" (plain numbers are mg N/L)
  --max-nh3 0.02  free ammonia; plain numbers are mg NH3/L, or "0.016 mg/L NH3-N"
  --min-alk 40    or "2.2 dKH" (plain numbers are mg/L CaCO3)

examples:
  tankeco plan water-changes --max-no3-n 9
  tankeco plan water-changes my_tank.toml --max-no3-n "40 ppm NO3" --min-alk "3 dKH"
  tankeco plan water-changes --mc 200 --seed 3 --out plan_run
"""


def register(sub: argparse._SubParsersAction) -> None:
    plan = sub.add_parser("plan", help="plan water changes (see 'tankeco plan water-changes')")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="WHAT")
    p = plan_sub.add_parser(
        "water-changes",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the embedded seed tank)")
    add_set_option(p)
    p.add_argument("--max-no3-n", default=None, metavar="VALUE", help="nitrate limit (10 mg N/L)")
    p.add_argument("--max-nh3", default=None, metavar="VALUE", help="free ammonia (0.02 mg NH3/L)")
    p.add_argument("--max-no2-n", default=None, metavar="VALUE", help="nitrite limit (1 mg N/L)")
    p.add_argument("--min-alk", default=None, metavar="VALUE", help="alkalinity floor (40 mg/L)")
    p.add_argument("--min-ph", default=None, metavar="VALUE", help="pH floor (6.5)")
    add_max_fraction_option(p)
    p.add_argument("--intervals", default=None, metavar="D,D,...", help="candidate intervals, d")
    p.add_argument("--fractions", default=None, metavar="F,F,...", help="candidate fractions")
    p.add_argument(
        "--mc",
        type=int,
        default=100,
        metavar="N",
        help="Monte Carlo draws per schedule (%(default)s; 0: none)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo (%(default)s)")
    p.add_argument(
        "--max-risk",
        default="10%",
        metavar="P",
        help="largest Monte Carlo risk of breaking a limit the schedule controls (nitrate,"
        " alkalinity, pH) a recommended schedule may have (%(default)s; the keeper's choice,"
        " not a published number)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit with code 1 when no schedule reaches --max-risk (for scripts), as"
        " 'simulate --strict' does on a breach",
    )
    p.add_argument("--out", default="tankeco_plan", metavar="DIR", help="output directory")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)
    plan.set_defaults(func=lambda _args: _no_subcommand(plan))


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _numbers(flag: str, text: str, parse) -> list[float]:
    values = [parse(flag, part) for part in text.split(",") if part.strip()]
    if not values:
        raise UserError(f"{flag} {text!r}: expected a comma-separated list")
    return sorted(set(values))


def _interval(flag: str, text: str) -> float:
    return parse_positive(flag, text, "interval_d", 365.0, "365 d")


def _limits(args):
    from tankeco.plan import limits as L

    values = {}
    for attr, flag, parse in (
        ("max_no3_n_mg_l", "--max-no3-n", L.parse_no3_n),
        ("max_nh3_n_mg_l", "--max-nh3", L.parse_nh3),
        ("max_no2_n_mg_l", "--max-no2-n", L.parse_no2_n),
        ("min_alk_mg_l_caco3", "--min-alk", L.parse_alk),
        ("min_ph", "--min-ph", L.parse_ph),
    ):
        text = getattr(args, _dest(flag))
        if text is not None:
            values[attr] = parse(text, flag)
    return L.WaterLimits(**values)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def run(args: argparse.Namespace) -> int:
    limits = _limits(args)
    max_fraction = parse_fraction("--max-fraction", args.max_fraction)
    if not 0 <= args.mc <= 100_000:
        raise UserError(f"--mc {args.mc}: allowed 0 to 100000 draws")
    if args.seed < 0:
        raise UserError(f"--seed {args.seed}: allowed 0 or more")
    max_risk = parse_fraction("--max-risk", args.max_risk)
    from tankeco.plan import water_changes as wc
    from tankeco.scenario.loading import load_scenario

    intervals = (
        _numbers("--intervals", args.intervals, _interval)
        if args.intervals
        else list(wc.DEFAULT_INTERVALS_D)
    )
    fractions = (
        _numbers("--fractions", args.fractions, parse_fraction)
        if args.fractions
        else list(wc.DEFAULT_FRACTIONS)
    )
    if min(fractions) > max_fraction:
        raise UserError(
            f"--fractions {args.fractions}: every fraction is above --max-fraction "
            f"{max_fraction:.0%}"
        )
    scenario = load_scenario(args.scenario, args.overrides)
    from tankeco.io.output import prepare_dir
    from tankeco.io.plan_text import (
        format_plan,
        format_recommendation,
        format_search,
        format_search_recommendation,
    )
    from tankeco.plan.risk_search import merged

    out = prepare_dir(args.out)
    _say(
        args.quiet,
        "plan: simulating each candidate schedule to its periodic steady state"
        " (the first run also compiles the simulator)...",
    )
    bar = _bar("candidates", args.quiet)
    try:
        plan = wc.plan_water_changes(
            scenario, limits, intervals_d=intervals, fractions=fractions,
            max_fraction=max_fraction, progress=bar.update if bar else None,
        )  # fmt: skip
    finally:
        if bar:
            bar.close()
    files = [out / "plan_candidates.csv", out / "plan_recommended.csv"]
    plan.table.to_csv(files[0], index=False, float_format="%.6g")
    found = None
    if args.mc > 0 and len(plan.recommended):
        found = _search(scenario, plan, limits, max_risk, args)
        found.assessed.to_csv(out / "risk_search.csv", index=False, float_format="%.6g")
        files.append(out / "risk_search.csv")
        risk = merged(found.results)
        if risk is not None:
            draws = risk.draws.copy()
            draws.insert(1, "fraction", risk.schedules["fraction"].to_numpy()[draws["schedule"]])
            draws.insert(
                1, "interval_d", risk.schedules["interval_d"].to_numpy()[draws["schedule"]]
            )
            draws.to_csv(out / "risk_draws.csv", index=False, float_format="%.6g")
            files.append(out / "risk_draws.csv")
        rec = plan.recommended.merge(
            found.assessed.drop(columns=["water_l_per_month", "changes_per_month"]),
            on=["interval_d", "fraction"],
            how="left",
        )
    else:
        risk = None
        rec = plan.recommended
    rec.to_csv(files[1], index=False, float_format="%.6g")
    if not args.no_plot:
        from tankeco.io.plan_report import plot_plan, plot_risk

        files.append(plot_plan(plan, out / "plan.png"))
        if risk is not None:
            # the schedules that met every draw (those rejected on a first look are in the CSV)
            full = merged([r for r in found.results if r.n_draws == args.mc])
            if full is not None:
                files.append(plot_risk(full, limits, out / "risk.png"))
    if not args.quiet:
        print(format_plan(plan, scenario))
        if found is not None:
            print(format_search(found, plan))
            print(format_search_recommendation(found, max_fraction))
        else:
            print(format_recommendation(rec, max_risk))
        print("wrote " + ", ".join(str(f) for f in files))
    if rec.empty:
        raise UserError(
            "plan water-changes: no schedule keeps every limit with changes of at most "
            f"{max_fraction:.0%}; allowed: feed less, raise --max-fraction or relax a limit"
        )
    if args.strict and found is not None and found.chosen is None:
        return EXIT_BREACH
    return 0


def _search(scenario, plan, limits, max_risk: float, args):
    """The risk search, one phase line and bar per schedule so it is never silent."""
    from tankeco.io.plan_text import schedule_text
    from tankeco.plan.risk_search import search

    _say(
        args.quiet,
        f"plan: risk search from the cheapest schedule up, {args.mc} Monte Carlo draws each,"
        f" until one has at most {max_risk:.0%} risk...",
    )
    state: dict[str, _Bar | None] = {"bar": None}

    def start(interval_d: float, fraction: float, water_l: float) -> None:
        desc = f"{schedule_text(interval_d, fraction)} ({water_l:.0f} L/month)"
        state["bar"] = _bar(desc, args.quiet)

    def done(row) -> None:
        if state["bar"]:
            state["bar"].close()
        _say(
            args.quiet,
            f"  {schedule_text(row.interval_d, row.fraction)}, {row.water_l_per_month:.0f} L/month:"
            f" risk {row.p_schedule:.0%} ({row.p_schedule_lo:.0%}-{row.p_schedule_hi:.0%})"
            f" over {row.draws:.0f} draws"
            f" -> {'ok' if row.safe else 'unsafe'}",
        )

    def progress(k: int, n: int) -> None:
        if state["bar"]:
            state["bar"].update(k, n)

    return search(
        scenario, plan, limits, max_risk, n_draws=args.mc, seed=args.seed,
        on_start=start, on_done=done, progress=progress,
    )  # fmt: skip


def _say(quiet: bool, text: str) -> None:
    """A phase line on stderr, so a long plan is never silent (a bar needs a terminal)."""
    if not quiet:
        print(text, file=sys.stderr, flush=True)


class _Bar:
    """A tqdm bar driven by (done, total) callbacks."""

    def __init__(self, desc: str):
        from tqdm import tqdm

        self._bar = tqdm(desc=desc, file=sys.stderr, disable=None, leave=False, unit="run")

    def update(self, done: int, total: int) -> None:
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _bar(desc: str, quiet: bool) -> _Bar | None:
    return None if quiet else _Bar(desc)
