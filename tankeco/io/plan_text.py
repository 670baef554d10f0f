"""The plan and its risk as text tables for the terminal."""

from __future__ import annotations

import pandas as pd

from tankeco.plan.risk_search import RiskSearch
from tankeco.plan.water_changes import WaterChangePlan
from tankeco.units.molar import NO3_PER_NO3_N


def _schedule(interval_d: float, fraction: float) -> str:
    return f"{fraction * 100:>4.0f} % every {interval_d:g} d"


def schedule_text(interval_d: float, fraction: float) -> str:
    """'30 % every 2 d': a schedule as the tables write it."""
    return _schedule(interval_d, fraction).strip()


def format_plan(plan: WaterChangePlan, scenario) -> str:
    """Production, the least water any schedule needs, and the recommended schedules."""
    prod, lim = plan.production, plan.limits
    tap = scenario.tap.no3_n_mg_l
    lines = [
        f"nitrate production: {prod.no3_n_mg_d:.1f} mg N/d simulated (no changes, days "
        f"{prod.window_d[0]:g}-{prod.window_d[1]:g}); {prod.no3_n_feed_mg_d:.1f} mg N/d from "
        "the feed",
        f"alkalinity use: {-prod.alk_mg_d:.0f} mg CaCO3/d; water {prod.column_volume_l:.1f} L "
        f"column + {prod.total_volume_l - prod.column_volume_l:.1f} L in the bed",
        f"limits: nitrate <= {lim.max_no3_n_mg_l:.3g} mg N/L, free NH3 <= "
        f"{lim.max_nh3_n_mg_l:.3g} mg N/L, nitrite <= {lim.max_no2_n_mg_l:.3g} mg N/L, "
        f"alkalinity >= {lim.min_alk_mg_l_caco3:.3g} mg/L CaCO3, pH >= {lim.min_ph:.3g}",
    ]
    if lim.max_no3_n_mg_l > tap:
        least = prod.no3_n_mg_d * 30.0 / (lim.max_no3_n_mg_l - tap)
        lines.append(
            f"closed form: holding nitrate at {lim.max_no3_n_mg_l:.3g} mg N/L with tap water "
            f"at {tap:.3g} takes at least {least:.0f} L a month, however it is split"
        )
    else:
        lines.append("the tap water's nitrate is already above the limit: no schedule can work")
    sim = plan.table[plan.table["simulated"]]
    lines.append(
        f"{len(plan.table)} candidates, {len(sim)} simulated to their periodic steady state "
        f"({plan.days:g} d, judged over the last {plan.days - plan.window_start_d:g} d)"
    )
    rec = plan.recommended
    if rec.empty:
        lines.append(
            "no candidate keeps every limit: feed less, raise --max-fraction or relax a limit"
        )
        return "\n".join(lines)
    rows = []
    for r in rec.itertuples():
        rows.append(
            {
                "schedule": _schedule(r.interval_d, r.fraction),
                "water L/month": f"{r.water_l_per_month:.0f}",
                "nitrate high-low": f"{r.no3_peak:.1f}-{r.no3_low:.1f}",
                "= ppm NO3": f"{r.no3_peak * NO3_PER_NO3_N:.0f}-{r.no3_low * NO3_PER_NO3_N:.0f}",
                "alk low": f"{r.alk_low:.0f}",
                "pH low": f"{r.ph_low:.2f}",
                "NH3-N peak": f"{r.nh3_peak:.4f}",
            }
        )
    lines.append(
        "schedules that keep every limit in the steady state (fewest changes first;"
        " nitrate mg N/L, alkalinity mg/L CaCO3; the closed-form checks are in"
        " plan_recommended.csv):"
    )
    lines.append(pd.DataFrame(rows).to_string(index=False))
    return "\n".join(lines)


def risk_verdicts(rec: pd.DataFrame, max_risk: float) -> list[str]:
    """One word per schedule: ``ok`` when the Monte Carlo's P(any breach) <= ``max_risk``."""
    if "p_any" not in rec:
        return ["not assessed"] * len(rec)
    return [
        "not assessed" if pd.isna(p) else ("ok" if p <= max_risk else "UNSAFE")
        for p in rec["p_any"]
    ]


def format_recommendation(rec: pd.DataFrame, max_risk: float) -> str:
    """The one schedule to follow, or why none is recommended: never an unsafe one silently.

    A schedule that keeps the limits in the steady state can still break them most of the
    time once kinetics, feeding, a missed change and outages vary (the Monte Carlo).  Only
    a schedule at or below ``max_risk`` is recommended; otherwise the text says so.
    """
    if rec.empty:
        return "recommendation: none (no schedule keeps every limit)"
    verdicts = risk_verdicts(rec, max_risk)
    for r, v in zip(rec.itertuples(), verdicts, strict=True):
        if v == "ok":
            return (
                f"recommendation: {_schedule(r.interval_d, r.fraction).strip()}"
                f" (risk of breaking a limit {r.p_any:.0%}, at most {max_risk:.0%} allowed)"
            )
    if all(v == "not assessed" for v in verdicts):
        r = rec.iloc[0]
        return (
            f"recommendation: {_schedule(r.interval_d, r.fraction).strip()}, NOT assessed for"
            " risk (--mc 0): it keeps the limits only if nothing varies"
        )
    best = rec.loc[rec["p_any"].idxmin()]
    return (
        f"recommendation: NONE is safe: the lowest risk is {best.p_any:.0%}"
        f" ({_schedule(best.interval_d, best.fraction).strip()}), above the {max_risk:.0%}"
        " allowed (--max-risk); change more often, feed less, or accept the risk knowingly"
    )


def _pct(p: float, lo: float, hi: float) -> str:
    return f"{p:.0%} ({lo:.0%}-{hi:.0%})"


def format_search(found: RiskSearch, plan: WaterChangePlan) -> str:
    """Every schedule the risk search ran, cheapest first, and what it skipped."""
    a = found.assessed
    if a.empty:
        return "risk search: no schedule keeps every limit at steady state, nothing to assess"
    chosen = found.chosen
    rows = []
    for r in a.sort_values(
        ["water_l_per_month", "interval_d"], ascending=[True, False]
    ).itertuples():
        is_chosen = (
            chosen is not None
            and r.interval_d == chosen["interval_d"]
            and r.fraction == chosen["fraction"]
        )
        rows.append(
            {
                "schedule": _schedule(r.interval_d, r.fraction),
                "L/month": f"{r.water_l_per_month:.0f}",
                "verdict": "CHOSEN" if is_chosen else ("ok" if r.safe else "unsafe"),
                "draws": f"{r.draws:.0f}",
                "P(schedule's limits)": _pct(r.p_schedule, r.p_schedule_lo, r.p_schedule_hi),
                "P(NO3)": f"{r.p_no3:.0%}",
                "P(alk)": f"{r.p_alk:.0%}",
                "P(pH)": f"{r.p_ph:.0%}",
                "NO3 p95": f"{r.no3_peak_p95:.1f}",
                "P(NH3|NO2)*": f"{r.p_outside:.0%}",
            }
        )
    head = (
        f"risk search: {len(a)} schedules through the Monte Carlo, {found.n_draws} draws each, "
        "fewer where the first of them already show it unsafe "
        f"(seed {found.seed}; the same draws for every schedule: cycled-bed kinetics, feeding, "
        "missed changes, pump outages); judged by P(nitrate, alkalinity or pH over its limit, "
        f"or a failed run) <= {found.max_risk:.0%}; 95 % Wilson intervals in brackets"
    )
    lines = [head, pd.DataFrame(rows).to_string(index=False)]
    lines.append(
        "* free ammonia or nitrite over its limit: the bed's and the pump's risk, not the "
        "schedule's (see below)"
    )
    limit_water = chosen["water_l_per_month"] if chosen is not None else float("inf")
    t = plan.table
    broken = t[(~t["keeps_limits"]) & (t["water_l_per_month"] < limit_water - 1e-9)]
    if len(found.skipped):
        lines.append(
            f"{len(found.skipped)} cheaper schedules not run: a larger share at the same "
            "interval was already unsafe (risk falls as the share grows)"
        )
    if len(broken):
        lines.append(
            f"{len(broken)} cheaper schedules break a limit at steady state already"
            " (plan_candidates.csv)"
        )
    if found.draw_pairs:
        lines.append(
            f"risk falls as the share grows, checked draw by draw at each interval: "
            f"{found.draw_violations} of {found.draw_pairs} paired draws broke a limit only "
            "with the larger share"
        )
    if not found.monotonic:
        lines.append(
            "note: at some interval a smaller share rated safe and a larger one not (Monte "
            "Carlo noise at this --mc): every share of it was run"
        )
    return "\n".join(lines)


def format_search_recommendation(found: RiskSearch, max_fraction: float) -> str:
    """The schedule to follow with its risk, the cheaper ones rejected, and the risks no
    water change removes; or one plain line saying that none reaches ``max_risk``."""
    c = found.chosen
    if c is None:
        b = found.best
        if b is None:
            return "recommendation: none (no schedule keeps every limit)"
        return (
            f"recommendation: NONE with changes of at most {max_fraction:.0%} reaches the "
            f"{found.max_risk:.0%} risk allowed (--max-risk); the best found is "
            f"{_schedule(b.interval_d, b.fraction).strip()} ({b.water_l_per_month:.0f} L/month)"
            f" at {_pct(b.p_schedule, b.p_schedule_lo, b.p_schedule_hi)}: change more often, "
            "feed less, or accept the risk knowingly"
        )
    a = found.assessed
    cheaper = a[(~a["safe"]) & (a["water_l_per_month"] < c["water_l_per_month"] + 1e-9)]
    lines = [
        f"recommendation: {_schedule(c['interval_d'], c['fraction']).strip()}, "
        f"{c['water_l_per_month']:.0f} L a month: risk of breaking nitrate, alkalinity or pH "
        f"{_pct(c['p_schedule'], c['p_schedule_lo'], c['p_schedule_hi'])} over "
        f"{c['draws']:.0f} draws, at most {found.max_risk:.0%} allowed (nitrate "
        f"{_pct(c['p_no3'], c['p_no3_lo'], c['p_no3_hi'])}, alkalinity {c['p_alk']:.0%}, "
        f"pH {c['p_ph']:.0%})"
    ]
    if len(cheaper):
        lines.append(
            "  rejected, using as little water or less: "
            + "; ".join(
                f"{_schedule(r.interval_d, r.fraction).strip()} ({r.water_l_per_month:.0f} L) "
                f"at {r.p_schedule:.0%}"
                for r in cheaper.sort_values("water_l_per_month").itertuples()
            )
        )
    lines.append(
        f"  not the water changes' doing: free ammonia or nitrite over its limit in "
        f"{_pct(c['p_outside'], c['p_outside_lo'], c['p_outside_hi'])} of draws (free NH3 "
        f"{c['p_nh3']:.0%}, nitrite {c['p_no2']:.0%}; {c['p_outside_with_outage']:.0%} in "
        f"draws with a pump outage, {c['p_outage']:.0%} of draws had one): peaks after a "
        "meal when the nitrifiers are slow, and while the pump is off. Smaller meals more "
        "often, a second filter or a battery air pump lower them; more water hardly does"
    )
    return "\n".join(lines)
