"""``tankeco import csv``: spreadsheets of readings and test-kit results, long and wide.

fixtures/kits_long.csv (long: time,quantity,value,unit,kit,note) and
fixtures/readings_wide.csv (wide: one column per quantity, unit in the header) were
written for these tests from the shapes issue 14 describes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tankeco.store import open_store
from tankeco.units.molar import MOLAR_MASS_N_G_MOL, MOLAR_MASS_O_G_MOL
from tests.imports.helpers import FIXTURES, one_error_line, tankeco

LONG = FIXTURES / "kits_long.csv"
WIDE = FIXTURES / "readings_wide.csv"
#: NO3 per N by the molar masses (14.007 + 3 x 15.999) / 14.007 ~ 4.427.
NO3_PER_N = (MOLAR_MASS_N_G_MOL + 3 * MOLAR_MASS_O_G_MOL) / MOLAR_MASS_N_G_MOL


def _import(capsys, url: str, path: Path, *extra: str) -> tuple[int, str, str]:
    return tankeco(capsys, "import", "csv", str(path), "--store", url, "--tank", "main", *extra)


def _row(out: str, key: str) -> list[str]:
    return next(line for line in out.splitlines() if line.strip().startswith(key)).split()


def test_kit_rows_become_manual_entries_with_their_kit_and_the_rest_readings(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    code, out, _ = _import(capsys, store_url, LONG)
    assert code == 0
    store = open_store(store_url)
    try:
        manual = store.manual_entries(tank="main")
        readings = store.readings(tank="main")
    finally:
        store.close()
    nitrate = [m for m in manual if m.quantity == "no3_n"]
    assert [m.value_entered for m in nitrate] == [5, 10, 12, 20, 20]
    assert {m.kit for m in manual} == {"api"}
    assert nitrate[0].value == pytest.approx(5 / NO3_PER_N, rel=1e-3)
    # 12 is between the API card's 10 and 20: kept as entered, flagged off the card.
    assert [m.off_card for m in nitrate] == [False, False, True, False, False]
    assert nitrate[2].note == "between 10 and 20 on the card"
    # "18:00+01:00" is 17:00 UTC.
    assert nitrate[0].ts_ms == int(datetime.fromisoformat("2025-03-01T17:00Z").timestamp() * 1e3)
    assert [r.value for r in readings] == [24.5, 24.8, 25.1]
    assert {r.sensor for r in readings} == {"temperature"}
    assert _row(out, "kit api: no3_n")[3:7] == ["no3_n", "5", "0", "0"]

    assert _import(capsys, store_url, LONG)[0] == 0  # again: nothing twice
    store = open_store(store_url)
    try:
        assert len(store.manual_entries(tank="main")) == len(manual) == 10
        assert len(store.readings(tank="main")) == 3
    finally:
        store.close()


def test_wide_sheet_units_from_the_header_and_times_in_tz(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = _import(capsys, url, WIDE, "--tz", "Europe/Berlin")
    assert code == 0 and "read in Europe/Berlin" in out
    assert _row(out, "no3_n")[1:6] == ["no3_n", "3", "0", "1", "0"]  # one empty cell
    store = open_store(url)
    try:
        temps = store.readings(sensor="temperature")
        nitrate = store.readings(sensor="no3_n")
    finally:
        store.close()
    berlin = datetime(2025, 3, 1, 8, tzinfo=ZoneInfo("Europe/Berlin"))
    assert temps[0].ts_ms == int(berlin.timestamp() * 1000)
    assert temps[0].value == pytest.approx((77.0 - 32) * 5 / 9)
    assert [r.value for r in nitrate] == [1.2, 1.5, 2.1]  # given as N already


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("time,what,value,unit\n", "unknown column 'what'"),
        ("when,quantity,value,unit\n", "has no time column"),
        ("time,quantity,value\n", "lacks unit"),
        ("time,nitrate\n2025-03-01,20\n", "column 'nitrate'"),
        ("time,salinity_of_tears (ppt)\n", "'salinity_of_tears'"),
        ("time,quantity,value,unit\n2025-03-01,ph,7\n", "3 fields, the header has 4"),
        ("time,ph,sensor\n2025-03-01,7,a\n", "drop the sensor column"),
        ("", "empty file"),
    ],
)
def test_wrong_columns_give_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(text)
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", path)
    assert code == 2
    assert expected in one_error_line(err)


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ("2025-03-03T08:00Z,nitrate,20,furlongs,", "line 4: no3_n: unknown unit 'furlongs'"),
        ("03/03/2025,nitrate,20,mg/L NO3,", "line 4: time '03/03/2025' is not an ISO 8601"),
    ],
)
def test_a_broken_line_stops_the_import_and_keeps_the_lines_before(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path, bad_line: str,
    expected: str,
) -> None:  # fmt: skip
    good = [
        "time,quantity,value,unit,kit",
        "2025-03-01T08:00Z,nitrate,10,mg/L NO3,",
        "2025-03-02T08:00Z,nitrate,15,mg/L NO3,",
        "2025-03-03T08:00Z,nitrate,20,mg/L NO3,",
        "2025-03-04T08:00Z,nitrate,25,mg/L NO3,",
    ]
    path = tmp_path / "sheet.csv"
    path.write_text("\n".join([*good[:3], bad_line, *good[4:]]) + "\n")
    code, _, err = _import(capsys, store_url, path)
    assert code == 2
    assert expected in one_error_line(err)
    store = open_store(store_url)
    try:
        assert len(store.readings(sensor="no3_n")) == 2
    finally:
        store.close()
    path.write_text("\n".join(good) + "\n")
    code, out, _ = _import(capsys, store_url, path)
    assert code == 0 and _row(out, "no3_n")[1:4] == ["no3_n", "2", "2"]
    store = open_store(store_url)
    try:
        assert len(store.readings(sensor="no3_n")) == 4
    finally:
        store.close()


def test_a_sensor_name_for_two_quantities_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "time,quantity,value,unit,sensor\n"
        "2025-03-01T08:00Z,ph,7.5,pH,probe\n"
        "2025-03-01T08:00Z,temperature,25,°C,probe\n"
    )
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", path)
    assert code == 2 and "carries both ph and temperature" in one_error_line(err)


def test_a_note_the_store_cannot_hold_is_quarantined_and_the_rest_stored(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "time,quantity,value,unit,kit,note\n"
        "2025-03-01T08:00Z,nitrate,10,mg/L NO3,api,fine\n"
        "2025-03-02T08:00Z,nitrate,20,mg/L NO3,api,nul \x00 here\n"
        "2025-03-03T08:00Z,nitrate,20,mg/L NO3,api,\n"
    )
    code, out, err = _import(capsys, store_url, path)
    assert code == 0, err
    store = open_store(store_url)
    try:
        stored = store.manual_entries(tank="main")
        reasons_found = [q.reason for q in store.quarantined()]
    finally:
        store.close()
    if store_url.startswith("postgresql"):  # PostgreSQL text cannot hold U+0000
        assert len(stored) == 2 and reasons_found == ["unstorable_text"]
    else:
        assert len(stored) == 3 and reasons_found == []


def test_a_new_store_is_announced_and_an_existing_one_is_not(tmp_path: Path, capsys) -> None:
    """Nothing is created silently: the first import into a new SQLite file says so."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, _out, err = _import(capsys, url, WIDE, "--tz", "Europe/Berlin")
    assert code == 0
    assert f"created a new SQLite store {tmp_path / 'new.db'}" in err
    code, _out, err = _import(capsys, url, WIDE, "--tz", "Europe/Berlin")
    assert code == 0 and "created a new SQLite store" not in err


def test_imported_history_does_not_make_a_sensor_look_heard_now(tmp_path: Path, capsys) -> None:
    """A sensor's last-seen time is when it last measured in the file, not the import's
    time: last month's log must not make a dead probe look alive (and later 'silent')."""
    url = f"sqlite:///{tmp_path / 'seen.db'}"
    assert _import(capsys, url, WIDE, "--tz", "Europe/Berlin")[0] == 0
    store = open_store(url, create=False)
    try:
        seen = {s.sensor: s.last_seen_ms for s in store.sensor_states()}
        newest = {}
        for r in store.readings():
            newest[r.sensor] = max(newest.get(r.sensor, 0), r.ts_ms)
    finally:
        store.close()
    assert seen and seen == {sensor: newest[sensor] for sensor in seen}
