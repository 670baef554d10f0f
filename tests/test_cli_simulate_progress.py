"""The first run says that it compiles, before compiling (issue 11, point 8).

It used to run 29-36 s with nothing printed.  With an empty numba cache the first line on
stderr must say so and where the cache goes, while the compile is still running (the
process is stopped right after that line: the compile itself is not waited for).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tankeco.cli.cmd_simulate import kernel_cache_is_cold

ROOT = Path(__file__).resolve().parents[1]


def test_cold_cache_announces_the_compile_before_the_first_day(tmp_path: Path) -> None:
    cache = tmp_path / "numba"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tankeco", "simulate", "--days", "1", "--no-plot",
         "--out", str(tmp_path / "run")],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stderr.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=300)
        still_compiling = proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    assert "compiling the simulator once" in first, first
    assert str(cache) in first
    assert still_compiling, "the notice must come before the run is done, not after"


def test_cache_state_is_read_from_numbas_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "empty"))
    assert kernel_cache_is_cold()
