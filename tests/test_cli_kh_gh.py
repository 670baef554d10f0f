"""KH and GH logging (issue 11, point 10): stored once converted, listed, exported, compared.

Independent numbers used below:

* the German degree of hardness is 10 mg CaO per litre (the definition used by DIN 38409
  and every hobby kit), so 1 dKH = 1 dGH = 10 x M(CaCO3)/M(CaO) mg/L as CaCO3, with the
  IUPAC 2013 atomic weights Ca 40.078, C 12.011, O 15.999 (worked out here by hand);
* API's GH & KH kit: one drop into 5 mL = 1 degree = 17.9 ppm as CaCO3 (Mars Fishcare,
  kit instructions);
* 1 meq/L of hardness or alkalinity = 50.04 mg/L as CaCO3, 1 mmol/L of Ca + Mg = 100.09.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from tankeco.cli import main
from tankeco.compare.align import kit_interval
from tankeco.store import open_store

M_CACO3 = 40.078 + 12.011 + 3 * 15.999  # 100.086 g/mol
M_CAO = 40.078 + 15.999  # 56.077 g/mol
DEGREE_MG_CACO3 = 10.0 * M_CACO3 / M_CAO  # 17.848 mg/L as CaCO3 per dKH or dGH


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    open_store(url).close()
    return url


def _stored(url: str) -> list:
    store = open_store(url)
    try:
        return store.manual_entries()
    finally:
        store.close()


@pytest.mark.parametrize(
    "what, value, unit, mg_l_caco3",
    [
        ("kh", "6", "dKH", 6 * DEGREE_MG_CACO3),
        ("KH", "107 ppm CaCO3", None, 107.0),
        ("alkalinity", "2.14", "meq/L", 2.14 * M_CACO3 / 2),
        ("gh", "8", "dGH", 8 * DEGREE_MG_CACO3),
        ("gh", "143", "mg/L CaCO3", 143.0),
        ("hardness", "2.86", "meq/L", 2.86 * M_CACO3 / 2),
        ("gh", "1.43", "mmol/L", 1.43 * M_CACO3),
        ("gh", "8", "°dH", 8 * DEGREE_MG_CACO3),
    ],
)
def test_kh_and_gh_are_stored_once_as_caco3(url, capsys, what, value, unit, mg_l_caco3):
    words = ["log", what, value, "--store", url] + (["--unit", unit] if unit else [])
    assert main(words) == 0
    (entry,) = _stored(url)
    assert entry.quantity == ("gh" if what in ("gh", "hardness") else "alk")
    assert entry.unit == "mg/L CaCO3"
    assert entry.value == pytest.approx(mg_l_caco3, rel=2e-4)  # factors printed to 4-5 figures
    assert f"= {mg_l_caco3:.4g} mg/L CaCO3" in capsys.readouterr().out


def test_the_api_drop_is_one_degree_of_17_9_ppm(url) -> None:
    """API: one drop = 1 dKH = 17.9 ppm; the kit's steps are whole drops, a half is flagged."""
    assert main(["log", "kh", "1", "--kit", "api", "--store", url, "--time", "2026-11-30"]) == 0
    assert main(["log", "kh", "6.5", "--unit", "dKH", "--kit", "api", "--store", url]) == 0
    one, half = _stored(url)
    assert one.value == pytest.approx(17.9, abs=0.06) and not one.off_card
    assert (one.unit_entered, one.kit) == ("dKH", "api")  # the kit's unit when none is given
    assert half.off_card and half.value_entered == 6.5


@pytest.mark.parametrize(
    "words, message",
    [
        (["gh", "8", "--unit", "dKH"], "allowed: mg/L CaCO3, ppm CaCO3, dGH, meq/L, mmol/L"),
        (["kh", "6", "--unit", "dGH"], "allowed: mg/L CaCO3, ppm CaCO3, dKH, meq/L, mmol/L"),
        (["kh", "6"], "give the unit of kh"),
        (["gh", "2000", "--unit", "dGH"], "gh"),
    ],
)
def test_wrong_units_are_one_line_and_nothing_is_stored(url, capsys, words, message) -> None:
    assert main(["log", *words, "--store", url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert _stored(url) == []


def test_list_and_export_show_kh_and_gh_as_entered(url, tmp_path: Path, capsys) -> None:
    for words in (["kh", "6", "--kit", "api"], ["gh", "8", "--unit", "dGH"]):
        assert main(["log", *words, "--store", url, "--tz", "UTC"]) == 0
    capsys.readouterr()
    assert main(["log", "list", "--store", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "alk           6 dKH            api" in lines[0]
    assert "gh            8 dGH" in lines[1]
    out = tmp_path / "kit.csv"
    assert main(["export", "--manual", "--store", url, "--out", str(out)]) == 0
    rows = {r["quantity"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {"alk", "gh"}
    assert rows["alk"]["unit_entered"] == "dKH" and rows["gh"]["unit"] == "mg/L CaCO3"


def test_drop_count_interval_is_between_the_last_two_drops() -> None:
    """A titration read at drop 6 had not turned at drop 5: 5 to 6 degrees, not 5.5 to 6.5."""
    steps = [n * DEGREE_MG_CACO3 for n in range(21)]
    lo, hi = kit_interval(6 * DEGREE_MG_CACO3, steps, drops=True)
    assert (lo, hi) == pytest.approx((5 * DEGREE_MG_CACO3, 6 * DEGREE_MG_CACO3))
    lo, hi = kit_interval(6.5 * DEGREE_MG_CACO3, steps, drops=True)  # off the steps
    assert (lo, hi) == pytest.approx((6 * DEGREE_MG_CACO3, 7 * DEGREE_MG_CACO3))
    lo, hi = kit_interval(24 * DEGREE_MG_CACO3, steps, drops=True)  # beyond the table
    assert (lo, hi) == pytest.approx((23 * DEGREE_MG_CACO3, 24 * DEGREE_MG_CACO3))


def test_compare_uses_logged_kh_and_keeps_gh_stored(url, tmp_path: Path, capsys) -> None:
    """compare starts the replay at the logged KH and scores it against the drop interval;
    GH (not modelled) is stored and listed, never dropped from the store."""
    now_s = time.time()
    for days_ago, kh, no3 in ((2.8, "5", "20"), (1.8, "5", "20"), (0.8, "4", "40")):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_s - days_ago * 86400))
        for words in (["kh", kh, "--kit", "api"], ["nitrate", no3, "--kit", "api"]):
            assert main(["log", *words, "--time", when, "--store", url]) == 0
    assert main(["log", "gh", "8", "--unit", "dGH", "--store", url]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    args = ["compare", "--store", url, "--tank", "main", "--since", "3d", "--tz", "UTC"]
    assert main([*args, "--no-plot", "--out", str(out)]) == 0
    fits = {m["quantity"]: m for m in json.loads((out / "compare.json").read_text())["metrics"]}
    assert set(fits) == {"alk", "no3_n"}  # gh is not modelled: not compared
    assert fits["alk"]["n"] == 3 and fits["alk"]["n_kit"] == 3
    with (out / "aligned.csv").open(encoding="utf-8") as fh:
        alk = [r for r in csv.DictReader(fh) if r["quantity"] == "alk"]
    first = alk[0]
    assert float(first["res_lo"]) == pytest.approx(4 * DEGREE_MG_CACO3, rel=1e-3)
    assert float(first["res_hi"]) == pytest.approx(5 * DEGREE_MG_CACO3, rel=1e-3)
    # the replay starts at the logged 5 dKH (89 mg/L), not the seed tank's 150 mg/L tap water
    assert float(first["model"]) == pytest.approx(5 * DEGREE_MG_CACO3, abs=DEGREE_MG_CACO3)
    assert [m.quantity for m in _stored(url)].count("gh") == 1
