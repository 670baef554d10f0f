"""``tankeco layout``: solve, compare, draw and tune under-bed pipe layouts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError, writing

HELP = "solve, compare and tune the filter's pipe layout (per-hole flow, uniformity)"
DESCRIPTION = """\
Solve the undergravel filter's pipe network of a layout file (sims/layouts/*.toml):
per-hole flow and pressure head, the pump's operating point, and uniformity figures
(coefficient of variation, max/min, share of bed area below half the mean up-flow).

examples:
  tankeco layout show sims/layouts/seed_same_path.toml --png seed.png
  tankeco layout show sims/layouts/seed_same_path.toml --json
  tankeco layout compare sims/layouts/seed_same_path.toml sims/layouts/ring.toml --png cmp.png
  tankeco layout tune sims/layouts/end_fed_header.toml --vary hole.diameter_mm=3:6 \\
      --vary hole.spacing_cm=3:8 --min-flow 800 --series metric --out best.toml
  tankeco layout simulate seed_same_path sims/layouts/poor_one_end.toml --png bed.png
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "layout",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lsub = p.add_subparsers(dest="layout_command", metavar="ACTION", parser_class=type(p))
    show = lsub.add_parser("show", help="solve one layout and report every hole")
    show.add_argument("layout", help="layout TOML")
    show.add_argument("--json", action="store_true", help="print holes and summary as JSON")
    show.add_argument("--png", metavar="FILE", help="draw the top view to FILE")
    show.set_defaults(func=run_show)
    cmp_ = lsub.add_parser("compare", help="figures of several layouts side by side")
    cmp_.add_argument("layouts", nargs="+", help="layout TOML files")
    cmp_.add_argument("--json", action="store_true", help="print the summaries as JSON")
    cmp_.add_argument("--png", metavar="FILE", help="draw the top views side by side")
    cmp_.set_defaults(func=run_compare)
    tune = lsub.add_parser("tune", help="search knobs for the most even layout")
    tune.add_argument("layout", help="base layout TOML")
    tune.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH",
        help="a knob and its range, e.g. hole.diameter_mm=3:6 (repeatable)",
    )
    tune.add_argument("--samples", type=int, default=200, help="candidates (default 200)")
    tune.add_argument("--min-flow", type=float, default=0.0, metavar="L_H", help="least pump flow")
    tune.add_argument("--seed", type=int, default=0, help="seed of the sampling (%(default)s)")
    tune.add_argument(
        "--series",
        choices=("metric", "inch", "any"),
        default="metric",
        help="take holes to standard drills and pipe bores to standard pipes of this "
        "series (metric: 0.5 mm drills, PVC-U PN16; inch: 1/64 in drills, schedule 40 "
        "PVC); 'any' keeps the ranges continuous (default metric)",
    )
    tune.add_argument("--out", default="tuned_layout.toml", metavar="FILE", help="best layout")
    tune.set_defaults(func=run_tune)
    smap = lsub.add_parser(
        "map",
        help="where same-path (Z) beats direct return (U): bore ratio x flow",
        description="Solve the layout's tank, header, holes and bed as a direct-return "
        "(U) and a same-path (Z) ladder over a grid of rung/header bore ratios and fixed "
        "pump flows, and draw which is more even by CV and by under-flowed bed area.",
    )
    smap.add_argument("layout", help="base layout TOML (a ladder)")
    smap.add_argument(
        "--ratios",
        default="0.375:1.25:8",
        metavar="LOW:HIGH:N",
        help="rung/header bore ratios: N values from LOW to HIGH (%(default)s)",
    )
    smap.add_argument("--flows", default="200:3000:8", metavar="LOW:HIGH:N", help="L/h")
    smap.add_argument("--png", metavar="FILE", help="draw the map to FILE")
    smap.add_argument("--json", action="store_true", help="print the grid as JSON")
    smap.set_defaults(func=run_map)
    sim = lsub.add_parser(
        "simulate",
        help="run a scenario with each layout and compare the bed over the days",
        description="Run the scenario (default: the seed tank) once per layout, each "
        "layout's solved flows feeding the bed zones, and compare pump flow, zone flows, "
        "anoxic zone-days, ammonia, nitrite, nitrate and denitrification.",
    )
    sim.add_argument("layouts", nargs="+", help="layout TOML files or shipped layout names")
    sim.add_argument("--scenario", help="scenario TOML (default: the embedded seed tank)")
    sim.add_argument("--days", type=float, default=90.0, help="simulated days (default 90)")
    add_set_option(sim)
    sim.add_argument("--png", metavar="FILE", help="draw the comparison to FILE")
    sim.add_argument("--json", action="store_true", help="print the figures as JSON")
    sim.set_defaults(func=run_simulate)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _solve(path: str):
    from tankeco.hydraulics.analysis import analyse
    from tankeco.hydraulics.layout_file import load_layout

    layout = load_layout(path)
    return layout, analyse(layout.network(), options=layout.options())


def run_show(args: argparse.Namespace) -> int:
    layout, a = _solve(args.layout)
    sol = a.solution
    c = sol.network.compiled
    holes = [
        {
            "id": h.id,
            "x_m": float(c.hole_x_m[i]),
            "y_m": float(c.hole_y_m[i]),
            "flow_l_h": float(a.hole_flow_l_h[i]),
            "head_m": float(sol.hole_static_head_m[i]),
        }
        for i, h in enumerate(sol.network.holes)
    ]
    summary = a.summary() | {"zone_flow_l_h": [float(v) for v in a.zone_flow_l_h]}
    if args.png:
        from tankeco.io import layout_plot

        with writing("--png", args.png):
            layout_plot.save([(layout.layout.name, a)], args.png)
    if args.json:
        print(json.dumps({"layout": layout.layout.name, "holes": holes, "summary": summary}))
        return 0
    print(f"layout: {layout.layout.name} ({layout.layout.shape}, {layout.layout.mode} mode)")
    q_h = (summary["pump_flow_l_h"], summary["pump_head_m"])
    print(f"pump operating point: {q_h[0]:.0f} L/h at {q_h[1]:.3f} m")
    print(f"{'hole':>6} {'x cm':>6} {'y cm':>6} {'flow L/h':>9} {'head mm':>8}")
    for h in holes:
        print(
            f"{h['id']:>6} {h['x_m'] * 100:6.1f} {h['y_m'] * 100:6.1f} "
            f"{h['flow_l_h']:9.2f} {h['head_m'] * 1000:8.1f}"
        )
    _print_summary(summary)
    if args.png:
        print(f"top view written to {args.png}")
    return 0


def _print_summary(s: dict) -> None:
    print(
        f"holes {s['holes']}, mean {s['hole_flow_mean_l_h']:.2f} L/h "
        f"(min {s['hole_flow_min_l_h']:.2f}, max {s['hole_flow_max_l_h']:.2f}); "
        f"CV {s['cv']:.4f}; max/min {s['max_min_ratio']:.3f}; "
        f"bed area below half the mean up-flow {s['low_flow_area_share']:.1%}"
    )


def run_compare(args: argparse.Namespace) -> int:
    """Rank the layouts by :func:`tankeco.hydraulics.analysis.rank_key`, most even first."""
    from tankeco.hydraulics.analysis import rank_key

    results = [(path, *_solve(path)) for path in args.layouts]
    results.sort(key=lambda r: rank_key(r[2].summary()))
    rows = [(Path(p).stem, lay, a.summary()) for p, lay, a in results]
    if args.png:
        from tankeco.io import layout_plot

        with writing("--png", args.png):
            layout_plot.save([(lay.layout.name, a) for _, lay, a in results], args.png)
    if args.json:
        print(
            json.dumps(
                {
                    "ranking": RANKING,
                    "layouts": {name: s | {"rank": i + 1} for i, (name, _, s) in enumerate(rows)},
                }
            )
        )
        return 0
    width = max(len(n) for n, _, _ in rows)
    print(f"ranked by {RANKING}")
    print(
        f"{'rank':>4} {'layout':<{width}} {'holes':>5} {'Q L/h':>7} {'H m':>6} {'low area':>8} "
        f"{'CV':>7} {'max/min':>8}"
    )
    for i, (name, _, s) in enumerate(rows):
        print(
            f"{i + 1:>4} {name:<{width}} {s['holes']:5d} {s['pump_flow_l_h']:7.0f} "
            f"{s['pump_head_m']:6.3f} {s['low_flow_area_share']:8.1%} {s['cv']:7.4f} "
            f"{s['max_min_ratio']:8.3f}"
        )
    if args.png:
        print(f"top views written to {args.png}")
    return 0


#: the ranking metric, as ``layout compare`` states it
RANKING = (
    "under-flowed bed area (share of the floor below half the mean up-flow, to 0.1 %), "
    "then CV of the hole flows; lower is more even"
)


def run_tune(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tankeco.hydraulics import standard_sizes
    from tankeco.hydraulics.layout_file import load_layout
    from tankeco.plan.layout_tune import BORE_KEYS, DRILL_KEYS, parse_vary, tune

    if not args.vary:
        raise UserError("layout tune: give at least one --vary KEY=LOW:HIGH")
    if args.samples < 1:
        raise UserError(f"--samples = {args.samples}: allowed 1 or more")
    base = load_layout(args.layout)
    ranges = [parse_vary(v) for v in args.vary]
    series = None if args.series == "any" else args.series
    with tqdm(total=args.samples, desc="tuning", unit="layout", leave=False) as bar:
        res = tune(
            base,
            ranges,
            args.samples,
            args.min_flow,
            args.seed,
            progress=bar.update,
            series=series,
        )
    for f in res.failures:
        knobs = ", ".join(f"{k} = {v:g}" for k, v in f.values.items())
        print(f"not evaluated: {knobs}: {f.reason}")
    print(
        f"evaluated {res.evaluated} of {args.samples} candidates "
        f"({len(res.failures)} could not be evaluated, listed above; "
        f"{res.below_min_flow} delivered less than {args.min_flow:g} L/h)"
    )
    if res.best is None:
        raise UserError(
            f"layout tune: none of {args.samples} candidates delivered {args.min_flow:g} L/h "
            f"({res.evaluated} could be solved); widen the ranges or lower --min-flow"
        )
    best = res.best
    Path(args.out).write_text(best.layout.to_toml(), encoding="utf-8")
    print("best: " + ", ".join(f"{k} = {v:g}" for k, v in best.values.items()))
    if series is not None:
        for k, v in best.values.items():
            if k in DRILL_KEYS:
                print(f"  drill: {standard_sizes.drill_name(series, v)}")
            elif k in BORE_KEYS:
                print(f"  {k.split('.')[1]}: {standard_sizes.pipe_name(series, v)}")
    _print_summary(best.summary)
    print(f"pump operating point: {best.summary['pump_flow_l_h']:.0f} L/h")
    if res.start is not None:
        s0, s1 = res.start.summary, best.summary
        print(
            "over the start layout: under-flowed bed area "
            f"{s0['low_flow_area_share']:.1%} -> {s1['low_flow_area_share']:.1%}, "
            f"CV {s0['cv']:.4f} -> {s1['cv']:.4f}, max/min {s0['max_min_ratio']:.3f} -> "
            f"{s1['max_min_ratio']:.3f}, pump {s0['pump_flow_l_h']:.0f} -> "
            f"{s1['pump_flow_l_h']:.0f} L/h"
        )
    else:
        print(f"the start layout could not be evaluated: {res.start_failure}")
    print(f"best layout written to {args.out}")
    return 0


def _grid(text: str, option: str):
    import numpy as np

    parts = text.split(":")
    try:
        low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise UserError(f"{option} {text}: expected LOW:HIGH:N (numbers, N whole)") from None
    if len(parts) != 3 or not (0 < low <= high) or not 1 <= n <= 50:
        raise UserError(f"{option} {text}: allowed 0 < LOW <= HIGH and N from 1 to 50")
    return np.linspace(low, high, n)


def run_map(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tankeco.hydraulics.layout_file import load_layout
    from tankeco.plan.layout_tune import same_path_map

    ratios = _grid(args.ratios, "--ratios")
    flows = _grid(args.flows, "--flows")
    base = load_layout(args.layout)
    with tqdm(total=ratios.size * flows.size, desc="map", unit="cell", leave=False) as bar:
        m = same_path_map(base, ratios, flows, progress=bar.update)
    for f in m.failures:
        knobs = ", ".join(f"{k} = {v:g}" for k, v in f.values.items())
        print(f"not evaluated: {knobs}: {f.reason}")
    if args.json:
        print(
            json.dumps(
                {
                    "header_diameter_mm": m.header_diameter_mm,
                    "bore_ratio": m.bore_ratio.tolist(),
                    "flow_l_h": m.flow_l_h.tolist(),
                    **{k: getattr(m, k).tolist() for k in ("cv_u", "cv_z", "low_u", "low_z")},
                }
            )
        )
    else:
        print(f"header {m.header_diameter_mm:g} mm; cells: U CV / Z CV, U low area / Z low area")
        print("flow L/h \\ ratio " + " ".join(f"{r:>13.3f}" for r in m.bore_ratio))
        for i, q in enumerate(m.flow_l_h):
            cells = " ".join(
                ("Z" if m.cv_z[i, j] < m.cv_u[i, j] else "U")
                + f"{m.cv_u[i, j]:.3f}/{m.cv_z[i, j]:.3f}"
                for j in range(m.bore_ratio.size)
            )
            print(f"{q:17.0f} {cells}")
    if args.png:
        from tankeco.io import layout_plot

        with writing("--png", args.png):
            layout_plot.save_same_path_map(m, args.png)
        print(f"map written to {args.png}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """The same tank with different pipes: what each layout does to the biofilter."""
    from tankeco.scenario.loading import load_scenario
    from tankeco.sim.engine import simulate

    if not (0 < args.days <= 3650):
        raise UserError(f"--days {args.days:g}: allowed more than 0 and at most 3650")
    runs = []
    for name in args.layouts:
        layout = str(Path(name).resolve()) if name.endswith(".toml") else name
        scenario = load_scenario(args.scenario, [*args.overrides, f"filter.layout={layout!r}"])
        runs.append((Path(name).stem, simulate(scenario, args.days)))
    keys = (
        "pump_flow_l_h",
        "anoxic_zone_days",
        "bed_do_min_mg_l",
        "denitrified_n_mg",
        "no3_n_end_mg_l",
        "nitrification_capacity_bed_mg_n_d",
        "nitrification_capacity_mg_n_d",
    )
    if args.json:
        print(
            json.dumps(
                {n: {k: r.summary[k] for k in (*keys, "zone_flow_l_h")} for n, r in runs}, indent=2
            )
        )
    else:
        width = max(len(n) for n, _ in runs)
        print(
            f"{'layout':<{width}}  pump L/h  zones L/h (min-max)  anoxic zone-d  bed O2 min"
            "  N2 lost g  NO3-N end  capacity mg N/d: bed  tank"
        )
        for n, r in runs:
            s = r.summary
            q = s["zone_flow_l_h"]
            print(
                f"{n:<{width}}  {s['pump_flow_l_h']:8.0f}  {min(q):8.0f}-{max(q):<9.0f}"
                f"  {s['anoxic_zone_days']:13.1f}  {s['bed_do_min_mg_l']:10.2f}"
                f"  {s['denitrified_n_mg'] / 1000:9.2f}  {s['no3_n_end_mg_l']:9.1f}"
                f"  {s['nitrification_capacity_bed_mg_n_d']:20.0f}"
                f"  {s['nitrification_capacity_mg_n_d']:4.0f}"
            )
    if args.png:
        from tankeco.io.layout_report import plot_layout_runs

        with writing("--png", args.png):
            written = plot_layout_runs(runs, args.png)
        print(f"wrote {written}")
    return 0
