"""The dashboard's server without a browser: API, downsampling, alerts, security."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tankeco.dashboard.app import create_app
from tankeco.dashboard.ha_publisher import entities, state_payload
from tankeco.dashboard.monitor import Monitor, flow_map
from tankeco.scenario.loading import load_scenario
from tankeco.store import Batch, QuarantineRecord, Reading, SensorState, open_store

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script>"


def _now() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    now = _now()
    s = open_store(url)
    rows = [
        Reading(now - i * 60_000, "home", "main", sensor, q, v, "", seq=i)
        for i in range(3 * 24 * 60)
        for sensor, q, v in (("temp", "temperature", 25.0), (XSS, "ph", 7.4))
    ]
    s.write(
        Batch(
            readings=rows,
            quarantine=[
                QuarantineRecord(now, "tankeco/v1/home/main/x/state", b"{", "invalid_json")
            ],
            sensor_states=[SensorState("home", "main", "old", now - 45 * 60_000, "offline")],
        )
    )
    s.close()
    return url


def _client(url: str, **kw) -> TestClient:
    monitor = Monitor(url, load_scenario(None))
    return TestClient(create_app(monitor, start_forecast=False, **kw), base_url="http://127.0.0.1")


def test_one_series_per_sensor_even_when_the_unit_text_changed(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    s = open_store(url)
    now = _now()
    s.write(
        Batch(
            readings=[
                Reading(now - 120_000, "h", "main", "no3", "no3_n", 20.0, "", seq=1),
                Reading(now - 60_000, "h", "main", "no3", "no3_n", 21.0, "mg/L NO3-N", seq=2),
            ]
        )
    )
    s.close()
    with _client(url) as c:
        (only,) = c.get("/api/series?hours=1").json()["series"]
    assert only["sensor"] == "no3" and only["v"] == [20.0, 21.0]


def test_series_are_downsampled_and_names_come_back_as_data(store_url):
    with _client(store_url) as c:
        data = c.get("/api/series?hours=72").json()
        assert data["tank"] == "main"
        by = {s["sensor"]: s for s in data["series"]}
        assert set(by) == {"temp", XSS}  # the name is returned verbatim, as JSON text
        assert 200 < len(by["temp"]["t"]) <= 1000  # 4320 readings -> at most 1000 buckets
        assert by["temp"]["v"][0] == pytest.approx(25.0)
        assert c.get("/api/series?hours=abc").status_code == 400


def test_state_has_health_quarantine_alerts_and_a_uniform_flow_map(store_url):
    with _client(store_url) as c:
        st = c.get("/api/state").json()
    assert (
        st["quarantine"]["total"] == 1 and st["quarantine"]["recent"][0]["reason"] == "invalid_json"
    )
    silent = [a for a in st["alerts"] if a["code"] == "sensor_silent"]
    assert [a["sensor"] for a in silent] == ["old"]
    assert st["flow_map"]["source"] == "uniform" and len(st["flow_map"]["zones"]) == 8
    assert st["thresholds"]["no3_n"]["value"] == 10.0


def test_forced_breach_raises_the_free_ammonia_alert(store_url):
    s = open_store(store_url)
    now = _now()
    s.write(
        Batch(
            readings=[
                Reading(now, "home", "main", "nh4", "tan_n", 3.0, "", seq=1),
                Reading(now, "home", "main", "ph2", "ph", 8.2, "", seq=1),
            ]
        )
    )
    s.close()
    with _client(store_url) as c:
        st = c.get("/api/state").json()
    (a,) = [a for a in st["alerts"] if a["code"] == "free_ammonia_now"]
    assert a["level"] == "critical" and st["alerts"][0] == a  # the most urgent first


def test_page_plotly_and_security_headers(store_url):
    with _client(store_url) as c:
        page = c.get("/")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert 'src="static/plotly.min.js"' in page.text and "http" not in page.text
        js = c.get("/static/plotly.min.js")
        assert js.status_code == 200 and b"plotly.js v" in js.content[:200]
        assert c.get("/static/../../etc/passwd").status_code == 404
        # a loopback server answers only loopback Host names (DNS rebinding)
        assert c.get("/api/state", headers={"host": "evil.example"}).status_code == 400


def test_token_is_checked_by_page_and_api(store_url):
    with _client(store_url, host="0.0.0.0", token="s3cret-token") as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/state").status_code == 401
        assert c.get("/api/state?token=wrong-token").status_code == 401
        assert (
            c.get("/api/state", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        )
        page = c.get("/?token=s3cret-token")
        assert page.status_code == 200 and "httponly" in page.headers["set-cookie"].lower()
        assert c.get("/api/series").status_code == 200  # the cookie now carries it


def test_dashboard_refuses_a_public_host_without_token(tmp_path):
    cmd = [
        sys.executable, "-m", "tankeco", "dashboard", "--store",
        f"sqlite:///{tmp_path / 'x.db'}", "--host", "0.0.0.0",
    ]  # fmt: skip
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "--token" in p.stderr


def test_flow_map_without_a_layout_is_uniform_and_a_bad_layout_says_why(tmp_path):
    sc = load_scenario(None)
    fm = flow_map(sc, None)
    assert fm.shares == [1 / 8] * 8 and fm.source == "uniform"
    bad = flow_map(sc, str(tmp_path / "missing.toml"))
    assert bad.source == "uniform" and bad.note


def test_home_assistant_discovery_payloads():
    cfgs = entities("Main Tank")
    assert {t for t, _ in cfgs} == {
        "homeassistant/sensor/tankeco_main_tank/nitrate_days/config",
        "homeassistant/sensor/tankeco_main_tank/alerts/config",
        "homeassistant/sensor/tankeco_main_tank/top_alert/config",
    }
    assert all(c["state_topic"] == "tankeco/main_tank/forecast/state" for _, c in cfgs)
    st = state_payload({"alerts": [{"message": "x"}], "countdown_d": 5.04})
    assert st == {"nitrate_days": 5.0, "alerts": 1, "top_alert": "x"}


@pytest.mark.integration
def test_forecast_worker_gives_bands_countdown_and_nitrate_alert(tmp_path):
    """The filter runs in its own process; the server gets bands and a nitrate alert."""
    from tankeco.compare.replay import Knobs
    from tests.compare.synthetic import MS_PER_DAY, write_history

    url = f"sqlite:///{tmp_path / 'f.db'}"
    s = open_store(url)
    now = _now()
    write_history(
        s, load_scenario(None), Knobs(), origin_ms=now - 2 * MS_PER_DAY, days=2.0,
        every_min=15, tank="main", quantities=("tan_n", "no3_n", "ph"),
    )  # fmt: skip
    s.close()
    monitor = Monitor(url, load_scenario(None), tz_name="UTC")
    monitor.refresh_forecast()
    st = monitor.state()
    monitor.close()
    assert st["forecast_status"] == "ok"
    band = st["forecast"]["no3_n"]
    assert len(band["t"]) > 14 * 24 and band["t"][0] >= now - 60_000
    trio = zip(band["low"], band["median"], band["high"], strict=True)
    assert all(lo <= med <= hi for lo, med, hi in trio)
    # the seed tank sits far above 10 mg N/L nitrate: the change is due now
    assert st["countdown_d"] == 0.0
    assert any(a["code"] == "nitrate_above_limit" for a in st["alerts"])
