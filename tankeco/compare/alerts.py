"""What the keeper should do, in his words: alerts from readings, forecast and sensors.

Four kinds, each a small pure function so it can be tested on made-up numbers:

* free ammonia above its limit now (from the latest TAN, pH and temperature, which is
  what harms fish - total ammonia alone says little without the pH);
* nitrate will pass its limit in about N days, with the water change that keeps it
  below for another week and the day to do it by;
* a sensor silent for longer than it should be;
* a pH probe drifting against the keeper's test-kit readings.

Messages are plain text; whoever shows them must not interpret them as markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from tankeco.chemistry.ammonia import free_ammonia_n_mg_l
from tankeco.scenario import thresholds as limits

if TYPE_CHECKING:  # the dashboard imports this module without the model (memory)
    from tankeco.compare.forecast import Forecast

CRITICAL, WARNING, INFO = "critical", "warning", "info"

#: Readings older than this do not describe "now" (minutes).
FRESH_MIN = 60.0
#: A sensor is silent after this many minutes without a reading (default).
SILENT_MIN = 20.0
#: pH probe against kit: alert when the latest difference is this large (pH units) and
#: has grown by at least DRIFT_GROWTH since the first comparison.  The API card's steps
#: are 0.2 apart, so smaller differences are within reading error.
DRIFT_PH = 0.3
DRIFT_GROWTH = 0.2
#: Days of margin a recommended water change should buy.
MARGIN_D = 7.0


@dataclass(frozen=True)
class Alert:
    """One thing to tell the keeper."""

    level: str
    code: str
    message: str
    quantity: str | None = None
    sensor: str | None = None
    due_d: float | None = None  # model day it is due by, where that makes sense

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Latest:
    """The newest reading of one quantity."""

    value: float
    age_min: float


def free_ammonia(
    latest: Mapping[str, Latest], now_mean: Mapping[str, float] | None = None
) -> list[Alert]:
    """Free ammonia now, from the newest fresh TAN + pH (+ temperature) or an NH3 probe.

    Falls back on the filter's estimate of now (``now_mean``) when readings are stale.
    """
    fresh = {q: r for q, r in latest.items() if r.age_min <= FRESH_MIN}
    nh3 = None
    how = ""
    if "nh3_n" in fresh:
        nh3, how = fresh["nh3_n"].value, "measured"
    elif "tan_n" in fresh and "ph" in fresh:
        temp = fresh["temperature"].value if "temperature" in fresh else 25.0
        nh3 = float(free_ammonia_n_mg_l(fresh["tan_n"].value, fresh["ph"].value, temp))
        how = f"from TAN {fresh['tan_n'].value:.2f} mg N/L at pH {fresh['ph'].value:.2f}"
    elif now_mean and "nh3_n" in now_mean:
        nh3, how = now_mean["nh3_n"], "estimated by the model from recent readings"
    if nh3 is None or nh3 <= limits.FREE_NH3_N_MG_L:
        return []
    return [
        Alert(
            CRITICAL,
            "free_ammonia_now",
            f"free ammonia above limit now: {nh3:.3f} mg NH3-N/L ({how}); limit "
            f"{limits.FREE_NH3_N_MG_L:.3f} - change 50 % of the water today and feed less",
            quantity="nh3_n",
        )
    ]


def recommended_fraction(
    level_mg_l: float, slope_mg_l_d: float, tap_mg_l: float, limit: float, margin_d: float
) -> float:
    """The water change that brings nitrate low enough to stay under ``limit`` for
    ``margin_d`` days at the present rise: (c + r*margin - limit) / (c - tap), in 5 %
    steps from 10 % to 90 %."""
    if level_mg_l <= tap_mg_l:
        return 0.1
    f = (level_mg_l + max(slope_mg_l_d, 0.0) * margin_d - limit) / (level_mg_l - tap_mg_l)
    return float(min(max(math.ceil(f * 20 - 1e-9) / 20, 0.1), 0.9))


def nitrate(
    forecast: Forecast,
    day_name: Callable[[float], str],
    limit: float = limits.NO3_N_MG_L,
) -> list[Alert]:
    """Nitrate over its limit now, or when the forecast median will cross it."""
    col = "no3_n_mg_l"
    med = forecast.median[col]
    t = forecast.time_d
    tap = float(forecast.extra.get("tap_no3_n_mg_l", 0.0))
    slope = float(np.polyfit(t - t[0], med, 1)[0]) if t.size > 2 else 0.0
    now = float(med[0])
    if now > limit:
        f = recommended_fraction(now, slope, tap, limit, MARGIN_D)
        return [
            Alert(
                WARNING,
                "nitrate_above_limit",
                f"nitrate {now:.1f} mg N/L is above the {limit:g} mg N/L limit now - change "
                f"{f:.0%} today",
                quantity="no3_n",
                due_d=forecast.now_d,
            )
        ]
    cross = forecast.crossing_d(col, limit)
    if cross is None:
        return []
    in_days = cross - forecast.now_d
    due = max(forecast.now_d, cross - 0.5)
    level_at_due = float(np.interp(due, t, med))
    f = recommended_fraction(level_at_due, slope, tap, limit, MARGIN_D)
    when = "today" if due - forecast.now_d < 1 else f"by {day_name(due)}"
    return [
        Alert(
            WARNING if in_days < 3 else INFO,
            "nitrate_will_pass_limit",
            f"nitrate will pass the limit in about {max(round(in_days), 1)} days - change "
            f"{f:.0%} {when}",
            quantity="no3_n",
            due_d=due,
        )
    ]


def silent_sensors(
    last_seen_min: Mapping[str, float], silent_after_min: float = SILENT_MIN
) -> list[Alert]:
    """Sensors not heard from for longer than ``silent_after_min`` (minutes since last)."""
    return [
        Alert(
            WARNING,
            "sensor_silent",
            f"sensor {name} silent for {age:.0f} min",
            sensor=name,
        )
        for name, age in sorted(last_seen_min.items())
        if age > silent_after_min
    ]


def ph_drift(pairs: Iterable[tuple[float, float, float]], sensor: str = "pH probe") -> list[Alert]:
    """A pH probe whose difference to the kit has grown: ``pairs`` of (day, kit, probe).

    Probes drift as their reference junction ages; a growing offset against the kit (not
    a steady one, which may be the kit's own colour bias) means recalibrate.
    """
    p = sorted(pairs)
    if len(p) < 2:
        return []
    diffs = [probe - kit for _, kit, probe in p]
    first, last = diffs[0], diffs[-1]
    if abs(last) < DRIFT_PH or abs(last - first) < DRIFT_GROWTH:
        return []
    return [
        Alert(
            WARNING,
            "ph_probe_drift",
            f"pH probe drifting against test-kit readings: it reads {last:+.2f} against the "
            f"kit (was {first:+.2f}) - recalibrate the probe",
            quantity="ph",
            sensor=sensor,
        )
    ]


def water_change_countdown_d(forecast: Forecast, limit: float = limits.NO3_N_MG_L) -> float:
    """Days until nitrate passes the limit (0 if it already has; inf if not in the horizon)."""
    if forecast.median["no3_n_mg_l"][0] > limit:
        return 0.0
    cross = forecast.crossing_d("no3_n_mg_l", limit)
    return math.inf if cross is None else cross - forecast.now_d
