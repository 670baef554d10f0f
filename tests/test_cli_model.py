"""``tankeco model --matrix``: the Petersen matrix as an ASM modeller reads it."""

import csv
import io

from tankeco.cli import main
from tankeco.scenario.loading import load_scenario
from tankeco.sim.petersen import build_processes


def test_matrix_lists_every_process_with_its_rate_and_unit(capsys):
    assert main(["model", "--matrix"]) == 0
    out = capsys.readouterr().out
    scenario = load_scenario(None)
    names = [p.name for p in build_processes(scenario.parameters, 25.0, 0.03, 0.0)]
    for name in names:
        assert f"\n{name} " in out  # a row of the matrix
        assert f"  {name} [" in out  # its rate expression with the unit
    assert "mu_aob(T) * f_ph * eta_aob" in out
    assert "aob_growth [mg VSS/d]" in out
    assert "mg CaCO3" in out  # column units


def test_matrix_as_csv_closes_every_balance_but_respiration(capsys):
    assert main(["model", "--matrix", "--csv", "--set", "plants.uptake_max_mg_n_d=20"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_name = {r["process"]: r for r in rows}
    assert "plant_uptake_no3" in by_name
    assert float(by_name["aob_growth"]["AOB [mg VSS]"]) == 1.0
    assert by_name["aob_growth"]["rate_unit"] == "mg VSS/d"
    for r in rows:
        assert abs(float(r["continuity_N"])) < 1e-9
        assert abs(float(r["continuity_charge"])) < 1e-9
        if r["process"] != "fish_respiration":
            assert abs(float(r["continuity_COD"])) < 1e-9, r["process"]


def test_model_without_what_to_print_is_one_line_exit_2(capsys):
    assert main(["model"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--matrix" in err
