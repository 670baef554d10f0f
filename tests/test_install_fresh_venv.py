"""The README's two commands, in order, on a fresh virtual environment (issue 11, point 1).

``pip install .`` then ``tankeco simulate`` used to write numba's compile cache into
``site-packages/tankeco/**/__pycache__``; the following ``pip install -e`` removed the
regular install but left those folders behind, Python then took the leftover
``site-packages/tankeco`` for a namespace package and every ``tankeco`` call failed with
``ImportError: cannot import name '__version__' from 'tankeco' (unknown location)``.

The suite's other tests run ``python -m tankeco`` from the repository and cannot see this,
so this one builds a real venv, installs tankeco into it twice as the README does and runs
the installed console script from another directory.  To stay within a few minutes the
venv sees the already-installed dependencies (``--system-site-packages``) and pip installs
only tankeco itself (``--no-deps``; its build backend comes from the machine's pip index);
what is under test, tankeco's own folder in the venv's site-packages, is the same as on a
fresh machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a new user: no PYTHONPATH into a checkout, no numba cache override."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    env["HOME"] = str(home)
    env.pop("XDG_CACHE_HOME", None)
    env["MPLCONFIGDIR"] = str(home / "mpl")
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_readme_install_then_editable_install_keeps_tankeco_working(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git to copy the checkout")
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    # A copy of the checkout, so the editable install never touches the developer's tree.
    src = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    tankeco = str(venv / "bin" / "tankeco")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # README, first line: pip install . && tankeco simulate (shortened to 5 days)
    _run([*pip, "."], src, env)
    _run([tankeco, "simulate", "--days", "5", "--no-plot", "--quiet"], elsewhere, env)
    site = Path(
        _run(
            [str(venv / "bin" / "python"), "-c", PURELIB],
            elsewhere,
            env,
        ).stdout.strip()
    )
    # README, second line (the editable-over-regular switch; the [test] extra only adds
    # packages and is left out to keep this test short).
    _run([*pip, "-e", "."], src, env)
    # before the fix this failed: ImportError: cannot import name '__version__' from
    # 'tankeco' (unknown location)
    proc = _run([tankeco, "--help"], elsewhere, env)
    assert "tankeco simulate --days 90" in proc.stdout
    leftovers = list((site / "tankeco").rglob("*")) if (site / "tankeco").exists() else []
    assert leftovers == [], f"left in site-packages after pip install -e: {leftovers[:3]}"
    _run([tankeco, "--version"], elsewhere, env)
    user_cache = list((home / ".cache" / "tankeco" / "numba").rglob("*.nbi"))
    assert user_cache, "the compile cache did not go to ~/.cache/tankeco/numba"
