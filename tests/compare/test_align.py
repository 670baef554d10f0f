"""Alignment of readings with the model: clocks, kit intervals, metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tankeco.compare.align import (
    KIT,
    Clock,
    align,
    kit_interval,
    metrics,
    model_at,
    observations,
)
from tankeco.errors import UserError
from tankeco.io.history import local_midnight_ms, zone


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_model_day_zero_is_local_midnight_in_the_keepers_zone():
    # 01:00 UTC is 09:00 in Shanghai: the feeding time of the scenario, day 0.375
    reading = _ms("2026-11-26T01:00:00+00:00")
    origin = local_midnight_ms(reading, zone("Asia/Shanghai"))
    assert origin == _ms("2026-11-26T00:00:00+08:00")
    assert Clock(origin).days(reading) == pytest.approx(0.375)
    # in New York the same instant is 20:00 the evening before
    ny = local_midnight_ms(reading, zone("America/New_York"))
    assert ny == _ms("2026-11-25T00:00:00-05:00")
    assert Clock(ny).days(reading) == pytest.approx(20 / 24)
    assert Clock(origin).ms(0.375) == reading


def test_unknown_time_zone_is_a_one_line_user_error():
    with pytest.raises(UserError, match="--tz 'Mars/Olympus'"):
        zone("Mars/Olympus")


def test_kit_interval_halfway_to_the_neighbouring_steps():
    card = (0, 5, 10, 20, 40, 80, 160)
    assert kit_interval(20, card) == (15, 30)
    assert kit_interval(0, card) == (0, 2.5)
    assert kit_interval(160, card) == (120, 200)
    # an entry between two steps (interpolated by eye) stands for the gap between them
    assert kit_interval(24, card) == (20, 40)


def test_observations_weigh_kits_by_their_card_and_metrics_count_hits():
    clock = Clock(_ms("2026-11-01T00:00:00+00:00"))
    day = 86_400_000
    readings = pd.DataFrame(
        {
            "ts_ms": [clock.origin_ms + day // 2, clock.origin_ms + day],
            "sensor": ["p", "p"],
            "quantity": ["no3_n", "ec"],  # ec is not modelled: dropped
            "value": [10.5, 400.0],
        }
    )
    manual = pd.DataFrame(
        {
            "ts_ms": [clock.origin_ms + day, clock.origin_ms + 2 * day],
            "quantity": ["no3_n", "no3_n"],
            "value": [10.0, 20.0],
            "kit": ["api", "api"],
        }
    )
    steps = {("api", "no3_n"): (0, 5, 10, 20, 40)}
    obs = observations(readings, manual, clock, steps)
    assert list(obs["quantity"]) == ["no3_n"] * 3
    kit = obs[obs["source"] == KIT]
    assert list(kit["res_lo"]) == [7.5, 15]
    assert kit["sigma"].iloc[1] == pytest.approx(15 / np.sqrt(12))
    ts = pd.DataFrame({"time_d": [0.0, 1.0, 2.0], "no3_n_mg_l": [10.0, 11.0, 14.0]})
    assert model_at(ts, obs) == pytest.approx([10.5, 11.0, 14.0])
    fits = metrics(align(ts, obs))
    (f,) = fits
    assert f.n == 3
    # residuals: 0, +1, -6
    assert f.bias == pytest.approx(-5 / 3)
    assert f.rmse == pytest.approx(np.sqrt(37 / 3))
    # 11 is inside [7.5, 15] for the "10" reading; 14 is outside [15, 30] for "20"
    assert (f.n_kit, f.kit_within_share) == (2, 0.5)


def test_observations_outside_the_run_get_no_model_value():
    ts = pd.DataFrame({"time_d": [0.0, 1.0], "tan_mg_l": [0.1, 0.2]})
    obs = pd.DataFrame({"time_d": [0.5, 3.0], "quantity": ["tan_n", "tan_n"]})
    out = model_at(ts, obs)
    assert out[0] == pytest.approx(0.15) and np.isnan(out[1])


def test_clock_round_trip_keeps_utc():
    origin = _ms("2026-03-29T00:00:00+01:00")
    c = Clock(origin)
    t = datetime.fromtimestamp(int(c.ms(1.5)) / 1000, UTC)
    assert t.isoformat() == "2026-03-30T11:00:00+00:00"
