"""One policy for nitrogen units at every entry point (issue 11, point 2).

Before: ``--set "tap.no3_n_mg_l=40 ppm"``, a scenario file's ``"40 ppm"`` and ``plan
water-changes --max-no3-n "40 ppm"`` were read as 40 mg N/L (177 ppm as NO3), while the
bridge and ``log`` refused the same text.  A keeper with an API card (which reads nitrate
as NO3) got answers 4.4x off.  Now a nitrogen value with a unit but no basis is refused
everywhere, with one line that offers both bases; "40 ppm NO3" is 40 / 4.427 mg N/L
everywhere (Hach technical note TE387: NO3-N = NO3 / 4.427).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.validate import Validator
from tankeco.errors import ScenarioError
from tankeco.plan.limits import parse_nh3, parse_no3_n
from tankeco.reasons import Rejected
from tankeco.scenario.loading import load_scenario, parse_scenario
from tankeco.units.parse import parse_quantity
from tests.bridge.helpers import NOW_MS
from tests.test_cli_export_log import tankeco

ADVICE = (
    "nitrate needs its basis: write '40 ppm NO3' (as the ion, API cards) "
    "or '40 mg/L NO3-N' (as nitrogen)"
)
#: 40 ppm as NO3, as N (Hach TE387: divide by 4.427).
AS_N = 40 / 4.427


def assert_refused_in_one_line(run: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_scenario_file_refuses_a_unit_without_basis() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario('[tap]\nno3_n_mg_l = "40 ppm"\n')
    assert str(info.value) == f"tap.no3_n_mg_l = '40 ppm': {ADVICE}"
    ok = parse_scenario('[tap]\nno3_n_mg_l = "40 ppm NO3"\n')
    assert ok.tap.no3_n_mg_l == pytest.approx(AS_N)


def test_set_refuses_a_unit_without_basis() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, ["tap.no3_n_mg_l=40 ppm"])
    assert str(info.value) == f"tap.no3_n_mg_l = '40 ppm': {ADVICE}"


def test_set_on_the_command_line_exits_2_with_the_advice() -> None:
    run = tankeco("simulate", "--days", "1", "--set", "tap.no3_n_mg_l=40 ppm")
    assert_refused_in_one_line(run, "tap.no3_n_mg_l = '40 ppm'", ADVICE)


@pytest.mark.parametrize(
    ("key", "text", "fragment"),
    [
        ("tap.no3_n_mg_l", "40 mg/L", "'40 mg/L NO3' (as the ion, API cards)"),
        ("tap.no2_n_mg_l", "1 ppm", "nitrite needs its basis: write '1 ppm NO2'"),
        ("tap.tan_mg_l", "1 ppm", "total ammonia needs its basis: write '1 ppm NH3'"),
        ("start.no3_n_mg_l", "5 ppm", "'5 mg/L NO3-N' (as nitrogen)"),
    ],
)
def test_every_nitrogen_key_wants_its_basis(key: str, text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_quantity(key, text)
    assert fragment in str(info.value)


def test_a_plain_number_in_an_as_n_key_stays_as_n() -> None:
    """The key's name (``_n_mg_l``) says its basis, so a bare number is not ambiguous."""
    assert parse_quantity("tap.no3_n_mg_l", 40) == 40.0
    assert parse_quantity("tap.no3_n_mg_l", "40") == 40.0


def test_plan_limits_refuse_a_unit_without_basis() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_no3_n("40 ppm")
    assert str(info.value) == f"--max-no3-n = '40 ppm': {ADVICE}"
    assert parse_no3_n("40 ppm NO3") == pytest.approx(AS_N)
    with pytest.raises(ScenarioError) as info:
        parse_nh3("0.02 ppm")
    assert "'0.02 ppm NH3'" in str(info.value) and "'0.02 mg/L NH3-N'" in str(info.value)
    # a plain number for --max-nh3 is mg NH3/L, as the option's name says
    assert parse_nh3("0.02") == pytest.approx(0.02 / 1.216)


def test_plan_on_the_command_line_exits_2_with_the_advice() -> None:
    run = tankeco("plan", "water-changes", "--max-no3-n", "40 ppm", "--mc", "0")
    assert_refused_in_one_line(run, "--max-no3-n = '40 ppm'", ADVICE)


@pytest.mark.parametrize("amount_and_unit", [["20", "--unit", "ppm"], ["20 ppm"]])
def test_log_refuses_a_unit_without_basis(tmp_path: Path, amount_and_unit: list[str]) -> None:
    store = f"sqlite:///{tmp_path / 'log.db'}"
    run = tankeco("log", "nitrate", *amount_and_unit, env_store=store)
    assert_refused_in_one_line(
        run,
        "nitrate needs its basis: write '20 ppm NO3' (as the ion, API cards)",
        "'20 mg/L NO3-N' (as nitrogen)",
    )
    ok = tankeco("log", "nitrate", "20 ppm NO3", env_store=store)
    assert ok.returncode == 0, ok.stderr
    assert "4.518 mg/L NO3-N" in ok.stdout  # 20 / 4.427


def test_bridge_validation_refuses_a_unit_without_basis() -> None:
    def candidate(unit: str) -> Candidate:
        return Candidate(
            site="home", tank="main", sensor="n1", quantity="no3_n", value=40, unit=unit
        )

    with pytest.raises(Rejected) as info:
        Validator().validate(candidate("ppm"), NOW_MS)
    assert info.value.reason == reasons.UNKNOWN_UNIT
    assert info.value.detail == f"no3_n: {ADVICE}"
    reading = Validator().validate(candidate("ppm NO3"), NOW_MS)
    assert reading.value == pytest.approx(AS_N) and reading.unit == "mg/L NO3-N"
