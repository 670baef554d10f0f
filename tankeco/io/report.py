"""report.png: the run at a glance, for a keeper rather than a modeller.

Six panels share the time axis: ammonia (total and free), nitrite, nitrate, oxygen (water
column and the worst bed zone), pH with alkalinity, and the nitrifier biomass.  Water
changes are dashed verticals on every panel, feedings and doses are ticks on the ammonia
panel, pump outages are shaded, and the limits from :mod:`tankeco.scenario.thresholds` are lines.

Read at a glance (issue 11, point 9): every legend sits right of its panel, never on the
data; concentration axes start at 0 so a limit line is never the axis itself; the water
column's oxygen is drawn over the bed's (dashed) so both stay visible; alkalinity and the
water changes have legend entries; the log axis is labelled in plain numbers; the title
names the scenario and any --set overrides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from tankeco.scenario import thresholds as limits
from tankeco.sim.results import Results


def _outage_spans(time_d: np.ndarray, pump_on: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) days of every stretch with the pump off."""
    off = ~np.asarray(pump_on, dtype=bool)
    spans, start = [], None
    for ti, o in zip(time_d, off, strict=True):
        if o and start is None:
            start = ti
        elif not o and start is not None:
            spans.append((start, ti))
            start = None
    if start is not None:
        spans.append((start, time_d[-1]))
    return spans


def _event_times(results: Results, kind: str) -> np.ndarray:
    """Days of every event of one kind, from the event log's rows."""
    return np.array([r["time_d"] for r in results.event_rows if r["event"] == kind], dtype=float)


def _title(ax, text: str) -> None:
    """The panel's title at a fixed height above it.

    Left to itself matplotlib places each title by measuring every tick label of the panel
    on each draw (about a third of the figure's drawing time), to dodge decorations above
    the panel; these panels have none, so the fixed height is where it would land anyway.
    """
    ax.set_title(text, y=1.0)


def _legend_outside(ax, handles: list, offset: float = 1.01) -> None:
    """The legend to the right of the panel, where it can never cover a curve."""
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(offset, 1.0), fontsize=8,
        frameon=False, borderaxespad=0.0,
    )  # fmt: skip


def log_locator(values: np.ndarray) -> LogLocator:
    """Log-axis ticks for ``values``: 1-1.5-2-3-5-7 within about a decade, 1-2-5 over a
    few decades, decades beyond, so every line has a labelled tick near it."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    decades = float(np.log10(v.max() / v.min())) if v.size else 1.0
    if decades < 1.2:
        return LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0))
    return LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades < 3 else (1.0,))


def plot_report(results: Results, path: str | Path, title: str | None = None) -> Path:
    # The numpy columns and event rows, not the pandas frames: importing pandas would cost
    # a quarter of a second of every ``tankeco simulate`` (issue 11, point 8).  A bare
    # Figure (no pyplot) needs no backend switch and no global figure registry to clean up.
    ts, s = results.columns, results.summary
    t = ts["time_d"]
    # fixed margins, room for the legends on the right: constrained layout cost half the
    # figure's time (it measures every tick label twice) for a layout that never changes
    fig = Figure(figsize=(12, 13))
    axes = fig.subplots(6, 1, sharex=True)
    fig.subplots_adjust(left=0.07, right=0.79, top=0.94, bottom=0.04, hspace=0.32)
    ax_nh, ax_no2, ax_no3, ax_o2, ax_ph, ax_bio = axes

    ax_nh.plot(t, ts["tan_mg_l"], color="tab:orange", lw=1.2, label="total ammonia (TAN)")
    ax_nh.axhline(limits.CYCLED_MG_L, color="grey", ls=":", lw=1, label="kit's first step 0.25")
    ax_nh.set_ylabel("total ammonia, mg N/L")
    # Free ammonia is a few per cent of TAN: on TAN's scale it and its limit lie on the
    # axis, so it gets its own right-hand axis that always shows the limit line.
    ax_fa = ax_nh.twinx()
    nh3 = np.asarray(ts["nh3_mg_l"], dtype=float)
    ax_fa.plot(t, nh3, color="tab:red", lw=1.0, label="free NH3, right axis")
    ax_fa.axhline(
        limits.FREE_NH3_N_MG_L,
        color="tab:red",
        ls=":",
        lw=1,
        label=f"its limit {limits.FREE_NH3_N_MG_L:.3f}",
    )
    nh3_top = float(np.nanmax(nh3)) if nh3.size else 0.0
    ax_fa.set_ylim(0, max(2.0 * limits.FREE_NH3_N_MG_L, 1.15 * nh3_top))
    ax_fa.set_ylabel("free NH3, mg N/L", color="tab:red")
    _title(ax_nh, "Ammonia")

    ax_no2.plot(t, ts["no2_n_mg_l"], color="tab:purple", lw=1.2, label="nitrite")
    ax_no2.axhline(
        limits.NO2_N_MG_L, color="tab:purple", ls=":", lw=1, label=f"limit {limits.NO2_N_MG_L:g}"
    )
    ax_no2.set_ylabel("mg NO2-N/L")
    _title(ax_no2, "Nitrite")

    ax_no3.plot(t, ts["no3_n_mg_l"], color="tab:green", lw=1.2, label="nitrate")
    ax_no3.axhline(
        limits.NO3_N_MG_L,
        color="tab:green",
        ls=":",
        lw=1,
        label=f"long-term limit {limits.NO3_N_MG_L:g}",
    )
    ax_no3.set_ylabel("mg NO3-N/L")
    _title(ax_no3, "Nitrate (x 4.43 = ppm NO3 on a test kit)")

    ax_o2.plot(t, ts["bed_do_min_mg_l"], color="tab:cyan", lw=2.2, ls="--", label="worst bed zone")
    ax_o2.plot(t, ts["do_mg_l"], color="tab:blue", lw=1.0, label="water column", zorder=3)
    ax_o2.axhline(limits.DO_MIN_MG_L, color="tab:blue", ls=":", lw=1, label="fish stress 5")
    ax_o2.set_ylabel("mg O2/L")
    ax_o2.set_ylim(bottom=0)
    _title(ax_o2, "Dissolved oxygen")

    ax_ph.plot(t, ts["ph"], color="black", lw=1.2, label="pH")
    ax_ph.set_ylabel("pH")
    ax_alk = ax_ph.twinx()
    ax_alk.plot(t, ts["alk_mg_l_caco3"], color="tab:brown", lw=1.0, label="alkalinity")
    ax_alk.set_ylabel("mg/L CaCO3", color="tab:brown")
    _title(ax_ph, "pH and alkalinity")

    ax_bio.plot(t, ts["aob_g"] * 1000, color="tab:orange", lw=1.2, label="ammonia oxidisers")
    ax_bio.plot(t, ts["nob_g"] * 1000, color="tab:purple", lw=1.2, label="nitrite oxidisers")
    ax_bio.set_yscale("log")
    # ticks in plain numbers (was "2x10^1"), dense enough that each line has a label near
    # it: 1-1.5-2-3-5-7 within a decade (10 and 20 alone left a line at 45 unlabelled),
    # 1-2-5 over a few decades, decades beyond
    biomass = np.concatenate([ts["aob_g"], ts["nob_g"]]) * 1000
    ax_bio.yaxis.set_major_locator(log_locator(biomass))
    ax_bio.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax_bio.yaxis.set_minor_formatter(NullFormatter())
    ax_bio.set_ylabel("mg VSS in bed")
    _title(ax_bio, "Nitrifying biofilm")
    ax_bio.set_xlabel("day")

    for ax in (ax_nh, ax_no2, ax_no3, ax_o2):
        ax.set_ylim(bottom=0)
    outages = _outage_spans(t, ts["pump_on"])
    changes = _event_times(results, "water_change")
    extra: list = []
    if changes.size:
        extra.append(Line2D([], [], color="tab:blue", ls="--", lw=0.6, label="water change"))
    if outages:
        extra.append(Patch(color="red", alpha=0.12, label="pump off"))
    for ax in axes:
        for a, b in outages:
            ax.axvspan(a, b, color="red", alpha=0.12, lw=0)
        if changes.size:  # one collection per panel, not one line per change and panel
            ax.vlines(
                changes, 0, 1, transform=ax.get_xaxis_transform(), colors="tab:blue",
                linestyles="--", lw=0.6, alpha=0.6,
            )  # fmt: skip
        ax.grid(alpha=0.3)
    feeds = _event_times(results, "feeding")
    doses = _event_times(results, "dosing")
    top = ax_nh.get_ylim()[1]
    if feeds.size:
        ax_nh.plot(
            feeds, np.full(feeds.size, top * 0.97), "|", color="saddlebrown", ms=6, label="feeding"
        )
    if doses.size:
        ax_nh.plot(
            doses, np.full(doses.size, top * 0.97), "v", color="black", ms=4, label="ammonia dose"
        )
    for ax in (ax_no2, ax_no3, ax_o2, ax_bio):
        handles, _ = ax.get_legend_handles_labels()
        _legend_outside(ax, handles + extra)
    for ax, twin in ((ax_nh, ax_fa), (ax_ph, ax_alk)):  # right axis: legend further out
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        _legend_outside(ax, handles + extra, offset=1.09)
    done = s.get("cycle_completed_day")
    sub = f"cycled on day {done:.0f}" if done is not None else ""
    heading = title or f"tankeco: {s.get('scenario', '')}, {s['days']:g} days"
    # one line: the fixed top margin has room for one (a second ran into the first panel)
    fig.suptitle(f"{heading} ({sub})" if sub else heading, fontsize=12)
    fig.savefig(path, dpi=100)
    return Path(path)
