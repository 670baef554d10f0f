"""The ``tankeco`` command.

Each sub-command lives in its own module under :mod:`tankeco.cli` and exposes
``register(subparsers)``; this module only wires them together and turns what goes wrong
into one line on stderr, always starting ``tankeco: error:``, and an exit code:

==== ==========================================================================
0    done
1    ``simulate --strict``: the run broke a water-quality limit (see the verdict)
2    bad input (the line names the thing, the value and what is allowed)
3    the model failed on a valid input (not the user's fault)
130  interrupted by Ctrl-C (SIGINT), 128 + 2
141  the reader of the output went away (``tankeco params | head -1``), 128 + SIGPIPE
143  stopped by SIGTERM (``kill``), 128 + 15
==== ==========================================================================
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

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
    "tankeco.cli.cmd_import",
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


#: Exit codes (see the module docstring); the shell convention 128 + signal number.
EXIT_BREACH = 1
EXIT_USER = 2
EXIT_MODEL = 3
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGPIPE = 141
EXIT_SIGTERM = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Python next runs bytecode, so it unwinds like Ctrl-C."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit code 2, no usage dump)."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised via CLI tests
        self.exit(EXIT_USER, f"tankeco: error: {self.prog}: {message}\n")


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


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C/SIGTERM an exception stands for, if any.

    A signal that arrives while a numba kernel calls back into Python surfaces as
    ``SystemError: CPUDispatcher(...) returned a result with an exception set`` whose
    context is the KeyboardInterrupt; walk the chain to find it.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _quiet_broken_pipe() -> int:
    """The reader closed the pipe: stop without a traceback, as ``yes | head -1`` does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_SIGPIPE


def _stopped(exc: KeyboardInterrupt) -> int:
    if isinstance(exc, Terminated):
        print("tankeco: error: stopped by SIGTERM", file=sys.stderr)
        return EXIT_SIGTERM
    print("tankeco: error: interrupted (Ctrl-C)", file=sys.stderr)
    return EXIT_SIGINT


#: Sub-commands that leave nothing to clean up when they return: every file they wrote is
#: closed, and no connection, thread or child process is left.  The ``tankeco`` script ends
#: them without the interpreter's teardown (:func:`_exit_without_teardown`).
NOTHING_LEFT_OPEN = frozenset({"simulate"})


def _exit_without_teardown(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process at once with ``code``.

    Python's teardown frees every object of every module one by one; after numba and
    matplotlib are loaded that took 0.2-0.35 s of CPU, longer than simulating 90 days.
    ``os._exit`` skips it, and with it the atexit handlers (logging, numba's and llvmlite's
    shutdown, matplotlib's figure registry), none of which a finished ``simulate`` needs.
    """
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _quiet_broken_pipe()
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, exit_process: bool = False) -> int:
    """Run the command in ``argv`` (default: the command line); its exit code.

    With ``exit_process`` (the ``tankeco`` script, :func:`entry`) a command of
    :data:`NOTHING_LEFT_OPEN` ends the process itself instead of returning.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER
    # only the main thread may set a handler (main() called from a worker thread keeps its own)
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if on_main else None
    if previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = _run(args)
    finally:  # main() called in-process (tests, scripts) leaves the handler as it was
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if exit_process and on_main and args.command in NOTHING_LEFT_OPEN:
        _exit_without_teardown(code)
    return code


def entry() -> int:
    """The ``tankeco`` script and ``python -m tankeco``: :func:`main` on the command line."""
    return main(exit_process=True)


def _run(args: argparse.Namespace) -> int:
    """The sub-command, with every way it can end turned into a line and an exit code."""
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except UserError as exc:
        print(f"tankeco: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except ModelError as exc:
        print(f"tankeco: error: the model failed (not your input): {exc}", file=sys.stderr)
        return EXIT_MODEL
    except ModuleNotFoundError as exc:
        message = missing_extra(args.command, exc)
        if message is None:
            raise
        print(f"tankeco: error: {message}", file=sys.stderr)
        return EXIT_USER
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    except SystemError as exc:
        interrupt = _interrupt_behind(exc)
        if interrupt is None:
            raise
        return _stopped(interrupt)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(entry())
