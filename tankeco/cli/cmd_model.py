"""``tankeco model --matrix``: the Petersen (Gujer) matrix of the tank model.

Processes are rows, components are columns, as an ASM modeller reads them (Henze et al.
1987): each cell is the stoichiometric coefficient, the last columns the rate expression
with its unit and the rate constant at the scenario's temperature.  The footer shows the
continuity of every row (nitrogen, charge, COD), which the tests check.
"""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "model",
        help="print the model's Petersen matrix (processes x components, rates, units)",
        description="Print the model's process matrix for a scenario (default: the seed "
        "tank) at its temperature: stoichiometry, rate expressions and units.",
    )
    p.add_argument("scenario", nargs="?", default=None, help="scenario TOML (default: seed)")
    p.add_argument("--matrix", action="store_true", help="print the Petersen matrix")
    p.add_argument("--csv", action="store_true", help="as CSV (one row per process)")
    add_set_option(p)
    p.set_defaults(func=run)


def _matrix(scenario):
    from tankeco.sim.petersen import (
        UNITS,
        C,
        build_processes,
        charge_content,
        cod_content,
        n_content,
        stoichiometry_matrix,
    )

    p = scenario.parameters
    fish_kg = sum(a.count * a.body_mass_g for a in scenario.animals if a.kind == "fish") / 1000
    procs = build_processes(
        p, float(scenario.temperature.setpoint_c), fish_kg, scenario.plants.uptake_max_mg_n_d
    )
    nu = stoichiometry_matrix(procs)
    used = [c for c in C if np.any(nu[:, c] != 0)]
    continuity = {
        "N": nu @ n_content(p),
        "charge": nu @ charge_content(),
        "COD": nu @ cod_content(p),
    }
    return procs, nu, used, UNITS, continuity


def run(args: argparse.Namespace) -> int:
    if not args.matrix:
        raise UserError("model: nothing to print; allowed: --matrix, with --csv for CSV")
    from tankeco.scenario.loading import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    procs, nu, used, units, continuity = _matrix(scenario)
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(
            [
                "process",
                *(f"{c.name} [{units[c]}]" for c in used),
                "rate",
                "rate_unit",
                "k",
                "k_unit",
                *(f"continuity_{k}" for k in continuity),
            ]
        )
        for i, pr in enumerate(procs):
            writer.writerow(
                [
                    pr.name,
                    *(f"{nu[i, c]:.6g}" if nu[i, c] else "" for c in used),
                    pr.rate_expression(),
                    pr.rate_unit(),
                    f"{pr.k:.6g}",
                    "1/d" if pr.mass is not None else pr.rate_unit(),
                    *(f"{v[i]:.3g}" for v in continuity.values()),
                ]
            )
        return 0
    temp = scenario.temperature.setpoint_c
    name_w = max(len(pr.name) for pr in procs)
    cell_w = max(8, *(len(c.name) for c in used))
    print(f"Petersen matrix of {scenario.scenario.name!r} at {temp:g} °C")
    print(f"{'process':<{name_w}}  " + " ".join(f"{c.name:>{cell_w}}" for c in used))
    print(f"{'':<{name_w}}  " + " ".join(f"{units[c]:>{cell_w}}" for c in used))
    for i, pr in enumerate(procs):
        cells = " ".join(f"{nu[i, c]:>{cell_w}.4g}" if nu[i, c] else " " * cell_w for c in used)
        print(f"{pr.name:<{name_w}}  {cells}")
    print()
    print("rates (S_ = concentration in mg/L, m_ = mass in the compartment in its unit)")
    for pr in procs:
        k_unit = "1/d" if pr.mass is not None else pr.rate_unit()
        print(f"  {pr.name} [{pr.rate_unit()}] = {pr.rate_expression()}")
        print(f"      {pr.k_symbol} = {pr.k:.4g} {k_unit}; {pr.description}")
    print()
    print("continuity per unit of rate (N in g N, charge in meq, COD in g):")
    for i, pr in enumerate(procs):
        parts = ", ".join(f"{k} {v[i]:+.1e}" for k, v in continuity.items())
        print(f"  {pr.name:<{name_w}}  {parts}")
    print("  (fish_respiration burns the fish's own COD, which the model does not hold)")
    return 0
