import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from tankeco.store import Batch, QuarantineRecord, Reading, open_store

ROOT = Path(__file__).resolve().parents[1]


def tankeco(*args: str, env_store: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TANKECO_STORE", None)
    if env_store:
        env["TANKECO_STORE"] = env_store
    return subprocess.run(
        [sys.executable, "-m", "tankeco", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    now = int(time.time() * 1000)
    s = open_store(url)
    rows = [
        Reading(
            now - 10 * 86_400_000, "home", "main", "t1", "temperature", 24.0, "°C", source="old"
        ),
        Reading(
            now - 3_600_000, "home", "main", "t1", "temperature", 25.5, "°C", source="ds18b20:x"
        ),
        Reading(
            now - 3_600_000, "home", "=cmd", "t1", "temperature", 26.0, "°C", source="=HYPERLINK()"
        ),
    ]
    s.write(
        Batch(readings=rows, quarantine=[QuarantineRecord(now, "=a/b", b"\xff85", "not_utf8", "x")])
    )
    s.close()
    return url


def test_export_csv_filters_and_never_lets_a_cell_become_a_formula(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    p = tankeco("export", "--store", url, "--since", "7d")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 2
    assert list(rows[0]) == [
        "time",
        "tank",
        "sensor",
        "quantity",
        "value",
        "unit",
        "quality",
        "source",
    ]
    main = [r for r in rows if r["tank"] == "main"][0]
    assert main["value"] == "25.5" and main["unit"] == "°C" and main["time"].endswith("Z")
    evil = [r for r in rows if r["tank"] != "main"][0]
    assert evil["tank"] == "'=cmd" and evil["source"] == "'=HYPERLINK()"
    only_main = tankeco("export", "--store", url, "--tank", "main")
    assert len(list(csv.DictReader(io.StringIO(only_main.stdout)))) == 2


def test_export_parquet_and_quarantine(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    out = tmp_path / "r.parquet"
    p = tankeco("export", "--store", url, "--tank", "main", "--out", str(out))
    assert p.returncode == 0 and "wrote 2 readings" in p.stderr
    table = pq.read_table(out).to_pydict()
    assert table["value"] == [24.0, 25.5] and table["quantity"] == ["temperature"] * 2
    q = tankeco("export", "--store", url, "--quarantine", "--out", str(tmp_path / "q.csv"))
    assert q.returncode == 0
    (row,) = list(csv.DictReader(open(tmp_path / "q.csv", encoding="utf-8")))
    assert (
        row["reason"] == "not_utf8" and row["payload_hex"] == "ff3835" and row["topic"] == "'=a/b"
    )
    empty = tmp_path / "e.parquet"
    assert tankeco("export", "--store", url, "--tank", "none", "--out", str(empty)).returncode == 0
    assert pq.read_table(empty).num_rows == 0


def test_export_errors(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    for args in (["--since", "lately"], ["--format", "parquet"], ["--quarantine", "--tank", "x"]):
        p = tankeco("export", "--store", url, *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_log_kit_reading_water_change_and_feeding(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    # a store that does not exist yet is created only when asked (--new-store)
    missing = tankeco("log", "nitrate", "20", "--unit", "mg/L NO3", "--kit", "api", env_store=url)
    assert missing.returncode == 2 and not (tmp_path / "log.db").exists(), missing.stderr
    on = tankeco(
        "log", "nitrate", "20", "--unit", "mg/L NO3", "--kit", "api", "--new-store",
        env_store=url,
    )  # fmt: skip
    assert on.returncode == 0 and "OFF" not in on.stdout and "4.518 mg/L NO3-N" in on.stdout
    off = tankeco(
        "log", "nitrate", "25", "--kit", "api", "--time", "2026-11-25T10:00Z", env_store=url
    )
    assert off.returncode == 0 and "OFF the api colour card" in off.stdout
    assert tankeco("log", "water-change", "30%", env_store=url).returncode == 0
    assert tankeco("log", "feeding", "2g", "--tank", "quarantine", env_store=url).returncode == 0
    again = tankeco(
        "log", "nitrate", "25", "--kit", "api", "--time", "2026-11-25T10:00Z", env_store=url
    )
    assert again.returncode == 2 and "already logged" in again.stderr
    s = open_store(url)
    manual = s.manual_entries()
    assert [(m.value_entered, m.off_card) for m in manual] == [(25.0, True), (20.0, False)]
    assert manual[0].unit_entered == "mg/L NO3" and manual[0].kit == "api"
    events = s.events()
    assert {(e.kind, e.amount, e.unit, e.tank) for e in events} == {
        ("water_change", 30.0, "%", "main"),
        ("feeding", 2.0, "g", "quarantine"),
    }
    s.close()


def test_log_errors_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    for args in (
        ["nitrate", "20"],  # no unit, no kit: basis unknown
        ["nitrate", "lots", "--unit", "mg/L NO3"],
        ["water-change", "130%"],
        ["feeding", "2 kg"],
        ["salinity", "35", "--unit", "ppt"],
        ["nitrate", "20", "--kit", "brand-x", "--unit", "mg/L NO3"],
    ):
        p = tankeco("log", *args, "--store", url)
        assert p.returncode == 2, (args, p.stdout)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_export_logged_kit_readings_and_events(tmp_path: Path) -> None:
    """Issue 11, point 10: what 'tankeco log' wrote could not be exported."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    logged = tankeco(
        "log", "nitrate", "20", "--unit", "mg/L NO3", "--kit", "api", "--new-store",
        env_store=url,
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    assert tankeco("log", "water-change", "30%", env_store=url).returncode == 0
    manual = tankeco("export", "--manual", env_store=url)
    assert manual.returncode == 0, manual.stderr
    rows = list(csv.DictReader(io.StringIO(manual.stdout)))
    assert [(r["quantity"], r["value_entered"], r["unit_entered"], r["kit"]) for r in rows] == [
        ("no3_n", "20.0", "mg/L NO3", "api")
    ]
    # 20 mg/L NO3 as N: 20 x 14.007 / 62.004 = 4.518 (molar masses, by hand)
    assert abs(float(rows[0]["value"]) - 4.518) < 0.001
    events = tankeco("export", "--events", env_store=url)
    assert events.returncode == 0, events.stderr
    rows = list(csv.DictReader(io.StringIO(events.stdout)))
    assert [(r["kind"], r["amount"], r["unit"]) for r in rows] == [("water_change", "30.0", "%")]
