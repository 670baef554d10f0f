"""``tankeco import ha``: Home Assistant's history download, on SQLite and PostgreSQL.

fixtures/ha_history.csv was written for these tests from the download's columns
(entity_id,state,last_changed): a tank thermometer in °F, a pH probe, an entity that is
not mapped, ``unavailable`` and ``unknown`` states, and a pH of 19.5 no water has.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tankeco import reasons
from tankeco.store import open_store
from tests.imports.helpers import FIXTURES, one_error_line, tankeco

HA = FIXTURES / "ha_history.csv"
MAPS = ("--map", "sensor.tank_temperature=temperature:°F", "--map", "sensor.tank_ph=ph")


def _import(capsys, url: str, path: Path, *maps: str) -> tuple[int, str, str]:
    return tankeco(capsys, "import", "ha", str(path), "--store", url, "--tank", "main", *maps)


def _row(out: str, sensor: str) -> list[str]:
    return next(line for line in out.splitlines() if line.strip().startswith(sensor)).split()


def test_mapped_entities_are_stored_no_value_states_skipped_others_named(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    code, out, _ = _import(capsys, store_url, HA, *MAPS)
    assert code == 0
    # sensor, quantity, stored, already, skipped, quarantined
    assert _row(out, "tank_temperature")[1:6] == ["temperature", "3", "0", "1", "0"]
    assert _row(out, "tank_ph")[1:7] == ["ph", "2", "0", "1", "1", "(out_of_range"]
    assert "no --map for: sensor.living_room_temperature (1 row)" in out
    store = open_store(store_url)
    try:
        temps = store.readings(sensor="tank_temperature")
        quarantined = store.quarantined()
    finally:
        store.close()
    assert temps[0].ts_ms == int(datetime(2025, 3, 1, 10, tzinfo=UTC).timestamp() * 1000)
    assert temps[0].value == pytest.approx((77.9 - 32) * 5 / 9)  # °F by definition
    assert [q.reason for q in quarantined] == [reasons.OUT_OF_RANGE]
    assert b"19.5" in quarantined[0].payload

    code, out, _ = _import(capsys, store_url, HA, *MAPS)  # again: nothing new
    assert code == 0 and _row(out, "tank_temperature")[2:4] == ["0", "3"]
    store = open_store(store_url)
    try:
        assert len(store.readings()) == 5 and len(store.quarantined()) == 1
    finally:
        store.close()


def test_unit_from_the_attributes_column_where_the_map_gives_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "entity_id,state,last_changed,attributes\n"
        'sensor.t,25.5,2025-03-01T10:00:00Z,"{""unit_of_measurement"": ""°C""}"\n'
        'sensor.t,78.0,2025-03-01T10:10:00Z,"{""unit_of_measurement"": ""°F""}"\n'
    )
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert _import(capsys, url, path, "--map", "sensor.t=temperature")[0] == 0
    store = open_store(url)
    try:
        values = [r.value for r in store.readings(sensor="t")]
    finally:
        store.close()
    assert values == pytest.approx([25.5, (78.0 - 32) * 5 / 9])


@pytest.mark.parametrize(
    ("text", "maps", "expected"),
    [
        (
            "entity_id,state,last_changed\nsensor.t,25.5,2025-03-01T10:00:00Z\n",
            ("--map", "sensor.t=temperature"),
            "line 2: temperature: unknown unit ''",
        ),
        (
            "entity_id,state,last_changed\nsensor.t,25.5,yesterday\n",
            ("--map", "sensor.t=temperature:°C"),
            "h.csv line 2: time 'yesterday' is not an ISO 8601 date/time",
        ),
        (
            "entity,value,time\nsensor.t,25.5,2025-03-01T10:00:00Z\n",
            ("--map", "sensor.t=temperature:°C"),
            "lacks entity_id, state, last_changed",
        ),
        ("", ("--map", "sensor.t=ph"), "empty file"),
    ],
)
def test_malformed_files_give_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, maps: tuple[str, ...],
    expected: str,
) -> None:  # fmt: skip
    path = tmp_path / "h.csv"
    path.write_text(text)
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", path, *maps)
    assert code == 2
    assert expected in one_error_line(err)


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("tank_temp=temperature", "ENTITY=QUANTITY"),
        ("sensor.t=salinity_of_tears", "'salinity_of_tears'"),
        ("sensor.t=nitrate:mg/L", "nitrate"),
        ("sensor.t=temperature:furlongs", "furlongs"),
    ],
)
def test_bad_map_options_give_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pair: str, expected: str
) -> None:
    code, _, err = _import(capsys, f"sqlite:///{tmp_path / 's.db'}", HA, "--map", pair)
    assert code == 2
    line = one_error_line(err)
    assert "--map" in line and expected in line
