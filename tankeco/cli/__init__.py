"""The ``tankeco`` command.

Each sub-command lives in its own module under :mod:`tankeco.cli` and exposes
``register(subparsers)``; this module only wires them together and turns
:class:`~tankeco.errors.UserError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tankeco import __version__
from tankeco.cli.extras import missing_extra
from tankeco.errors import ModelError, UserError

#: Sub-command modules, in the order ``tankeco --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "tankeco.cli.cmd_simulate",
    "tankeco.cli.cmd_params",
    "tankeco.cli.cmd_model",
    "tankeco.cli.cmd_bridge",
    "tankeco.cli.cmd_log",
    "tankeco.cli.cmd_export",
    "tankeco.cli.cmd_layout",
    "tankeco.cli.cmd_node",
    "tankeco.cli.cmd_plan",
    "tankeco.cli.cmd_sweep",
    "tankeco.cli.cmd_compare",
    "tankeco.cli.cmd_dashboard",
    "tankeco.cli.cmd_demo",
)

DESCRIPTION = """\
tankeco: aquarium ecosystem simulator and monitor.

  tankeco simulate --days 90          forecast the nitrogen cycle of the seed tank
  tankeco simulate my_tank.toml       ... of your own tank (copy sims/seed_tank.toml)
  tankeco params                      every model parameter with unit, default and source
  tankeco model --matrix              the Petersen matrix: processes, components, rates
  tankeco layout show LAYOUT.toml     per-hole flow and uniformity of a filter pipe layout
  tankeco plan water-changes          schedules that keep the limits, and their risk
  tankeco sweep --vary KEY=LOW:HIGH   many runs at once (locally or on Dask) to Parquet

Run 'tankeco COMMAND --help' for the options of each command.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit code 2, no usage dump)."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised via CLI tests
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tankeco",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tankeco {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"tankeco: error: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"tankeco: model error: {exc}", file=sys.stderr)
        return 3
    except ModuleNotFoundError as exc:
        message = missing_extra(args.command, exc)
        if message is None:
            raise
        print(f"tankeco: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tankeco: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
