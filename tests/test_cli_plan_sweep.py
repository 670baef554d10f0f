"""``tankeco plan water-changes`` and ``tankeco sweep`` as a keeper uses them, including a
sweep on a two-worker Dask cluster that must give the local numbers."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tankeco", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=600,
    )


def test_plan_recommends_and_assesses_a_schedule(tmp_path):
    r = run_cli(
        "plan", "water-changes", "--max-no3-n", "40 ppm NO3", "--intervals", "3",
        "--fractions", "45%,50%", "--mc", "3", "--out", str(tmp_path),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "nitrate <= 9.04 mg N/L" in r.stdout
    assert "50 % every 3 d" in r.stdout and "P(NO3)" in r.stdout
    rec = pd.read_csv(tmp_path / "plan_recommended.csv")
    assert list(rec["fraction"]) == [0.5] and 0 <= rec["p_schedule"].iloc[0] <= 1
    assert (tmp_path / "plan.png").stat().st_size > 10_000
    assert (tmp_path / "risk.png").stat().st_size > 10_000


def test_plan_strict_exits_1_when_no_schedule_reaches_max_risk(tmp_path):
    """Every change missed: nitrate climbs in every draw, so no schedule is safe; the
    verdict is one plain line, exit 0 by default and 1 under --strict (simulate's code)."""
    args = (
        "plan", "water-changes", "--intervals", "3", "--fractions", "50%", "--mc", "2",
        "--set", "params.mc_missed_change_probability=1", "--no-plot", "--out", str(tmp_path),
    )  # fmt: skip
    plain = run_cli(*args)
    assert plain.returncode == 0, plain.stderr
    line = [x for x in plain.stdout.splitlines() if x.startswith("recommendation:")]
    assert len(line) == 1 and "NONE" in line[0] and "50 % every 3 d" in line[0]
    strict = run_cli(*args, "--strict")
    assert strict.returncode == 1, strict.stderr
    assert "Traceback" not in strict.stderr


@pytest.mark.parametrize(
    "args, names",
    [
        (["plan", "water-changes", "--max-no3-n", "40 furlongs"], ["--max-no3-n", "furlongs"]),
        (["plan", "water-changes", "--max-nh3", "1 mg/L NH4"], ["--max-nh3", "NH3"]),
        (["plan", "water-changes", "--max-fraction", "150%"], ["--max-fraction", "up to 1"]),
        (["plan", "water-changes", "--set", "tank.lenght_cm=60"], ["tank.lenght_cm", "length_cm"]),
        (["sweep", "--vary", "tank.colour=1:2"], ["tank.colour", "allowed"]),
        (["sweep", "--vary", "water_changes.fraction=0:2"], ["water_changes.fraction", "0"]),
        (["sweep", "--vary", "water_changes.fraction"], ["--vary", "KEY=LOW:HIGH"]),
        (["sweep", "--vary", "pump.flow_l_h=1:2", "--method", "sobol"], ["--method", "lhs"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, names):
    r = run_cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for name in names:
        assert name in lines[0]


ARGS = [
    "sweep", "--vary", "water_changes.fraction=20%:50%", "--vary", "params.mu_max_aob_d=0.5:1.5",
    "--method", "lhs", "--n", "4", "--seed", "3", "--days", "6", "--chunk", "1", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "local.parquet"
    r = run_cli(*ARGS, "--out", str(out))
    assert r.returncode == 0, r.stderr
    return pd.read_parquet(out)


def test_sweep_writes_every_run(local_sweep):
    df = local_sweep
    assert list(df["run"]) == [0, 1, 2, 3] and df["ok"].all()
    # a Latin hypercube: one run in each quarter of each range
    for key, lo, hi in (("water_changes.fraction", 0.2, 0.5), ("params.mu_max_aob_d", 0.5, 1.5)):
        strata = sorted(((df[key] - lo) / (hi - lo) * 4).astype(int))
        assert strata == [0, 1, 2, 3]
    assert (df["n_relative_residual"].abs() < 1e-6).all()
    # more water changed, less nitrate
    by_fraction = df.sort_values("water_changes.fraction")
    assert by_fraction["no3_n_max_mg_l"].is_monotonic_decreasing


@pytest.mark.slow
def test_sweep_on_a_dask_cluster_matches_the_local_run(local_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        out = tmp_path / "dask.parquet"
        r = run_cli(*ARGS, "--out", str(out), "--scheduler", cluster.scheduler_address)
        assert r.returncode == 0, r.stderr
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out), local_sweep)
