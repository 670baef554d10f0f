"""The plain verdict at the end of ``tankeco simulate``: what went wrong, when, why, what helps.

A run that spent 47 days above the nitrite limit used to end with a table of numbers and
exit code 0.  The verdict reads the time series against the keeper's limits
(:mod:`tankeco.scenario.thresholds`, each with its source there) and, for every limit
broken, names the first day, the time above it, the most likely cause the model shows
*before* that day, and what would prevent it.  The causes are checked in the order a
keeper would look: pump off, biofilter not yet cycled, alkalinity exhausted, pH below the
floor, bed out of oxygen, then the plain load (or, for nitrate, too little water changed).

The same dictionary goes into ``summary.json`` (key ``verdict``); ``simulate --strict``
exits 1 when ``breaches`` is not empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from tankeco.scenario import thresholds as limits
from tankeco.sim.results import Results

#: Nitrification uses 7.14 g alkalinity (as CaCO3) per g N oxidised (US EPA 1993, Manual:
#: Nitrogen Control, EPA/625/R-93/010; Timmons & Ebeling 2010).
ALK_PER_N_G_CACO3 = 7.14


@dataclass(frozen=True)
class Breach:
    """One limit broken during the run."""

    what: str
    column: str
    limit: float
    unit: str
    first_day: float
    last_day: float
    above_at_end: bool
    days_above: float
    worst: float
    cause: str
    prevent: str


@dataclass
class Verdict:
    """Plain-words outcome of a run: ``ok`` when no limit was broken."""

    ok: bool
    text: str
    breaches: list[Breach] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "text": self.text, "breaches": [asdict(b) for b in self.breaches]}


def _first_day(time_d: np.ndarray, mask: np.ndarray) -> float | None:
    idx = np.flatnonzero(mask)
    return float(time_d[idx[0]]) if idx.size else None


def _cause(ts, day: float, column: str, new_tank: bool, cycled_day: float | None):
    """(cause, prevention) for a breach that starts on ``day``: the first culprit before it."""
    t = np.asarray(ts["time_d"])
    before = t <= day + 1e-9
    pump_off = _first_day(t, before & ~np.asarray(ts["pump_on"], dtype=bool))
    if pump_off is not None and day - pump_off < 2.0:
        return (
            f"the pump was off from day {pump_off:.1f}: the bed got no water to clean",
            "keep the pump running (a spare pump, or a timer that restarts it)",
        )
    if column != "no3_n_mg_l" and new_tank and (cycled_day is None or day < cycled_day):
        return (
            "the biofilter was still cycling (a new tank): too few nitrifiers for the load",
            "cycle the tank before adding animals (sims/fishless_cycling.toml), or feed less"
            " until ammonia and nitrite read 0",
        )
    alk_low = _first_day(t, before & (np.asarray(ts["alk_mg_l_caco3"]) < limits.ALK_MIN_MG_L_CACO3))
    if alk_low is not None and column != "no3_n_mg_l":
        return (
            f"alkalinity exhausted on day {alk_low:.0f} (below {limits.ALK_MIN_MG_L_CACO3:g}"
            f" mg/L CaCO3; nitrification uses {ALK_PER_N_G_CACO3:g} g CaCO3 per g N), so"
            " nitrification stalled",
            "add baking soda (--set buffer.enabled=true), use harder tap water, or change"
            " more water",
        )
    ph_low = _first_day(t, before & (np.asarray(ts["ph"]) < limits.PH_MIN))
    if ph_low is not None and column != "no3_n_mg_l":
        return (
            f"pH fell below {limits.PH_MIN:g} on day {ph_low:.0f}: nitrifiers slow down",
            "keep alkalinity up (baking soda, harder tap water, larger water changes)",
        )
    anoxic = _first_day(t, before & (np.asarray(ts["anoxic_zones"]) > 0))
    if anoxic is not None and column != "no3_n_mg_l":
        return (
            f"part of the bed ran out of oxygen from day {anoxic:.0f}",
            "more flow through the bed (pump, pipe layout) or less waste in it",
        )
    if column == "no3_n_mg_l":
        return (
            "water changes remove less nitrate than the tank makes (nothing else removes it"
            " in an aerated tank)",
            "bigger or more frequent water changes: 'tankeco plan water-changes' finds a"
            " schedule; live plants take up some",
        )
    if column == "do_mg_l":
        return (
            "respiration of animals and biofilm outpaces aeration",
            "more surface movement or an air stone; fewer animals",
        )
    return (
        "the animals' waste outpaces what the bed nitrifies",
        "feed less, keep fewer animals, or give the bed more flow",
    )


#: (what, column, limit, unit, compare): the limits the verdict checks, all from thresholds.
CHECKS: tuple[tuple[str, str, float, str, str], ...] = (
    ("free ammonia NH3", "nh3_mg_l", limits.FREE_NH3_N_MG_L, "mg N/L", "above"),
    ("nitrite", "no2_n_mg_l", limits.NO2_N_MG_L, "mg N/L", "above"),
    ("nitrate", "no3_n_mg_l", limits.NO3_N_MG_L, "mg N/L", "above"),
    ("oxygen", "do_mg_l", limits.DO_MIN_MG_L, "mg/L", "below"),
    ("pH", "ph", limits.PH_MIN, "", "below"),
)


def verdict(results: Results, *, has_animals: bool = True) -> Verdict:
    """The verdict of a run (see the module docstring)."""
    ts = results.columns
    t = np.asarray(ts["time_d"])
    dt = np.diff(t, prepend=t[0])
    s = results.summary
    new_tank = s.get("start") == "new"
    breaches = []
    for what, col, limit, unit, direction in CHECKS:
        x = np.asarray(ts[col])
        bad = x > limit if direction == "above" else x < limit
        first = _first_day(t, bad)
        if first is None:
            continue
        cause, prevent = _cause(ts, first, col, new_tank, s.get("cycle_completed_day"))
        worst = float(x.max() if direction == "above" else x.min())
        last = float(t[np.flatnonzero(bad)[-1]])
        breaches.append(
            Breach(what, col, limit, unit, first, last, bool(bad[-1]), float(dt[bad].sum()),
                   worst, cause, prevent)
        )  # fmt: skip
    if not breaches:
        return Verdict(True, "verdict: every limit kept (free ammonia, nitrite, nitrate,"
                       " oxygen, pH)")  # fmt: skip
    if not has_animals:
        return _without_animals(breaches)
    lines = ["verdict: LIMITS BROKEN"]
    for b in breaches:
        sign = ">" if b.column != "ph" and b.column != "do_mg_l" else "<"
        lines.append(
            f"- {b.what} {sign} {b.limit:.3g} {b.unit}".rstrip()
            + f" from day {b.first_day:.0f} ({b.days_above:.1f} d in all; worst {b.worst:.3g})"
        )
        lines.append(f"  likely cause: {b.cause}")
        lines.append(f"  would prevent it: {b.prevent}")
    return Verdict(False, "\n".join(lines), breaches)


def _without_animals(breaches: list[Breach]) -> Verdict:
    """A tank without animals (fishless cycling): no animal met a limit; say when it is safe.

    High ammonia and nitrite are the point of fishless cycling, so they are not a breach;
    what the keeper needs is whether the water is fit for animals at the end.
    """
    lines = ["verdict: no animals in this scenario, so no limit was broken for one"]
    for b in breaches:
        if b.above_at_end:
            lines.append(
                f"- {b.what} is still beyond its limit ({b.limit:.3g} {b.unit}) at the end:"
                f" fix it before animals go in ({b.prevent})".replace("  ", " ")
            )
        else:
            lines.append(
                f"- {b.what} was beyond its limit ({b.limit:.3g} {b.unit}) until day"
                f" {b.last_day:.0f}".replace("  ", " ")
            )
    return Verdict(True, "\n".join(lines), breaches)
