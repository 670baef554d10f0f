"""Every command through its bad inputs: one line, the thing, the value, what is allowed.

Issue 11 (points 6 and 7) found tracebacks (a store path that is a directory or not a
database, ``export --out`` to a directory, ``demo --broker`` unreachable) and silent success
where an error was due (a mistyped SQLite path created an empty database and exited 0;
``sqlite://x.db`` was accepted; ``export --out week.xlsx`` wrote CSV; an empty scenario ran
as a tank without animals; a reading dated in the future was accepted; ``bridge`` retried
forever on a host name that does not resolve).  Each row below is one of those inputs.

The commands run in-process through :func:`tankeco.cli.main` (an uncaught exception fails
the test the way a traceback would fail the user); the signal and pipe cases at the end
need a real process and run ``python -m tankeco``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tankeco.cli import main
from tankeco.store import open_store

ROOT = Path(__file__).resolve().parents[1]
#: (id, argv with {dir} for the test folder, strings the one line must contain, files that
#: must NOT exist afterwards).  {ok} is a valid store with nothing in it, {root} the
#: repository.
CASES: list[tuple[str, list[str], list[str], list[str]]] = [
    # simulate
    ("simulate-days", ["simulate", "--days", "-1"], ["--days", "-1", "allowed"], []),
    ("simulate-rtol", ["simulate", "--rtol", "5"], ["--rtol", "5", "allowed"], []),
    ("simulate-missing", ["simulate", "{dir}/nope.toml"], ["nope.toml", "no such"], []),
    ("simulate-empty", ["simulate", "{dir}/empty.toml"], ["empty.toml", "empty", "allowed"], []),
    ("simulate-set", ["simulate", "--set", "tank.nonsense=1"], ["tank.nonsense"], []),
    ("simulate-out-file", ["simulate", "--out", "{dir}/notdb.db"], ["--out", "notdb.db"], []),
    ("simulate-usage", ["simulate", "--dayz", "3"], ["--dayz"], []),
    # params
    ("params-none", ["params", "zzzz"], ["zzzz", "allowed"], []),
    # model
    ("model-nothing", ["model"], ["--matrix", "allowed"], []),
    # bridge
    (
        "bridge-status-missing",
        ["bridge", "status", "--store", "sqlite:///{dir}/missing.db"],
        ["missing.db", "no such database file"],
        ["missing.db"],
    ),
    (
        "bridge-status-two-slashes",
        ["bridge", "status", "--store", "sqlite://x.db"],
        ["sqlite://x.db", "sqlite:///x.db", "use sqlite:///PATH"],
        [],
    ),
    (
        "bridge-status-dir",
        ["bridge", "status", "--store", "sqlite:///{dir}/adir"],
        ["adir", "is a directory"],
        [],
    ),
    (
        "bridge-status-notdb",
        ["bridge", "status", "--store", "sqlite:///{dir}/notdb.db"],
        ["notdb.db", "not an SQLite database"],
        [],
    ),
    (
        "bridge-unresolvable",
        ["bridge", "--store", "{ok}", "--broker", "mqtt://no-such-host.invalid:1883"],
        ["--broker", "no-such-host.invalid", "does not resolve", "allowed"],
        [],
    ),
    (
        "bridge-scheme",
        ["bridge", "--store", "{ok}", "--broker", "ftp://x"],
        ["ftp://x", "mqtt"],
        [],
    ),
    (
        "bridge-retention-missing",
        ["bridge", "retention", "--store", "sqlite:///{dir}/missing.db"],
        ["missing.db"],
        ["missing.db"],
    ),
    (
        "export-out-unopenable",  # root passes the permission check; the open still fails
        ["export", "--store", "{ok}", "--out", "/proc/tankeco-week.csv"],
        ["--out '/proc/tankeco-week.csv'"],  # 'not writable' as a user, 'cannot write' as root
        [],
    ),
    (
        "layout-png-unopenable",
        ["layout", "show", "{root}/sims/layouts/seed_same_path.toml", "--png", "/proc/t-x.png"],
        ["--png '/proc/t-x.png': cannot write"],
        [],
    ),
    (
        "layout-png-missing-folder",
        ["layout", "show", "{root}/sims/layouts/seed_same_path.toml", "--png", "{dir}/no/x.png"],
        ["--png '{dir}/no/x.png': cannot write (No such file or directory)"],
        [],
    ),
    # log
    (
        "log-did-you-mean",
        ["log", "nitrat", "20", "--store", "{ok}"],
        ["nitrat", "did you mean 'nitrate'"],
        [],
    ),
    ("log-not-number", ["log", "nitrate", "lots", "--store", "{ok}"], ["lots", "number"], []),
    (
        "log-future",
        ["log", "nitrate", "20", "--kit", "api", "--time", "2999-01-01T00:00Z", "--store", "{ok}"],
        ["--time '2999-01-01T00:00Z': in the future (now is 20", "allowed"],
        [],
    ),
    (
        "log-undo-unknown-id",
        ["log", "undo", "m99", "--store", "{ok}"],
        ["log undo m99: no such entry for home/main"],
        [],
    ),
    (
        "log-undo-not-an-id",
        ["log", "undo", "last", "--store", "{ok}"],
        ["log undo 'last'", "m12", "e3"],
        [],
    ),
    (
        "log-bad-time",
        ["log", "nitrate", "20", "--kit", "api", "--time", "teatime", "--store", "{ok}"],
        ["--time", "teatime"],
        [],
    ),
    (
        "log-missing-store",
        ["log", "nitrate", "20", "--kit", "api", "--store", "sqlite:///{dir}/missing.db"],
        ["missing.db", "no such database file"],
        ["missing.db"],
    ),
    ("log-bad-tz", ["log", "ph", "7", "--tz", "Mars/Base", "--store", "{ok}"], ["Mars/Base"], []),
    # import
    (
        "import-missing-file",
        [
            "import",
            "apex",
            "{dir}/datalog.xml",
            "--store",
            "sqlite:///{dir}/new.db",
            "--tank",
            "main",
        ],
        ["datalog.xml", "no such file"],
        ["new.db"],
    ),
    (
        "import-not-sqlite",
        [
            "import",
            "csv",
            "{dir}/empty.toml",
            "--store",
            "sqlite:///{dir}/notdb.db",
            "--tank",
            "main",
        ],
        ["notdb.db", "not an SQLite database"],
        [],
    ),
    (
        "import-bad-tank",
        ["import", "csv", "{dir}/empty.toml", "--store", "{ok}", "--tank", "main/2"],
        ["--tank", "main/2", "letters, digits"],
        [],
    ),
    # export
    (
        "export-missing",
        ["export", "--store", "sqlite:///{dir}/missing.db"],
        ["missing.db", "no such database file"],
        ["missing.db"],
    ),
    (
        "export-out-dir",
        ["export", "--store", "{ok}", "--out", "{dir}/adir"],
        ["--out", "adir", "directory", "allowed"],
        [],
    ),
    (
        "export-xlsx",
        ["export", "--store", "{ok}", "--out", "{dir}/week.xlsx"],
        ["--out", "week.xlsx", "allowed: .csv or .parquet"],
        ["week.xlsx"],
    ),
    (
        "export-no-folder",
        ["export", "--store", "{ok}", "--out", "{dir}/no/such/folder/x.csv"],
        ["--out", "does not exist"],
        [],
    ),
    (
        "export-suffix-mismatch",
        ["export", "--store", "{ok}", "--out", "{dir}/a.csv", "--format", "parquet"],
        ["a.csv", "parquet"],
        ["a.csv"],
    ),
    ("export-since", ["export", "--store", "{ok}", "--since", "lately"], ["--since", "lately"], []),
    # layout
    ("layout-missing", ["layout", "show", "{dir}/nope.toml"], ["nope.toml"], []),
    # node
    ("node-speed", ["node", "--speed", "-5", "--dry-run"], ["--speed", "-5"], []),
    # plan
    (
        "plan-fraction",
        ["plan", "water-changes", "--max-fraction", "150%"],
        ["--max-fraction", "150%"],
        [],
    ),
    ("plan-limit", ["plan", "water-changes", "--max-no3-n", "lots"], ["--max-no3-n", "lots"], []),
    # sweep
    ("sweep-vary", ["sweep", "--vary", "nonsense"], ["--vary", "nonsense"], []),
    # compare
    (
        "compare-missing",
        ["compare", "--store", "sqlite:///{dir}/missing.db", "--tank", "main"],
        ["missing.db", "no such database file"],
        ["missing.db"],
    ),
    (
        "compare-tz",
        ["compare", "--store", "{ok}", "--tank", "main", "--tz", "Nowhere/X"],
        ["Nowhere/X"],
        [],
    ),
    # dashboard
    (
        "dashboard-missing",
        ["dashboard", "--store", "sqlite:///{dir}/missing.db"],
        ["missing.db", "no such database file"],
        ["missing.db"],
    ),
    (
        "dashboard-max-fraction",
        ["dashboard", "--store", "{ok}", "--max-fraction", "150%"],
        ["--max-fraction '150%'", "up to 100%"],
        [],
    ),
    (
        "dashboard-port",
        ["dashboard", "--store", "{ok}", "--port", "0"],
        ["--port", "0", "allowed"],
        [],
    ),
    # demo
    (
        "demo-broker-down",
        ["demo", "--broker", "mqtt://127.0.0.1:1", "--port", "18765"],
        ["--broker", "127.0.0.1:1", "no MQTT broker answers", "allowed"],
        [],
    ),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "adir").mkdir()
    (tmp_path / "notdb.db").write_text("hello, not a database\n")
    (tmp_path / "empty.toml").write_text("# nothing here yet\n")
    open_store(f"sqlite:///{tmp_path / 'ok.db'}").close()
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "needles", "absent"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line_exit_2(
    argv: list[str], needles: list[str], absent: list[str], folder: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(folder)
    ok = f"sqlite:///{folder / 'ok.db'}"
    args = [
        a.replace("{dir}", str(folder)).replace("{ok}", ok).replace("{root}", str(ROOT))
        for a in argv
    ]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("tankeco: error: "), err
    for needle in needles:
        assert needle.replace("{dir}", str(folder)) in lines[0], (needle, lines[0])
    for name in absent:
        assert not (folder / name).exists(), f"{name} was created"


def test_every_command_has_a_bad_input_row() -> None:
    from tankeco.cli import COMMAND_MODULES

    commands = {m.rsplit("cmd_", 1)[1] for m in COMMAND_MODULES}
    covered = {c[1][0] for c in CASES}
    assert commands <= covered, commands - covered


def test_every_option_has_help_text() -> None:
    """``tankeco X --help`` explains every option (issue 11, point 10)."""
    import argparse

    from tankeco.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path} {(action.option_strings or [action.dest])[0]}")

    walk(build_parser(), "tankeco")
    assert missing == []


def test_help_has_no_raw_rest_markup() -> None:
    """No ``double back-quotes`` (reStructuredText) in any --help page."""
    import argparse

    from tankeco.cli import build_parser

    pages = []

    def walk(parser: argparse.ArgumentParser) -> None:
        pages.append(parser.format_help())
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    assert not [p for p in pages if "``" in p or ":func:" in p]


def _tankeco(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tankeco", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_params_into_a_closed_pipe_is_quiet() -> None:
    """``tankeco params | head -1``: no BrokenPipeError traceback."""
    proc = subprocess.run(
        f"{sys.executable} -m tankeco params | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_simulate_stopped_by_a_signal_is_one_line(tmp_path: Path, sig: int, code: int) -> None:
    """Ctrl-C or SIGTERM while the kernel runs: one line and 128 + the signal, no traceback.

    The numba kernel calls back into Python; a KeyboardInterrupt there surfaced as
    ``SystemError: CPUDispatcher(...) returned a result with an exception set``.
    """
    proc = _tankeco(
        "simulate", "--days", "3000", "--no-plot", "--out", str(tmp_path / "run"),
    )  # fmt: skip
    deadline = time.monotonic() + 600
    # wait until the kernel is running (the progress bar or the compile notice is up)
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(2.0)
        if (tmp_path / "run").exists():
            time.sleep(3.0)
            break
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("tankeco: error: "), err


def test_help_examples_keep_their_line_breaks() -> None:
    """An example continued with a backslash shows the backslash and the next line.

    ``dashboard --help`` printed ``... mqtts://ha.local:8883                     --username``
    on one line: a single backslash at the end of a line inside the module's string
    joined the two lines before argparse saw them.
    """
    import argparse
    import re

    from tankeco.cli import build_parser

    joined = []

    def walk(parser: argparse.ArgumentParser) -> None:
        for line in parser.format_help().splitlines():
            if line.lstrip().startswith("tankeco ") and re.search(r"\S {8,}--", line):
                joined.append(line)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    assert joined == []


def test_compare_out_that_cannot_be_created_is_one_line(tmp_path: Path, capsys) -> None:
    """``compare --out /proc/x`` ended in a FileNotFoundError traceback from mkdir."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    open_store(url).close()
    assert main(["log", "nitrate", "20", "--kit", "api", "--store", url]) == 0
    capsys.readouterr()
    code = main(["compare", "--store", url, "--tank", "main", "--since", "1d", "--no-plot",
                 "--out", "/proc/tankeco-cmp"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("tankeco: error: --out /proc/tankeco-cmp: cannot create"), err
