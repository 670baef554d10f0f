"""``tankeco simulate`` and ``tankeco params`` as a keeper uses them."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tankeco.cli import main
from tankeco.scenario.params import PARAMETERS

REPO = Path(__file__).resolve().parents[1]
REQUIRED = [
    "time_d",
    "tan_mg_l",
    "nh3_mg_l",
    "no2_n_mg_l",
    "no3_n_mg_l",
    "do_mg_l",
    "ph",
    "alk_mg_l_caco3",
    "temp_c",
    "aob_g",
    "nob_g",
]


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tankeco", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed")
    proc = run_cli("simulate", "--days", "15", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "nitrate at the end" in proc.stdout
    return out


def test_simulate_writes_the_four_outputs(seed_run):
    for name in ("timeseries.csv", "events.csv", "summary.json", "report.png"):
        assert (seed_run / name).stat().st_size > 0, name
    png = (seed_run / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeseries_is_hourly_with_the_documented_columns(seed_run):
    ts = pd.read_csv(seed_run / "timeseries.csv")
    assert list(ts.columns[: len(REQUIRED)]) == REQUIRED
    assert len(ts) == 15 * 24 + 1
    assert ts["time_d"].diff().dropna().sub(1 / 24).abs().max() < 1e-7


def test_summary_has_the_nitrogen_balance(seed_run):
    doc = json.loads((seed_run / "summary.json").read_text())
    nb = doc["nitrogen_balance"]
    assert set(nb) >= {"in", "out", "stored", "residual", "relative_residual"}
    assert abs(nb["relative_residual"]) < 1e-6
    assert doc["summary"]["peak_tan_mg_l"]["value"] > 0


def test_events_log_the_feedings_and_the_water_change(seed_run):
    ev = pd.read_csv(seed_run / "events.csv")
    assert (ev["event"] == "feeding").sum() == 15 + 8  # fish daily, turtle every other day
    assert (ev["event"] == "water_change").sum() == 2  # days 7 and 14


def test_set_overrides_change_the_run(tmp_path):
    proc = run_cli(
        "simulate",
        "--days",
        "3",
        "--out",
        str(tmp_path),
        "--no-plot",
        "--quiet",
        "--set",
        "tap.no3_n_mg_l='40 ppm NO3'",
        "--set",
        "start.no3_n_mg_l=9",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert ts["no3_n_mg_l"].iloc[0] == pytest.approx(9.0)
    assert not (tmp_path / "report.png").exists()


@pytest.mark.parametrize(
    ("args", "must_name"),
    [
        (["--set", "tank.colour=blue"], "tank.colour"),
        (["--set", "tank.length_cm=wide"], "tank.length_cm"),
        (["--set", "bed.porosity=-0.4"], "bed.porosity"),
        (["--set", "tank.water_depth_cm=50"], "tank.water_depth_cm"),
        (["--set", "water_changes.fraction=1.5"], "water_changes.fraction"),
        (["--set", "tank.length_cm='60 furlongs'"], "furlongs"),
        (["--set", "params.mu_max_aob_d=99"], "params.mu_max_aob_d"),
        (["--set", "params.no_such_rate=1"], "params.no_such_rate"),
        (["missing_tank.toml"], "missing_tank.toml"),
        (["--days", "-3"], "--days"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, must_name, tmp_path):
    proc = run_cli("simulate", *args, "--out", str(tmp_path), "--no-plot")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert must_name in lines[0]


def test_unreadable_toml_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[tank\nlength_cm = 60\n")
    proc = run_cli("simulate", str(bad), "--out", str(tmp_path), "--no-plot")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "bad.toml" in proc.stderr and "TOML" in proc.stderr


def test_params_lists_every_parameter_with_unit_and_source(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    for p in PARAMETERS.values():
        assert p.name in out
        assert p.unit in out
    assert main(["params", "--json", "aob"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all("aob" in r["name"] for r in rows)
    assert all(r["source"] for r in rows)


def test_simulate_help_teaches_with_examples():
    proc = run_cli("simulate", "--help")
    assert proc.returncode == 0
    assert "--set" in proc.stdout and "examples:" in proc.stdout
