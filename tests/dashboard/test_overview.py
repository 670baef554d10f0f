"""The overview of every tank: API, cost, page routing, forecasts, and real Chromium."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from tankeco.dashboard.app import create_app
from tankeco.dashboard.fleet import UNVIEWED_EVERY_S, Fleet
from tankeco.dashboard.monitor import Monitor
from tankeco.scenario.loading import load_scenario
from tankeco.store import Batch, ManualEntry, Reading, open_store

XSS = "<script>alert(1)</script>"


def _now() -> int:
    return int(time.time() * 1000)


def fleet_store(url: str, *, healthy: int = 3, hours: float = 2.0) -> None:
    """Healthy tanks, one with deadly free ammonia, one gone silent, one named like a
    script, and one known only from a kit entry."""
    now = _now()
    rows: list[Reading] = []
    n = int(hours * 60)

    def tank(name: str, values: dict[str, tuple[str, float]], last_min: float = 0.0) -> None:
        for sensor, (q, v) in values.items():
            rows.extend(
                Reading(now - int((last_min + i) * 60_000), "home", name, sensor, q, v, "", seq=i)
                for i in range(n)
            )

    normal = {"temp": ("temperature", 25.0), "ph": ("ph", 7.2), "tan": ("tan_n", 0.05),
              "no3": ("no3_n", 6.0)}  # fmt: skip
    for k in range(healthy):
        tank(f"shop {k + 1}", normal)
    tank("quarantine", {**normal, "tan": ("tan_n", 3.0), "ph": ("ph", 8.3), "no3": ("no3_n", 12.0)})
    tank("breeder", normal, last_min=90)
    tank(XSS, normal)
    s = open_store(url)
    s.write(Batch(readings=rows))
    s.write(Batch(manual=[ManualEntry(now, "home", "kit only", "no3_n", 5.0, "mg/L", 5.0,
                                      "mg/L", kit="API")]))  # fmt: skip
    s.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'fleet.db'}"
    fleet_store(u)
    return u


def _client(url: str, **kw) -> TestClient:
    monitor = Monitor(url, load_scenario(None), tank=kw.pop("tank", None))
    return TestClient(create_app(monitor, start_forecast=False, **kw), base_url="http://127.0.0.1")


def test_overview_gives_each_tank_its_status_last_reading_and_top_alert(url: str) -> None:
    with _client(url) as c:
        ov = c.get("/api/overview").json()
    by = {t["tank"]: t for t in ov["tanks"]}
    assert set(by) == {"shop 1", "shop 2", "shop 3", "quarantine", "breeder", XSS, "kit only"}
    # the tank page's own free-ammonia rule: 3 mg N/L TAN at pH 8.3 is far above 0.02
    assert by["quarantine"]["status"] == "alarm"
    assert by["quarantine"]["top_alert"]["code"] == "free_ammonia_now"
    assert by["breeder"]["status"] == "silent" and by["breeder"]["silent"] == 4
    assert 89 < by["breeder"]["age_min"] < 92
    assert by["breeder"]["top_alert"]["code"] == "sensor_silent"
    assert by["shop 1"]["status"] == "ok" and by["shop 1"]["top_alert"] is None
    assert by["shop 1"]["no3_n"]["value"] == 6.0 and by["shop 1"]["sensors"] == 4
    assert by["kit only"]["status"] == "no readings" and by["kit only"]["last_reading_ms"] is None
    assert by[XSS]["tank"] == XSS  # returned verbatim as JSON text
    assert all(t["forecast"]["status"] == "queued" for t in ov["tanks"])
    # the most urgent first
    assert [t["tank"] for t in ov["tanks"]][:2] == ["quarantine", "breeder"]
    assert ov["counts"] == {"alarm": 1, "warning": 0, "silent": 1, "ok": 4, "no readings": 1}


def test_overview_costs_the_same_few_queries_for_any_number_of_tanks(tmp_path: Path) -> None:
    """Not one query per tank: the store is asked three times for 7 tanks and for 57."""
    counts = []
    for healthy in (3, 53):
        u = f"sqlite:///{tmp_path / f'n{healthy}.db'}"
        fleet_store(u, healthy=healthy, hours=0.2)
        fleet = Fleet(Monitor(u, load_scenario(None)))
        calls: list[str] = []
        real = fleet._store._query

        def counting(sql: str, params=(), real=real, calls=calls):  # noqa: ANN001
            calls.append(sql)
            return real(sql, params)

        fleet._store._query = counting  # type: ignore[method-assign]
        try:
            assert len(fleet.overview()["tanks"]) == healthy + 4
        finally:
            fleet.close()
        counts.append(len(calls))
    assert counts == [3, 3]


def test_root_opens_on_the_overview_with_several_tanks_and_tank_pages_keep_their_urls(
    url: str,
) -> None:
    with _client(url) as c:
        root = c.get("/")
        assert root.status_code == 200 and 'src="static/overview.js"' in root.text
        assert "script-src 'self'" in root.headers["content-security-policy"]
        assert root.headers["x-content-type-options"] == "nosniff"
        page = c.get("/?tank=breeder")
        assert page.status_code == 200 and 'src="static/app.js"' in page.text
        assert c.get("/tanks").text == root.text
        st = c.get("/api/state", params={"tank": "breeder"}).json()
        assert st["tank"] == "breeder" and len(st["sensors"]) == 4
        series = c.get("/api/series", params={"tank": XSS, "hours": 1}).json()
        assert series["tank"] == XSS and len(series["series"]) == 4
        for path in ("/?tank=nope", "/api/state?tank=nope", "/api/series?tank=nope",
                     "/api/stream?tank=nope"):  # fmt: skip
            r = c.get(path)
            assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
        assert c.get("/static/overview.js").status_code == 200
    with _client(url, tank="shop 2") as c:  # --tank: '/' is that tank's page, as before
        assert 'src="static/app.js"' in c.get("/").text
        assert c.get("/api/state").json()["tank"] == "shop 2"


def test_the_overview_needs_the_token_like_everything_else(url: str) -> None:
    with _client(url, host="0.0.0.0", token="s3cret-token") as c:
        assert c.get("/tanks").status_code == 401
        assert c.get("/api/overview").status_code == 401
        assert c.get("/tanks?token=s3cret-token").status_code == 200
        assert c.get("/api/overview").status_code == 200  # the cookie carries it


def test_forecasts_go_to_viewed_pages_first_then_missing_then_oldest(url: str) -> None:
    fleet = Fleet(Monitor(url, load_scenario(None)))
    try:
        now = fleet.default.clock()
        old = now - 2 * int(UNVIEWED_EVERY_S * 1000)
        recent = now - 2 * int(fleet.default.forecast_every_s * 1000)  # old for a viewed page
        for tank, tried in (("shop 1", old - 1000), ("shop 2", old), ("shop 3", recent),
                            ("breeder", recent)):  # fmt: skip
            fleet._take({"tank": tank, "status": "forecast failed: test"})
            fleet._forecasts[tank].tried_ms = tried
        fleet.monitor("breeder")  # its page was opened
        assert fleet.due() == ["breeder", XSS, "kit only", "quarantine", "shop 1", "shop 2"]
        assert fleet.overview()["tanks"][0]["forecast"]["status"] == "queued"
    finally:
        fleet.close()


@pytest.mark.integration
def test_one_worker_forecasts_several_tanks_and_the_open_page_gets_its_band(
    tmp_path: Path,
) -> None:
    from tankeco.compare.replay import Knobs
    from tests.compare.synthetic import MS_PER_DAY, write_history

    u = f"sqlite:///{tmp_path / 'f.db'}"
    s = open_store(u)
    now = _now()
    for tank in ("a", "b"):
        write_history(
            s, load_scenario(None), Knobs(), origin_ms=now - 2 * MS_PER_DAY, days=2.0,
            every_min=30, tank=tank, quantities=("tan_n", "no3_n", "ph"),
        )  # fmt: skip
    s.close()
    fleet = Fleet(Monitor(u, load_scenario(None), tz_name="UTC"))
    try:
        page_b = fleet.monitor("b")
        fleet.refresh_forecasts(["a", "b"])
        ov = {t["tank"]: t for t in fleet.overview()["tanks"]}
        for tank in ("a", "b"):
            assert ov[tank]["forecast"]["status"] == "ok"
            # the seed tank sits far above 10 mg N/L nitrate: the change is due now
            assert ov[tank]["forecast"]["countdown_d"] == 0.0
            assert ov[tank]["top_alert"]["code"] == "nitrate_above_limit"
        st = page_b.state()
        assert st["forecast_status"] == "ok" and len(st["forecast"]["no3_n"]["t"]) > 14 * 24
        # a page opened later gets the kept forecast at once
        assert fleet.monitor("a").state()["forecast_status"] == "ok"
    finally:
        fleet.close()


@pytest.mark.integration
def test_overview_in_chromium_shows_names_as_text_and_links_to_each_tank(tmp_path: Path) -> None:
    from tests.dashboard.browser import Dashboard, browser_page

    u = f"sqlite:///{tmp_path / 'b.db'}"
    fleet_store(u)
    dash = Dashboard(tmp_path, u)
    try:
        with browser_page(width=1400, height=700) as page:
            page.goto(dash.url)
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            hosts = {urlsplit(r).netloc for r in page.requests if not r.startswith("data:")}
            assert hosts == {f"127.0.0.1:{dash.port}"}, page.requests
            assert not any("plotly" in r for r in page.requests)  # the overview is light
            assert page.evaluate("window.tankeco.rows") == 7
            rows = page.locator("#tanks tbody tr")
            first = rows.nth(0).inner_text()
            assert "ALARM" in first and "quarantine" in first and "free ammonia" in first
            assert "12.0 mg N/L" in first and "above the 10 limit" in first  # the reading
            assert "SILENT" in rows.nth(1).inner_text()
            # the tank called <script>alert(1)</script> is shown as those characters
            xss_row = page.locator("#tanks tbody tr", has_text=XSS)
            assert xss_row.count() == 1 and "OK" in xss_row.inner_text()
            page.wait_for_timeout(300)
            assert page.dialogs == [], "a tank name was executed as script"
            assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
            page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
            # its link opens that tank's page with its charts
            xss_row.locator("a").click()
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            assert page.evaluate("new URLSearchParams(location.search).get('tank')") == XSS
            assert page.locator("#tank").inner_text() == XSS
            assert page.locator("#chart-no3_n .plot").count() == 1
            page.wait_for_timeout(300)
            assert page.dialogs == [] and page.errors == []
    finally:
        dash.stop()
    assert (tmp_path / "overview.png").stat().st_size > 20_000
