"""From a keeper's file to a ``compare`` report and the dashboard, on imported history.

Two commands, as a keeper types them: ``tankeco import ...`` then ``tankeco compare ...``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.imports.helpers import FIXTURES, tankeco

LONG = FIXTURES / "kits_long.csv"
SPAN = ("--since", "2025-03-01", "--until", "2025-03-15", "--tz", "Europe/Berlin")


def _metrics(out: Path) -> dict[str, dict]:
    report = json.loads((out / "compare.json").read_text())
    return {m["quantity"]: m for m in report["metrics"]}


def test_kit_sheet_to_compare_report_in_two_commands(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    code, out, err = tankeco(
        capsys, "import", "csv", str(LONG), "--store", store_url, "--tank", "main"
    )
    assert code == 0, err
    assert f"tankeco compare --store {store_url} --tank main --since 2025-03-01" in out
    report = tmp_path / "report"
    code, out, err = tankeco(
        capsys, "compare", "--store", store_url, "--tank", "main", *SPAN, "--no-plot",
        "--out", str(report),
    )  # fmt: skip
    assert code == 0, err
    metrics = _metrics(report)
    # Every imported kit result and reading is compared, with its kit where it had one.
    assert (metrics["no3_n"]["n"], metrics["no3_n"]["n_kit"]) == (5, 5)
    assert (metrics["no2_n"]["n"], metrics["tan_n"]["n"], metrics["ph"]["n"]) == (2, 1, 2)
    assert (metrics["temperature"]["n"], metrics["temperature"]["n_kit"]) == (3, 0)
    assert "13 measurements" in out


def test_calibrate_runs_on_imported_history(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert tankeco(capsys, "import", "csv", str(LONG), "--store", url, "--tank", "main")[0] == 0
    report = tmp_path / "report"
    code, _, err = tankeco(
        capsys, "compare", "--store", url, "--tank", "main", *SPAN, "--no-plot", "--calibrate",
        "--out", str(report),
    )  # fmt: skip
    assert code == 0, err
    assert (report / "calibrated.toml").is_file()
    report_json = json.loads((report / "compare.json").read_text())
    # The fit used every imported measurement; nitrate, the largest misfit before (bias
    # +4 mg N/L against the kit), is what the fitted feed and nitrate knobs act on.
    assert report_json["calibration"]["n_obs"] == 13
    after = {m["quantity"]: m for m in report_json["metrics_calibrated"]}
    assert after["no3_n"]["rmse"] <= _metrics(report)["no3_n"]["rmse"]


def test_forecast_is_pulled_to_imported_kit_readings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The dashboard's forecast (forecast_worker.compute) run on an imported kit sheet.

    Without the readings the seed tank's model stands at about 13 mg N/L nitrate on day
    13 (regression snapshot: tankeco compare's overlay on this sheet); the last imported
    kit reading is 20 mg/L NO3 = 4.52 mg N/L (molar masses 62.004 / 14.007).  The filter
    must land near the kit, not near the open-loop model.
    """
    from tankeco.dashboard.forecast_worker import compute

    url = f"sqlite:///{tmp_path / 's.db'}"
    assert tankeco(capsys, "import", "csv", str(LONG), "--store", url, "--tank", "main")[0] == 0
    now_ms = int(datetime(2025, 3, 14, tzinfo=UTC).timestamp() * 1000)
    result = compute(url, "main", None, "Europe/Berlin", 14.0, now_ms, members=6)
    assert result["status"] == "ok"
    assert set(result["bands"]) >= {"no3_n", "no2_n", "tan_n"}
    assert abs(result["now_mean"]["no3_n"] - 20 / 4.427) < 2.0


def _recent_datalog(path: Path, hours: int) -> None:
    """An Apex log of the last ``hours`` hours (so the dashboard's window holds it), UTC+2."""
    zone = timezone(timedelta(hours=2))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    records = []
    for i in range(hours * 6, 0, -1):
        local = (now - timedelta(minutes=10 * i)).astimezone(zone)
        records.append(
            f"<record><date>{local:%m/%d/%Y %H:%M:%S}</date>"
            "<probe><name>Tmp</name><type>Temp</type><value>25.1</value></probe>"
            "<probe><name>ORP</name><type>ORP</type><value>340</value></probe></record>"
        )
    path.write_text(
        "<datalog><hostname>h</hostname><serial>S</serial><timezone>2.00</timezone>"
        + "\n".join(records)
        + "</datalog>"
    )


def test_dashboard_shows_imported_history_also_the_quantities_not_modelled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from tankeco.dashboard.app import create_app
    from tankeco.dashboard.monitor import Monitor
    from tankeco.scenario.loading import load_scenario

    path = tmp_path / "datalog.xml"
    _recent_datalog(path, hours=24)
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, err = tankeco(capsys, "import", "apex", str(path), "--store", url, "--tank", "main")
    assert code == 0, err
    assert "read as °C" in out
    monitor = Monitor(url, load_scenario(None))
    client = TestClient(create_app(monitor, start_forecast=False), base_url="http://127.0.0.1")
    series = client.get("/api/series", params={"hours": 48}).json()["series"]
    by_sensor = {s["sensor"]: s for s in series}
    assert by_sensor["Tmp"]["quantity"] == "temperature"
    assert by_sensor["ORP"]["quantity"] == "orp" and by_sensor["ORP"]["unit"] == "mV"
    assert min(by_sensor["Tmp"]["t"]) < time.time() * 1000 - 20 * 3_600_000
