"""``tankeco params``: every model parameter with unit, default, range and source."""

from __future__ import annotations

import argparse
import json
import textwrap

from tankeco.errors import UserError
from tankeco.scenario.params import PARAMETERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "params",
        help="list every model parameter with unit, default and source",
        description="List the model parameters. Override any of them in a scenario's "
        "[params] table or with 'tankeco simulate --set params.NAME=VALUE'.",
    )
    p.add_argument("filter", nargs="?", default="", help="show only names containing this")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = [p for p in PARAMETERS.values() if args.filter.lower() in p.name.lower()]
    if not rows:
        raise UserError(
            f"params {args.filter!r}: no parameter name contains it;"
            " allowed: part of a name that 'tankeco params' lists"
        )
    if args.json:
        print(json.dumps([p.__dict__ for p in rows], indent=2))
        return 0
    width = max(len(p.name) for p in rows)
    for p in rows:
        print(f"{p.name:<{width}}  {p.default:>10g} {p.unit:<14} [{p.low:g}..{p.high:g}]")
        text = p.source + (f" - {p.note}" if p.note else "")
        print(textwrap.indent(textwrap.fill(text, 90), " " * (width + 2)))
    return 0
