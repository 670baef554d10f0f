"""Plots of the water-change plan and its risk (matplotlib; PNG files).

``plot_plan``: the candidates on an interval x fraction map (which keep the limits), peak
nitrate against water used per month (simulated and closed form), and the recommended
schedules' nitrate over their steady-state cycle.  ``plot_risk``: for each assessed
schedule, the Monte Carlo band (5-95 %) and median of nitrate and alkalinity with the
limits.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tankeco.plan.limits import WaterLimits  # noqa: E402
from tankeco.plan.risk import BAND_QUANTILES, RiskResult  # noqa: E402
from tankeco.plan.water_changes import WaterChangePlan  # noqa: E402


def schedule_label(interval_d: float, fraction: float) -> str:
    """'25 % every 7 d'."""
    return f"{fraction * 100:.0f} % every {interval_d:g} d"


def plot_plan(plan: WaterChangePlan, path: str | Path) -> Path:
    """Candidates map, nitrate vs water used, recommended schedules' cycles.

    Legends sit below their panels and the nitrate axes start at 0 (issue 11, point 9).
    """
    tab, lim = plan.table, plan.limits
    fig, (ax_map, ax_cost, ax_t) = plt.subplots(1, 3, figsize=(16, 5), constrained_layout=True)

    sim = tab[tab["simulated"]]
    rest = tab[~tab["simulated"]]
    ax_map.scatter(
        rest["interval_d"], rest["fraction"] * 100, marker="x", color="lightgrey",
        label="outside the limits by the closed form (not simulated)",
    )  # fmt: skip
    ok = sim[sim["keeps_limits"]]
    bad = sim[~sim["keeps_limits"]]
    ax_map.scatter(
        bad["interval_d"], bad["fraction"] * 100, marker="o", facecolors="none",
        edgecolors="tab:red", label="simulated: breaks a limit",
    )  # fmt: skip
    ax_map.scatter(
        ok["interval_d"], ok["fraction"] * 100, marker="o", color="tab:green",
        label="simulated: keeps every limit",
    )  # fmt: skip
    rec = plan.recommended
    ax_map.scatter(
        rec["interval_d"], rec["fraction"] * 100, s=160, facecolors="none",
        edgecolors="black", linewidths=1.5, label="recommended",
    )  # fmt: skip
    ax_map.set_xlabel("days between changes")
    ax_map.set_ylabel("water changed each time, %")
    ax_map.set_title("Candidate schedules")
    ax_map.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)

    ax_cost.scatter(
        sim["water_l_per_month"], sim["no3_peak"], color="tab:blue", label="simulated peak"
    )
    ax_cost.scatter(
        sim["water_l_per_month"], sim["no3_peak_closed_form"], marker="+", color="black",
        label="closed form (production from the simulation)",
    )  # fmt: skip
    ax_cost.scatter(
        sim["water_l_per_month"], sim["no3_peak_closed_form_feed"], marker="x",
        color="tab:grey", label="closed form (production from the feed)",
    )  # fmt: skip
    ax_cost.axhline(lim.max_no3_n_mg_l, color="tab:red", ls=":", label="nitrate limit")
    ax_cost.set_xlabel("water used per month, L")
    ax_cost.set_ylabel("peak nitrate, mg N/L")
    ax_cost.set_title("Nitrate at the periodic steady state")
    ax_cost.set_ylim(bottom=0)
    ax_cost.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)

    sim_rows = list(sim.index)
    t = plan.time_d - plan.window_start_d
    for _, row in rec.iterrows():
        match = sim[(sim["interval_d"] == row["interval_d"]) & (sim["fraction"] == row["fraction"])]
        i = sim_rows.index(match.index[0])
        ax_t.plot(t, plan.no3_n_mg_l[i], label=schedule_label(row["interval_d"], row["fraction"]))
    ax_t.axhline(lim.max_no3_n_mg_l, color="tab:red", ls=":", label="nitrate limit")
    ax_t.set_xlabel("days into the steady-state window")
    ax_t.set_ylabel("nitrate, mg N/L")
    ax_t.set_title("Recommended schedules, one cycle")
    ax_t.set_ylim(bottom=0)
    if len(rec):
        ax_t.legend(
            fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, ncol=2
        )
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_risk(risk: RiskResult, limits: WaterLimits, path: str | Path) -> Path:
    """Bands of nitrate and alkalinity across the Monte Carlo draws, per schedule."""
    n = len(risk.schedules)
    fig, axes = plt.subplots(
        n, 2, figsize=(13, 2.8 * n + 0.6), sharex=True, squeeze=False, constrained_layout=True
    )
    lo, mid, hi = (f"{q * 100:.0f} %" for q in BAND_QUANTILES)
    t = risk.time_d
    for k, row in risk.schedules.iterrows():
        label = schedule_label(row["interval_d"], row["fraction"])
        for ax, name, limit, unit, prob in (
            (axes[k, 0], "no3_n_mg_l", limits.max_no3_n_mg_l, "nitrate, mg N/L", row["p_no3"]),
            (
                axes[k, 1],
                "alk_mg_l_caco3",
                limits.min_alk_mg_l_caco3,
                "alkalinity, mg/L CaCO3",
                row["p_alk"],
            ),
        ):
            band = risk.bands[name][k]
            ax.fill_between(t, band[0], band[2], color="tab:blue", alpha=0.25, label=f"{lo}-{hi}")
            ax.plot(t, band[1], color="tab:blue", lw=1.2, label=f"median ({mid})")
            ax.axhline(limit, color="tab:red", ls=":", label="limit")
            ax.set_ylabel(unit)
            ax.set_ylim(bottom=0)
            ax.set_title(f"{label}: P(breach) = {prob:.0%}", fontsize=9)
        # beside the panels, never on the bands
        axes[k, 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    fig.suptitle(
        f"Monte Carlo, {risk.n_draws} draws per schedule (seed {risk.seed}); "
        "P(any limit, free NH3 and nitrite included): "
        + ", ".join(f"{p:.0%}" for p in risk.schedules["p_any"]),
        fontsize=10,
    )
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
