"""``tankeco import apex``: the Neptune Apex datalog.xml, on SQLite and PostgreSQL.

The fixture (fixtures/apex_datalog.xml) was written for these tests from the format as
issue 14 describes it: three records ten minutes apart at <timezone>-8.00, with probes of
types Temp (in °F), pH, ORP, Cond (salinity in ppt), Amps, pwr, volts and one type
tankeco has no quantity for (alk).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tankeco import reasons
from tankeco.store import open_store
from tests.imports.helpers import FIXTURES, one_error_line, tankeco

APEX = FIXTURES / "apex_datalog.xml"


def _import(capsys, url: str, path: Path, *extra: str) -> tuple[int, str, str]:
    return tankeco(capsys, "import", "apex", str(path), "--store", url, "--tank", "main", *extra)


def test_times_use_the_files_offset_and_fahrenheit_is_told_from_the_values(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    code, out, _ = _import(capsys, store_url, APEX)
    assert code == 0
    assert "read as °F" in out and "--temp-unit C" in out
    store = open_store(store_url)
    try:
        temps = store.readings(sensor="Tmp")
    finally:
        store.close()
    # 03/01/2025 23:00:00 at UTC-8 is 07:00 UTC the next day (by hand).
    assert temps[0].ts_ms == int(datetime(2025, 3, 2, 7, 0, tzinfo=UTC).timestamp() * 1000)
    assert [r.ts_ms - temps[0].ts_ms for r in temps] == [0, 600_000, 1_200_000]
    # 78.1 °F = (78.1 - 32) x 5/9 °C (the definition of the Fahrenheit scale).
    assert temps[0].value == pytest.approx((78.1 - 32) * 5 / 9)
    assert temps[0].unit == "°C" and temps[0].source == "apex:AC5:12345"


def test_probe_types_not_modelled_are_stored_and_an_unknown_type_kept_in_quarantine(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    code, out, _ = _import(capsys, store_url, APEX)
    assert code == 0
    store = open_store(store_url)
    try:
        by_sensor = {r.sensor: r for r in store.readings()}
        quarantined = store.quarantined()
    finally:
        store.close()
    assert {s: r.quantity for s, r in by_sensor.items()} == {
        "Tmp": "temperature", "pH": "ph", "ORP": "orp", "Salt": "salinity",
        "Heater_A": "current", "Heater_W": "power", "Volt_2": "voltage",
    }  # fmt: skip
    assert by_sensor["ORP"].unit == "mV" and by_sensor["Salt"].unit == "ppt"
    assert [q.reason for q in quarantined] == [reasons.UNKNOWN_QUANTITY] * 3
    assert b"name=Alk" in quarantined[0].payload
    assert quarantined[0].topic == "import/apex/apex_datalog.xml"
    alk = next(line for line in out.splitlines() if line.strip().startswith("Alk"))
    assert alk.split()[2:7] == ["0", "0", "0", "3", "(unknown_quantity"]


def test_importing_twice_stores_nothing_twice(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    assert _import(capsys, store_url, APEX)[0] == 0
    code, out, _ = _import(capsys, store_url, APEX)
    assert code == 0
    tmp = next(line for line in out.splitlines() if line.strip().startswith("Tmp"))
    assert tmp.split()[1:4] == ["temperature", "0", "3"]  # stored 0, already 3
    store = open_store(store_url)
    try:
        assert len(store.readings()) == 7 * 3
        assert len(store.quarantined()) == 3
    finally:
        store.close()


def test_temp_unit_option_overrides_the_guess(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = _import(capsys, url, APEX, "--temp-unit", "C")
    assert code == 0 and "read as" not in out.split("Cond")[0]
    store = open_store(url)
    try:
        # 78.1 read as °C is warmer than water in a tank can be: quarantined, not stored.
        assert store.readings(sensor="Tmp") == []
        assert reasons.OUT_OF_RANGE in {q.reason for q in store.quarantined()}
    finally:
        store.close()


def test_map_names_the_sensors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = _import(
        capsys, url, APEX, "--map", "Tmp=tank_temp", "--map", "pH=tank_ph", "--map", "PH=x"
    )
    assert code == 0 and "no probe named 'PH' for --map PH=x" in out
    store = open_store(url)
    try:
        assert {r.sensor for r in store.readings()} >= {"tank_temp", "tank_ph"}
        assert store.readings(sensor="Tmp") == []
    finally:
        store.close()


def _datalog(records: list[tuple[str, str]], timezone: str = "-8.00") -> str:
    body = "".join(
        f"<record><date>{date}</date><probe><name>Tmp</name><type>Temp</type>"
        f"<value>{value}</value></probe></record>\n"
        for date, value in records
    )
    return (
        "<datalog><hostname>t</hostname><serial>S1</serial>"
        f"<timezone>{timezone}</timezone>\n{body}</datalog>\n"
    )


def test_temperatures_that_could_be_either_unit_ask_for_temp_unit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "warm.xml"
    path.write_text(_datalog([("03/01/2025 10:00:00", "35.0"), ("03/01/2025 10:10:00", "36.0")]))
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", path)
    assert code == 2
    assert "--temp-unit C or --temp-unit F" in one_error_line(err)


def test_a_bad_value_is_quarantined_and_its_neighbours_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "one_bad.xml"
    records = [("03/01/2025 10:00:00", "77.0"), ("03/01/2025 10:10:00", "n/a")]
    path.write_text(_datalog([*records, ("03/01/2025 10:20:00", "77.2")]))
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert _import(capsys, url, path)[0] == 0
    store = open_store(url)
    try:
        assert len(store.readings(sensor="Tmp")) == 2
        assert [q.reason for q in store.quarantined()] == [reasons.NOT_A_NUMBER]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("truncated", "not a complete XML file"),
        ("wrong_date", "record 3: <date> '2025-03-01 10:20:00' is not MM/DD/YYYY HH:MM:SS"),
    ],
)
def test_a_broken_file_stops_with_one_line_and_keeps_what_came_before(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path, breakage: str, expected: str
) -> None:
    dates = [f"03/01/2025 10:{m:02d}:00" for m in range(0, 60, 10)]
    good = _datalog([(d, f"{77 + i / 10:.1f}") for i, d in enumerate(dates)])
    path = tmp_path / "datalog.xml"
    if breakage == "truncated":
        cut = good.index("<record>", good.index("10:20:00") - 30)  # inside record 3
        path.write_text(good[: cut + 40])
    else:
        path.write_text(good.replace("03/01/2025 10:20:00", "2025-03-01 10:20:00"))
    code, _, err = _import(capsys, store_url, path, "--temp-unit", "F")
    assert code == 2
    assert expected in one_error_line(err)
    store = open_store(store_url)
    try:
        assert len(store.readings(sensor="Tmp")) == 2  # records 1 and 2 were stored
    finally:
        store.close()
    path.write_text(good)  # the keeper fixes the file and runs the same command again
    code, out, _ = _import(capsys, store_url, path, "--temp-unit", "F")
    assert code == 0
    tmp = next(line for line in out.splitlines() if line.strip().startswith("Tmp"))
    assert tmp.split()[1:4] == ["temperature", "4", "2"]  # the rest stored, none twice
    store = open_store(store_url)
    try:
        assert len(store.readings(sensor="Tmp")) == 6
    finally:
        store.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<datalog><timezone>UTC</timezone></datalog>", "<timezone> 'UTC' is not an offset"),
        ("<status><date>x</date></status>", "root element is <status>, not <datalog>"),
        (
            "<datalog><record><date>03/01/2025 10:00:00</date></record></datalog>",
            "no <timezone> before the first <record>",
        ),
        ("", "not a complete XML file"),
    ],
)
def test_files_that_are_not_datalogs_give_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "x.xml"
    path.write_text(text)
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", path, "--temp-unit", "C")
    assert code == 2
    assert expected in one_error_line(err)


def test_map_option_is_checked_before_anything_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", APEX, "--map", "Tmp")
    assert code == 2 and "PROBE=SENSOR" in one_error_line(err)
    assert not (tmp_path / "s.db").exists()


def test_a_store_that_goes_away_is_one_line_and_the_same_command_completes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tankeco.store import StoreUnavailable
    from tankeco.store.sqlbase import SqlStore

    real_write = SqlStore.write
    writes = 0

    def failing_third(self: SqlStore, batch):  # the database is away from the third write on
        nonlocal writes
        writes += 1
        if writes >= 3:
            raise StoreUnavailable("sqlite: database is locked")
        return real_write(self, batch)

    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setattr(SqlStore, "write", failing_third)
    code, _, err = _import(capsys, url, APEX)
    assert code == 2
    assert "went away during the import" in one_error_line(err)
    monkeypatch.setattr(SqlStore, "write", real_write)
    store = open_store(url)
    try:
        assert len(store.readings()) == 2 * 3  # two sensors' writes went through
    finally:
        store.close()
    assert _import(capsys, url, APEX)[0] == 0
    store = open_store(url)
    try:
        assert len(store.readings()) == 21 and len(store.quarantined()) == 3
    finally:
        store.close()


def test_several_files_in_one_command_each_with_its_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    jan, feb = tmp_path / "jan.xml", tmp_path / "feb.xml"
    jan.write_text(_datalog([("01/31/2025 23:50:00", "77.0")]))
    feb.write_text(_datalog([("02/01/2025 00:00:00", "77.1"), ("02/01/2025 00:10:00", "77.2")]))
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = tankeco(
        capsys, "import", "apex", str(jan), str(feb), "--store", url, "--tank", "main"
    )
    assert code == 0
    assert out.count("Tmp ") == 2 and "jan.xml: Apex" in out and "feb.xml: Apex" in out
    store = open_store(url)
    try:
        assert len(store.readings(sensor="Tmp")) == 3
    finally:
        store.close()
