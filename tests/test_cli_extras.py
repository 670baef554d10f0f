"""Core install vs extras: a command whose extra is missing says which one, in one line.

Each case runs ``tankeco`` in a fresh interpreter in which the optional packages are made
unimportable (``sys.modules[name] = None`` makes ``import name`` raise
ModuleNotFoundError, as on a machine where the extra was never installed).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
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


def _requirements() -> dict[str, list[str]]:
    """pyproject's core requirements (key "") and extras, as lower-case distribution names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {
        k: [re.split(r"[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in v] for k, v in groups.items()
    }


def _names(requirement: str) -> set[str]:
    """'dask[distributed]' declares dask and distributed; 'psycopg[binary]' psycopg."""
    base, _, extras = requirement.partition("[")
    return {base, *extras.rstrip("]").split(",")} - {""}


def test_every_extra_the_cli_names_installs_that_package() -> None:
    req = _requirements()
    dists = importlib.metadata.packages_distributions()
    for package, extra in EXTRA_OF_PACKAGE.items():
        declared = set().union(*(_names(r) for r in req[extra]))
        assert {d.lower() for d in dists[package]} & declared, (package, extra)


def test_the_test_extra_pulls_every_other_extra() -> None:
    req = _requirements()
    others = set(req) - {"", "test"}
    pulled = [r for r in req["test"] if r.startswith("tankeco[")]
    assert pulled and set().union(*(_names(r) - {"tankeco"} for r in pulled)) == others


# MicroPython modules of the sensor board: tests/devices fakes them, nothing installs them.
BOARD_MODULES = {"machine", "network", "onewire", "ds18x20", "ntptime", "umqtt", "config"}
BOARD_MODULES |= {"tankeco_node"}  # the board's own program, loaded by path


def test_every_package_the_tests_import_is_declared() -> None:
    """An undeclared test import works here by luck and breaks on a fresh install."""
    req = _requirements()
    declared = set().union(*(_names(r) for group in req.values() for r in group))
    dists = importlib.metadata.packages_distributions()
    local = {"tankeco", "tests"} | BOARD_MODULES | set(sys.stdlib_module_names)
    undeclared = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names} - local:
                owners = {d.lower() for d in dists.get(top, [top])}
                if not owners & declared:
                    undeclared[top] = str(path.relative_to(ROOT))
    assert not undeclared, f"imported by the tests but not in pyproject.toml: {undeclared}"
