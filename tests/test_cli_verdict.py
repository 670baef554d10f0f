"""The plain verdict of ``tankeco simulate`` and ``--strict`` (issue 11, point 10).

A run with soft tap water spent 47.6 days above the nitrite limit and still ended with
exit code 0 and no word of warning.  The README's own example of it ("the pH crash that
follows around day 40-50" with ``tap.alk_mg_l_caco3=100``) is the case here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _simulate(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "tankeco", "simulate", "--no-plot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_soft_water_run_names_the_breach_its_cause_and_a_remedy_that_works(
    tmp_path: Path,
) -> None:
    # Tap water of 100 mg/L CaCO3 cannot pay for the seed tank's nitrification (7.14 g
    # CaCO3 per g N): alkalinity sits below 40 mg/L from the start, the oxidisers slow,
    # and ammonia after the turtle's meal pushes free ammonia over its limit.
    out = tmp_path / "run"
    proc = _simulate(
        "--days", "90", "--set", "tap.alk_mg_l_caco3=100", "--out", str(out), "--strict"
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    assert "verdict: LIMITS BROKEN" in text
    assert "- free ammonia NH3 > " in text
    assert "likely cause: alkalinity exhausted on day" in text
    assert "buffer.enabled=true" in text
    verdict = json.loads((out / "summary.json").read_text())["verdict"]
    assert verdict["ok"] is False
    nh3 = next(b for b in verdict["breaches"] if b["column"] == "nh3_mg_l")
    assert nh3["cause"].startswith("alkalinity exhausted on day")
    assert "buffer.enabled=true" in nh3["prevent"]
    # The remedy the verdict names removes that breach (nitrate, a matter of water
    # changes, stays).
    buffered = tmp_path / "buffered"
    proc = _simulate(
        "--days", "90", "--set", "tap.alk_mg_l_caco3=100", "--set", "buffer.enabled=true",
        "--out", str(buffered), "--strict",
    )  # fmt: skip
    columns = [b["column"] for b in json.loads((buffered / "summary.json").read_text())[
        "verdict"]["breaches"]]  # fmt: skip
    assert "nh3_mg_l" not in columns and "no2_n_mg_l" not in columns


@pytest.mark.slow
def test_a_run_within_its_limits_exits_0_with_strict(tmp_path: Path) -> None:
    # the seed tank for 3 days starting (and fed by tap water) at 2 mg NO3-N/L: its
    # nitrate cannot reach 10 mg N/L in 3 days and ammonia/nitrite stay low (mature bed)
    out = tmp_path / "run"
    proc = _simulate(
        "--days", "3", "--set", "start.no3_n_mg_l=2", "--set", "tap.no3_n_mg_l=0",
        "--out", str(out), "--strict",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: every limit kept" in proc.stdout
    assert json.loads((out / "summary.json").read_text())["verdict"]["ok"] is True
