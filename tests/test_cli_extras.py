"""Core install vs extras: a command whose extra is missing says which one, in one line.

Each case runs ``tankeco`` in a fresh interpreter in which the optional packages are made
unimportable (``sys.modules[name] = None`` makes ``import name`` raise
ModuleNotFoundError, as on a machine where the extra was never installed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tankeco.cli.extras import EXTRA_OF_PACKAGE

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = sorted(EXTRA_OF_PACKAGE)


def tankeco_without(
    blocked: list[str], args: list[str], cwd: Path, timeout_s: float = 120
) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None\n"
        "from tankeco.cli import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout_s
    )


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        (
            ["paho"],
            ["bridge", "--broker", "mqtt://127.0.0.1:1", "--store", "sqlite:///s.db"],
            "bridge",
        ),
        (["starlette"], ["dashboard", "--store", "sqlite:///s.db"], "dashboard"),
        (["pyarrow"], ["export", "--store", "sqlite:///s.db", "--out", "x.parquet"], "parquet"),
        (["psycopg"], ["export", "--store", "postgresql://127.0.0.1:5432/test"], "postgres"),
    ],
)
def test_missing_extra_is_one_line_naming_it(blocked, args, extra, tmp_path) -> None:
    p = tankeco_without(blocked, args, tmp_path)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        f"tankeco: error: tankeco {args[0]} needs the '{extra}' extra ({blocked[0]} is not "
        f"installed): pip install 'tankeco[{extra}]'"
    ]


def test_simulate_needs_no_extra(tmp_path) -> None:
    """The README's first command works with every optional package missing."""
    # the first run may compile the kernel (numba, minutes on a loaded machine)
    p = tankeco_without(OPTIONAL, ["simulate", "--days", "3", "--out", str(tmp_path)], ROOT, 600)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "summary.json").exists() and (tmp_path / "report.png").exists()


def test_a_missing_core_module_is_not_blamed_on_an_extra(tmp_path) -> None:
    """Only packages an extra provides get the extra's message; anything else is a bug."""
    p = tankeco_without(["simpy"], ["simulate", "--days", "1", "--out", str(tmp_path)], ROOT)
    assert p.returncode == 1
    assert "ModuleNotFoundError" in p.stderr and "extra" not in p.stderr
