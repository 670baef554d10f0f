"""``tankeco compare``: the model run for a stretch of the tank's history, next to the readings.

Rebuilds the run from the scenario and the events the keeper logged, aligns it with the
sensor readings and test-kit entries in the store, and reports bias, RMSE and the share
of kit readings the model lands inside; ``--calibrate`` fits the uncertain knobs and
writes a calibrated scenario file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError

HELP = "compare the model with the readings in the store (and --calibrate it)"
EXAMPLES = """\
examples:
  tankeco compare --store sqlite:///tank.db --tank main --since 14d
  tankeco compare --store sqlite:///tank.db --tank main --since 2026-11-01 --calibrate \\
                  --scenario my_tank.toml --out compare_run
Writes to --out: compare.json (metrics), aligned.csv (every measurement with the model
value), overlay.png; with --calibrate also calibrated.toml (the fitted knobs and their
uncertainty are in its first lines).
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help=HELP,
        description=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", required=True, help="sqlite:///PATH or postgresql://HOST:PORT/DB")
    p.add_argument("--tank", required=True, help="tank name as in the topics")
    p.add_argument("--since", default="14d", help="14d, 36h, 2w or an ISO date (default 14d)")
    p.add_argument("--until", help="end of the stretch (default: now)")
    p.add_argument("--scenario", help="scenario TOML (default: the embedded seed tank)")
    add_set_option(p)
    p.add_argument("--tz", help="the keeper's time zone, e.g. Europe/Berlin (default: local)")
    p.add_argument("--calibrate", action="store_true", help="fit feed, capacity, nitrate sink")
    p.add_argument(
        "--out", default="tankeco_compare", metavar="DIR", help="output directory (%(default)s)"
    )
    p.add_argument("--no-plot", action="store_true", help="skip the PNG figure")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tankeco.cli.timeparse import iso_utc, parse_since_ms, parse_time_ms
    from tankeco.io.history import actions, clock_for, drop_kits, kit_steps, load_history, zone
    from tankeco.scenario.loading import apply_overrides, load_scenario
    from tankeco.store import open_store

    now_ms = int(time.time() * 1000)
    since_ms = parse_since_ms(args.since, now_ms)
    until_ms = parse_time_ms(args.until, "--until") if args.until else now_ms
    if until_ms <= since_ms:
        raise UserError(f"--until {args.until!r}: must be after --since {args.since!r}")
    tz = zone(args.tz)
    scenario = load_scenario(args.scenario, args.overrides)
    store = open_store(args.store, create=False)
    try:
        hist = load_history(store, args.tank, since_ms, until_ms)
    finally:
        store.close()
    if hist.readings.empty and hist.manual.empty:
        raise UserError(
            f"--tank {args.tank!r}: no readings or test-kit entries since {iso_utc(since_ms)}"
            " in this store; nothing to compare"
        )

    from tankeco.compare.align import align, metrics, observations
    from tankeco.compare.calibrate import calibrate, calibrated_toml, start_overrides
    from tankeco.compare.replay import replay

    clock = clock_for(since_ms, tz)
    obs = observations(hist.readings, hist.manual, clock, kit_steps(), drop_kits=drop_kits())
    if obs.empty:
        from tankeco.units.quantities import MODEL_COLUMN

        raise UserError(
            f"--tank {args.tank!r}: none of the readings are of a quantity the model computes"
            f" ({', '.join(MODEL_COLUMN)})"
        )
    days = float(clock.days(until_ms))
    acts = actions(hist.events, clock)
    started = apply_overrides(scenario, start_overrides(obs))
    t0 = time.perf_counter()
    base = replay(started, days, acts)
    aligned = align(base.timeseries, obs)
    fits = metrics(aligned)
    from tankeco.io.output import prepare_dir

    out = prepare_dir(args.out)
    report: dict[str, Any] = {
        "tank": args.tank,
        "since": iso_utc(since_ms),
        "until": iso_utc(until_ms),
        "model_day0": iso_utc(clock.origin_ms),
        "logged_events": len(acts),
        "metrics": [f.as_dict() for f in fits],
    }
    print(f"{args.tank}: {len(obs)} measurements over {days:.1f} days, {len(acts)} logged events")
    _print_metrics(fits)
    cal = None
    if args.calibrate:
        try:
            cal = calibrate(started, days, obs, acts)
        except ValueError as exc:
            raise UserError(f"--calibrate: {exc}") from None
        report["calibration"] = cal.as_dict()
        calibrated_aligned = align(replay(started, days, acts, cal.knobs).timeseries, obs)
        report["metrics_calibrated"] = [f.as_dict() for f in metrics(calibrated_aligned)]
        path = out / "calibrated.toml"
        path.write_text(
            calibrated_toml(scenario, cal, f"{args.tank}, {iso_utc(since_ms)} to "
                            f"{iso_utc(until_ms)}"),
            encoding="utf-8",
        )  # fmt: skip
        print("calibrated (1 sigma):")
        for name, v, s in zip(cal.names, cal.values, cal.std, strict=True):
            print(f"  {name:<22} {v:10.4g} +- {s:.2g}")
        print("after calibration:")
        _print_metrics(metrics(calibrated_aligned))
        aligned["model_calibrated"] = calibrated_aligned["model"]
    report["seconds"] = round(time.perf_counter() - t0, 2)
    (out / "compare.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    aligned.to_csv(out / "aligned.csv", index=False)
    written = [out / "compare.json", out / "aligned.csv"]
    if not args.no_plot:
        from tankeco.io.compare_plot import plot_overlay

        cal_ts = replay(started, days, acts, cal.knobs).timeseries if cal else None
        written.append(
            plot_overlay(base.timeseries, obs, hist.events, clock, out / "overlay.png", cal_ts)
        )
    if cal is not None:
        written.append(out / "calibrated.toml")
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _print_metrics(fits: list) -> None:
    print(f"  {'quantity':<12} {'n':>6} {'bias':>9} {'rmse':>9} {'kit in res.':>12}")
    for f in fits:
        kit = "-" if f.kit_within_share is None else f"{f.kit_within_share:.0%} of {f.n_kit}"
        print(f"  {f.quantity:<12} {f.n:>6} {f.bias:>9.3g} {f.rmse:>9.3g} {kit:>12}")
