"""What the keeper should do, in his words: alerts from readings, forecast and sensors.

Four kinds, each a small pure function so it can be tested on made-up numbers:

* free ammonia above its limit now (from the latest TAN, pH and temperature, which is
  what harms fish - total ammonia alone says little without the pH);
* nitrate will pass its limit in about N days, with the water change that keeps it
  below for another week and the day to do it by; never more than a safe single change
  (:data:`tankeco.scenario.thresholds.MAX_SINGLE_CHANGE_FRACTION`, 50 % unless the keeper
  sets another): when more is needed, a series of changes on consecutive days, with the
  nitrate each one leaves behind by the same balance;
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
#: Most changes a series may propose (one a day); beyond that the advice says so.
MAX_SERIES = 7


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
    latest: Mapping[str, Latest],
    now_mean: Mapping[str, float] | None = None,
    max_fraction: float = limits.MAX_SINGLE_CHANGE_FRACTION,
) -> list[Alert]:
    """Free ammonia now, from the newest fresh TAN + pH (+ temperature) or an NH3 probe.

    Falls back on the filter's estimate of now (``now_mean``) when readings are stale.
    The advice is the largest safe single change, ``max_fraction``, today.
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
            f"{limits.FREE_NH3_N_MG_L:.3f} - change "
            f"{max_fraction:.0%} of the water today and feed less",
            quantity="nh3_n",
        )
    ]


def recommended_fraction(
    level_mg_l: float, slope_mg_l_d: float, tap_mg_l: float, limit: float, margin_d: float
) -> float:
    """The water change that brings nitrate low enough to stay under ``limit`` for
    ``margin_d`` days at the present rise: (c + r*margin - limit) / (c - tap), in 5 %
    steps from 10 % to 90 %.  This is the *total* that is needed; :func:`change_series`
    splits it into changes a tank can take."""
    if level_mg_l <= tap_mg_l:
        return 0.1
    f = (level_mg_l + max(slope_mg_l_d, 0.0) * margin_d - limit) / (level_mg_l - tap_mg_l)
    return float(min(max(math.ceil(f * 20 - 1e-9) / 20, 0.1), 0.9))


@dataclass(frozen=True)
class ChangeSeries:
    """Water changes on consecutive days and the nitrate each leaves (mg N/L)."""

    fractions: tuple[float, ...]
    after_mg_l: tuple[float, ...]
    enough: bool
    #: Nitrate's rise, mg N/L a day, when it is too fast for a week's margin after the
    #: series (the series then stops half-way between tap and limit): a regular schedule
    #: is needed, not more changes now.  None when the margin is reached.
    fast_rise_mg_l_d: float | None = None

    def describe(self, when: str, limit: float | None = None) -> str:
        """``change 50% today, then 50% and 30% on the next 2 days (nitrate after each:
        20 → 11 → 7 mg N/L; under the 10 mg N/L limit from the 2nd change)``.

        Equal changes read "then 40% on each of the next 6 days"; with ``limit`` the text
        says after which change nitrate is under it (the later ones buy the margin).
        """
        first, rest = self.fractions[0], self.fractions[1:]
        text = f"change {first:.0%} {when}"
        if len(rest) == 1:
            text += f", then {rest[0]:.0%} on the next day"
        elif rest and len(set(rest)) == 1:
            text += f", then {rest[0]:.0%} on each of the next {len(rest)} days"
        elif rest:
            shares = [f"{f:.0%}" for f in rest]
            listed = ", ".join(shares[:-1]) + " and " + shares[-1]
            text += f", then {listed} on the next {len(rest)} days"
        path = " → ".join(f"{c:.1f}" for c in self.after_mg_l)
        text += f" (nitrate after {'each' if rest else 'it'}: {path} mg N/L"
        under = [i for i, c in enumerate(self.after_mg_l) if limit is not None and c < limit]
        if under and len(self.after_mg_l) > 1:
            text += f"; under the {limit:g} mg N/L limit from the {_ordinal(under[0] + 1)} change"
        text += ")"
        if not self.enough:
            text += "; that is not yet enough: keep changing daily and re-test"
        elif self.fast_rise_mg_l_d is not None:
            text += (
                f"; nitrate rises {self.fast_rise_mg_l_d:.1f} mg N/L a day here: keep it under"
                " with regular changes ('tankeco plan water-changes' finds the schedule)"
            )
        return text


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... (up to :data:`MAX_SERIES`)."""
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


def change_series(
    level_mg_l: float,
    slope_mg_l_d: float,
    tap_mg_l: float,
    limit: float,
    margin_d: float = MARGIN_D,
    max_fraction: float = limits.MAX_SINGLE_CHANGE_FRACTION,
) -> ChangeSeries:
    """The fewest daily changes, none above ``max_fraction``, that leave nitrate low enough.

    A change of fraction f leaves ``c' = c - f (c - tap)`` (complete mixing with tap water
    of ``tap``); between two changes nitrate rises by the present ``slope`` a day.  Target:
    low enough to stay under ``limit`` for ``margin_d`` days, i.e. ``c' <= limit - slope *
    margin_d`` (the :func:`recommended_fraction` balance), but never below half-way
    between tap and limit: a rise so fast that a week's margin needs tap-level nitrate is
    approached only by ever more daily changes, and is a matter for a regular schedule
    (the series says so).  The last change of the series is the 5 % step that just
    reaches the target; at most :data:`MAX_SERIES` changes.
    """
    rise = max(slope_mg_l_d, 0.0)
    wanted = limit - rise * margin_d
    target = max(wanted, (limit + tap_mg_l) / 2.0, tap_mg_l)
    fast = rise if wanted < target else None
    fractions: list[float] = []
    after: list[float] = []
    c = level_mg_l
    while len(fractions) < MAX_SERIES:
        if c <= tap_mg_l:
            break
        need = (c - target) / (c - tap_mg_l)
        f = min(max(math.ceil(need * 20 - 1e-9) / 20, 0.1), max_fraction)
        c = c - f * (c - tap_mg_l)
        fractions.append(f)
        after.append(c)
        if c <= target + 1e-9:
            return ChangeSeries(tuple(fractions), tuple(after), True, fast)
        c += rise  # one day later, before the next change
    return ChangeSeries(tuple(fractions), tuple(after), False, fast)


def nitrate(
    forecast: Forecast,
    day_name: Callable[[float], str],
    limit: float = limits.NO3_N_MG_L,
    max_fraction: float = limits.MAX_SINGLE_CHANGE_FRACTION,
) -> list[Alert]:
    """Nitrate over its limit now, or when the forecast median will cross it.

    The advice never asks for more than ``max_fraction`` at once (see :func:`change_series`).
    """
    col = "no3_n_mg_l"
    med = forecast.median[col]
    t = forecast.time_d
    tap = float(forecast.extra.get("tap_no3_n_mg_l", 0.0))
    slope = float(np.polyfit(t - t[0], med, 1)[0]) if t.size > 2 else 0.0
    now = float(med[0])
    if now > limit:
        series = change_series(now, slope, tap, limit, MARGIN_D, max_fraction)
        return [
            Alert(
                WARNING,
                "nitrate_above_limit",
                f"nitrate {now:.1f} mg N/L is above the {limit:g} mg N/L limit now - "
                + series.describe("today", limit),
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
    series = change_series(level_at_due, slope, tap, limit, MARGIN_D, max_fraction)
    when = "today" if due - forecast.now_d < 1 else f"by {day_name(due)}"
    return [
        Alert(
            WARNING if in_days < 3 else INFO,
            "nitrate_will_pass_limit",
            f"nitrate will pass the limit in about {max(round(in_days), 1)} days - "
            + series.describe(when, limit),
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
