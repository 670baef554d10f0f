"""Where numba's compile cache goes (issue 11, point 1): never inside the package.

The install-level test is tests/test_install_fresh_venv.py; these check the rule itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tankeco

ROOT = Path(__file__).resolve().parents[1]


def _cache_dir(env: dict[str, str]) -> str:
    code = "import tankeco, os; print(os.environ['NUMBA_CACHE_DIR'])"
    full = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    full.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, check=True
    ).stdout.strip()


def test_default_is_the_users_cache_not_the_package(tmp_path: Path) -> None:
    got = Path(_cache_dir({"HOME": str(tmp_path)}))
    assert got == tmp_path / ".cache" / "tankeco" / "numba"
    package = Path(tankeco.__file__).resolve().parent
    assert package not in got.parents


def test_xdg_cache_home_and_numba_cache_dir_are_honoured(tmp_path: Path) -> None:
    assert _cache_dir({"XDG_CACHE_HOME": str(tmp_path / "xdg")}) == str(
        tmp_path / "xdg" / "tankeco" / "numba"
    )
    assert _cache_dir({"NUMBA_CACHE_DIR": str(tmp_path / "mine")}) == str(tmp_path / "mine")


def test_numba_reads_it_when_tankeco_comes_first(tmp_path: Path) -> None:
    code = "import tankeco; from numba.core import config; print(config.CACHE_DIR)"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("XDG_CACHE_HOME", None)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    assert out == str(tmp_path / ".cache" / "tankeco" / "numba")
