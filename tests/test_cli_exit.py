"""How the ``tankeco`` script ends (issue 11, point 8: the warm run's start-up and exit).

``simulate`` ends the process without Python's teardown (0.2-0.35 s of freeing numba's and
matplotlib's objects): its outputs and its stdout must still be complete and its exit
code the one main() returned; every other command ends the ordinary way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the script's entry point, with an atexit handler that says whether teardown ran
SCRIPT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('TEARDOWN RAN', file=sys.stderr))\n"
    "from tankeco.cli import entry\n"
    "sys.argv = ['tankeco', *sys.argv[1:]]\n"
    "raise SystemExit(entry())\n"
)


def _script(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False,
    )  # fmt: skip


def test_simulate_skips_teardown_and_leaves_complete_outputs(tmp_path: Path) -> None:
    proc = _script("simulate", "--days", "2", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "TEARDOWN RAN" not in proc.stderr
    # stdout was flushed before the process ended: the summary through its last line
    assert proc.stdout.rstrip().splitlines()[-1].startswith("wrote ")
    assert "nitrate at the end" in proc.stdout
    json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    png = (tmp_path / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82")
    lines = (tmp_path / "timeseries.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 2 * 24 + 1  # header, hourly samples over two days, both ends


def test_the_exit_code_survives_the_quick_exit(tmp_path: Path) -> None:
    """--strict on the seed tank, whose nitrate is above the limit from day 0: exit 1."""
    proc = _script("simulate", "--days", "1", "--no-plot", "--strict", "--out", str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "TEARDOWN RAN" not in proc.stderr


def test_other_commands_end_the_ordinary_way() -> None:
    proc = _script("params")
    assert proc.returncode == 0, proc.stderr
    assert "TEARDOWN RAN" in proc.stderr


def test_main_called_in_process_returns(tmp_path: Path) -> None:
    """Scripts and tests call main(): it returns the code and never ends their process."""
    from tankeco.cli import main

    assert main(["simulate", "--days", "1", "--no-plot", "--quiet", "--out", str(tmp_path)]) == 0
