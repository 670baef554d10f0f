"""The dashboard under issue 13: incremental live poll, its own HA schedule, hardening."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from starlette.testclient import TestClient

from tankeco.cli import main as cli_main
from tankeco.dashboard.app import create_app
from tankeco.dashboard.fleet import Fleet
from tankeco.dashboard.ha_publisher import HomeAssistantPublisher
from tankeco.dashboard.monitor import Monitor
from tankeco.scenario.loading import load_scenario
from tankeco.store import Batch, Reading, open_store
from tests.integration.brokers import Mosquitto


def _now() -> int:
    return int(time.time() * 1000)


def _write(url: str, rows: list[Reading]) -> None:
    s = open_store(url)
    s.write(Batch(readings=rows))
    s.close()


def test_the_live_poll_reads_only_new_rows_late_ones_included_once(tmp_path: Path) -> None:
    """Point 10. Before: every poll re-read the last 10 minutes (64 % CPU at 1000/s) and a
    reading arriving with a time older than 10 minutes never reached the live stream."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    now = _now()
    _write(url, [Reading(now - 1000, "h", "main", "t", "temperature", 25.0, "°C", seq=0)])
    m = Fleet(Monitor(url, load_scenario(None)))
    try:
        m.prime()
        assert m.poll_new() == {}
        late = Reading(now - 3_600_000, "h", "main", "t", "temperature", 24.0, "°C", seq=1)
        fresh = [
            Reading(now + i, "h", "main", f"s{i}", "temperature", 25.0, "°C", seq=i)
            for i in range(2000)
        ]
        other = Reading(now, "h", "second", "t", "temperature", 26.0, "°C", seq=1)
        _write(url, [late, *fresh, other])
        got = m.poll_new()
        assert len(got["main"]) == 2001 and got["main"][0]["t"] == now - 3_600_000
        assert [r["v"] for r in got["second"]] == [26.0]  # one query serves every tank
        assert m.poll_new() == {}  # nothing twice
        assert m._cursor == 2003  # the whole state of the live poll: one integer
    finally:
        m.close()


def test_series_cache_forgets_sensors_gone_from_the_range(tmp_path: Path) -> None:
    """Point 10. Before: 618 B per distinct sensor name, never freed."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    now = _now()
    _write(
        url,
        [Reading(now - 5 * 3_600_000, "h", "main", f"gone{i}", "ph", 7.0, "pH") for i in range(50)]
        + [Reading(now - 60_000, "h", "main", "here", "ph", 7.0, "pH")],
    )
    m = Monitor(url, load_scenario(None), tank="main")
    try:
        assert len(m.series(hours=6)["series"]) == 51
        m.clock = lambda: now + 2 * 3_600_000  # two hours later the old ones are out of range
        assert [s["sensor"] for s in m.series(hours=6)["series"]] == ["here"]
        ((_, cached),) = m._series_cache.items()
        assert list(cached["rows"]) == [("here", "ph")]
    finally:
        m.close()


def test_nan_hours_is_a_400_and_every_response_says_nosniff(tmp_path: Path) -> None:
    """Point 10. Before: ?hours=nan was an HTTP 500; no X-Content-Type-Options header."""
    url = f"sqlite:///{tmp_path / 'n.db'}"
    _write(url, [Reading(_now(), "h", "main", "t", "temperature", 25.0, "°C")])
    app = create_app(Monitor(url, load_scenario(None)), start_forecast=False, token="s3cret-token")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        for hours in ("nan", "inf", "-inf"):
            r = c.get(f"/api/series?hours={hours}&token=s3cret-token")
            assert r.status_code == 400 and "finite" in r.text
        assert c.get("/api/state?token=s3cret-token").headers["x-content-type-options"] == "nosniff"
        assert c.get("/api/state").status_code == 401
        assert c.get("/api/state").headers["x-content-type-options"] == "nosniff"


def test_the_token_can_come_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Point 10. Before: only --token, visible to every user in ps."""
    from tankeco.cli import build_parser
    from tankeco.cli.cmd_dashboard import check_server_options

    tok = tmp_path / "tok"
    tok.write_text("file-token-123\n")
    args = build_parser().parse_args(
        ["dashboard", "--store", "sqlite:///x.db", "--host", "0.0.0.0", "--token-file", str(tok)]
    )
    check_server_options(args)
    assert args.token == "file-token-123"
    monkeypatch.setenv("TANKECO_DASHBOARD_TOKEN", "env-token-456")
    args = build_parser().parse_args(
        ["dashboard", "--store", "sqlite:///x.db", "--host", "0.0.0.0"]
    )
    check_server_options(args)
    assert args.token == "env-token-456"
    rc = cli_main(
        ["dashboard", "--store", "sqlite:///x.db", "--token-file", str(tmp_path / "missing")]
    )
    assert rc == 2 and "--token-file" in capsys.readouterr().err


@pytest.mark.integration
def test_home_assistant_gets_the_forecast_state_of_every_tank(tmp_path: Path) -> None:
    """Issue 14: with several tanks in the store, Home Assistant gets each tank's forecast
    entities and state (before, only the default tank's), with the overview's alert count
    for that tank."""
    broker = Mosquitto(tmp_path / "b").start()
    url = f"sqlite:///{tmp_path / 'ha.db'}"
    _write(url, [Reading(_now(), "h", tank, "t", "temperature", 25.0, "°C")
                 for tank in ("main", "quarantine", "shrimp")])  # fmt: skip
    got: dict[str, dict] = {}
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, m: got.__setitem__(m.topic, json.loads(m.payload))
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("tankeco/+/forecast/state", 1)
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    publisher = HomeAssistantPublisher(broker.url, interval_s=0.5)
    app = create_app(Monitor(url, load_scenario(None)), start_forecast=False, publisher=publisher)
    try:
        with TestClient(app, base_url="http://127.0.0.1"):
            deadline = time.monotonic() + 20
            while len(got) < 3:
                assert time.monotonic() < deadline, got
                time.sleep(0.1)
            overview = TestClient(app, base_url="http://127.0.0.1").get("/api/overview").json()
        # retained: a Home Assistant that (re)connects later gets each tank's last state
        later: dict[str, dict] = {}
        sub2 = mqtt.Client(CallbackAPIVersion.VERSION2)
        sub2.on_message = lambda c, u, m: later.__setitem__(m.topic, json.loads(m.payload))
        sub2.on_connect = lambda c, u, f, rc, p: c.subscribe("tankeco/+/forecast/state", 1)
        sub2.connect("127.0.0.1", broker.port)
        sub2.loop_start()
        deadline = time.monotonic() + 10
        while len(later) < 3:
            assert time.monotonic() < deadline, later
            time.sleep(0.1)
        sub2.loop_stop()
    finally:
        sub.loop_stop()
        broker.stop()
    assert sorted(got) == [f"tankeco/{t}/forecast/state" for t in ("main", "quarantine", "shrimp")]
    for row in overview["tanks"]:
        state = got[f"tankeco/{row['tank']}/forecast/state"]
        assert state["alerts"] == row["alerts"]
        assert state["nitrate_days"] is None  # no forecast computed in this test


@pytest.mark.integration
def test_home_assistant_gets_the_state_with_no_page_open_and_logs_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 9. Before: published only while a page polled /api/state, and no
    username/password/TLS, so HA's Mosquitto add-on (which needs a login) got nothing."""
    import subprocess

    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), "tankeco", "pw-123"], check=True)
    pw.chmod(0o644)
    broker = Mosquitto(tmp_path / "b", extra=f"password_file {pw}", allow_anonymous=False).start()
    url = f"sqlite:///{tmp_path / 'ha.db'}"
    _write(url, [Reading(_now(), "h", "main", "t", "temperature", 25.0, "°C")])
    got: list[tuple[str, dict]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.username_pw_set("tankeco", "pw-123")
    sub.on_message = lambda c, u, m: got.append((m.topic, json.loads(m.payload)))
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe([("tankeco/+/forecast/state", 1),
                                                         ("homeassistant/#", 1)])  # fmt: skip
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    publisher = HomeAssistantPublisher(
        broker.url, username="tankeco", password="pw-123", interval_s=0.5
    )
    app = create_app(Monitor(url, load_scenario(None)), start_forecast=False, publisher=publisher)
    try:
        with TestClient(app, base_url="http://127.0.0.1"):  # runs the lifespan, no request
            deadline = time.monotonic() + 20
            while sum(t.endswith("/forecast/state") for t, _ in got) < 2:
                assert time.monotonic() < deadline, got
                time.sleep(0.1)
        states = [p for t, p in got if t == "tankeco/main/forecast/state"]
        assert states[0]["alerts"] >= 0 and "top_alert" in states[0]
        assert sum(t.startswith("homeassistant/") for t, _ in got) == 3
        # A wrong password is logged, not swallowed.
        with caplog.at_level(logging.WARNING, logger="tankeco.dashboard.ha"):
            bad = HomeAssistantPublisher(broker.url, username="tankeco", password="wrong")
            deadline = time.monotonic() + 15
            while "refused the login" not in caplog.text:
                assert time.monotonic() < deadline, caplog.text
                time.sleep(0.1)
            assert bad.publish_state({"tank": "main"}) is False
            bad.close()
    finally:
        sub.loop_stop()
        broker.stop()
