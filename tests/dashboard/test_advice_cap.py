"""The dashboard's water-change advice keeps the keeper's cap (issue 11, point 3).

Before: the alert said "nitrate 29.2 mg N/L is above the limit now - change 90% today",
and the dashboard had no option for the largest safe single change that ``plan`` takes.
Now both read ``--max-fraction`` (one option, one parser) and the advice splits a larger
need into a series of changes over days, with the nitrate each one leaves.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from tankeco.cli import main
from tankeco.compare.replay import Knobs
from tankeco.scenario.loading import load_scenario
from tankeco.store import open_store
from tests.compare.synthetic import MS_PER_DAY, write_history
from tests.dashboard.browser import Dashboard


def _nitrate_far_above_the_limit(tmp_path: Path) -> str:
    """Two days of the seed tank's readings: nitrate near 29 mg N/L, the limit is 10."""
    url = f"sqlite:///{tmp_path / 'cap.db'}"
    store = open_store(url)
    write_history(
        store, load_scenario(None), Knobs(), origin_ms=int(time.time() * 1000) - 2 * MS_PER_DAY,
        days=2.0, every_min=15, tank="main", quantities=("tan_n", "no3_n", "ph"),
    )  # fmt: skip
    store.close()
    return url


def _state_with_forecast(url: str, timeout_s: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(url + "api/state", timeout=10) as r:
            state = json.load(r)
        if state["forecast_status"] == "ok" or time.monotonic() > deadline:
            return state
        time.sleep(1.0)


@pytest.mark.integration
def test_the_real_dashboard_never_advises_more_than_max_fraction(tmp_path: Path) -> None:
    store_url = _nitrate_far_above_the_limit(tmp_path)
    server = Dashboard(tmp_path, store_url, ["--tank", "main", "--tz", "UTC",
                                             "--max-fraction", "40%"])  # fmt: skip
    try:
        state = _state_with_forecast(server.url)
    finally:
        server.stop()
    assert state["forecast_status"] == "ok", state["forecast_status"] + server.log
    (advice,) = [a for a in state["alerts"] if a["code"] == "nitrate_above_limit"]
    shares = [int(p) for p in re.findall(r"(\d+)%", advice["message"])]
    assert shares and max(shares) <= 40, advice["message"]
    # more than 40 % is needed (29 -> under 10 mg N/L): a series over days, each step's nitrate
    assert (
        advice["message"].startswith("nitrate ") and "change 40% today, then" in advice["message"]
    )
    assert re.search(r"on (each of )?the next \d days", advice["message"])
    assert "nitrate after each:" in advice["message"]
    assert "under the 10 mg N/L limit from the" in advice["message"]
    assert all(
        max((int(p) for p in re.findall(r"(\d+)%", a["message"])), default=0) <= 40
        for a in state["alerts"]
    )


def test_max_fraction_is_checked_like_plans(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    open_store(url).close()
    for args in (["dashboard", "--store", url], ["plan", "water-changes"]):
        assert main([*args, "--max-fraction", "150%"]) == 2
        err = capsys.readouterr().err.strip()
        assert (
            err
            == "tankeco: error: --max-fraction '150%': allowed more than 0, up to 1 (or up to 100%)"
        )


def test_the_free_ammonia_advice_keeps_the_cap_too() -> None:
    from tankeco.compare import alerts

    fresh = {"nh3_n": alerts.Latest(0.1, 1.0)}  # 0.1 mg N/L, the limit is 0.016
    (capped,) = alerts.free_ammonia(fresh, None, max_fraction=0.4)
    assert "change 40% of the water today" in capped.message
    (default,) = alerts.free_ammonia(fresh)
    assert "change 50% of the water today" in default.message
