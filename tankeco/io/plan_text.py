"""The plan and its risk as text tables for the terminal."""

from __future__ import annotations

import pandas as pd

from tankeco.plan.risk import RiskResult
from tankeco.plan.water_changes import WaterChangePlan


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
                "L/month": f"{r.water_l_per_month:.0f}",
                "peak NO3-N": f"{r.no3_peak:.2f}",
                "closed form": f"{r.no3_peak_closed_form:.2f}",
                "(from feed)": f"{r.no3_peak_closed_form_feed:.2f}",
                "low NO3-N": f"{r.no3_low:.2f}",
                "closed form ": f"{r.no3_low_closed_form:.2f}",
                "low alk": f"{r.alk_low:.0f}",
                "low pH": f"{r.ph_low:.2f}",
                "peak NH3-N": f"{r.nh3_peak:.4f}",
            }
        )
    lines.append("recommended (fewest changes first; nitrate mg N/L, alkalinity mg/L CaCO3):")
    lines.append(pd.DataFrame(rows).to_string(index=False))
    return "\n".join(lines)


def format_risk(risk: RiskResult) -> str:
    """Probability of breaking each limit, per schedule."""
    rows = []
    for r in risk.schedules.itertuples():
        rows.append(
            {
                "schedule": _schedule(r.interval_d, r.fraction),
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
