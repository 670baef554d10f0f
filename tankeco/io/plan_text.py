"""The plan and its risk as text tables for the terminal."""

from __future__ import annotations

import pandas as pd

from tankeco.plan.risk import RiskResult
from tankeco.plan.water_changes import WaterChangePlan
from tankeco.units.molar import NO3_PER_NO3_N


def _schedule(interval_d: float, fraction: float) -> str:
    return f"{fraction * 100:>4.0f} % every {interval_d:g} d"


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


def format_risk(risk: RiskResult, max_risk: float) -> str:
    """Probability of breaking each limit, per schedule, with its verdict against max_risk."""
    rows = []
    verdicts = risk_verdicts(risk.schedules, max_risk)
    for r, verdict in zip(risk.schedules.itertuples(), verdicts, strict=True):
        rows.append(
            {
                "schedule": _schedule(r.interval_d, r.fraction),
                "verdict": verdict,
                "P(NO3)": f"{r.p_no3:.0%}",
                "P(NH3)": f"{r.p_nh3:.0%}",
                "P(NO2)": f"{r.p_no2:.0%}",
                "P(alk)": f"{r.p_alk:.0%}",
                "P(pH)": f"{r.p_ph:.0%}",
                "P(any)": f"{r.p_any:.0%}",
                "NO3 peak p95": f"{r.no3_peak_p95:.1f}",
            }
        )
    head = (
        f"risk over {risk.time_d[-1]:g} d, {risk.n_draws} draws per schedule (seed {risk.seed}): "
        "kinetics, feeding, missed changes, pump outages"
    )
    return head + "\n" + pd.DataFrame(rows).to_string(index=False)
