"""The 90-day consequence of a pipe layout, drawn: zone flows, bed oxygen, nitrogen.

One column of figures per layout: the up-flow each bed zone receives, then the oxygen in
every zone over the run (a heat map: dark = anoxic), then water-column ammonia and nitrate
and the nitrogen lost as N2 for all layouts on shared axes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tankeco.scenario import thresholds as limits  # noqa: E402
from tankeco.sim.results import Results  # noqa: E402


def plot_layout_runs(runs: list[tuple[str, Results]], path: str | Path) -> Path:
    n = len(runs)
    fig = plt.figure(figsize=(5.0 * n, 11), constrained_layout=True)
    grid = fig.add_gridspec(4, n, height_ratios=[1.0, 1.3, 1.0, 1.0])
    vmax = max(
        r.timeseries.filter(like="zone").filter(like="_do_").to_numpy().max() for _, r in runs
    )
    for j, (name, res) in enumerate(runs):
        s, ts = res.summary, res.timeseries
        q = np.asarray(s["zone_flow_l_h"])
        ax = fig.add_subplot(grid[0, j])
        zones = np.arange(1, q.size + 1)
        do_min = ts.filter(regex=r"^zone\d+_do_mg_l$").min().to_numpy()
        colors = ["tab:red" if d < limits.ANOXIC_DO_MG_L else "tab:blue" for d in do_min]
        ax.bar(zones, q, color=colors)
        ax.set_title(f"{name}\npump {s['pump_flow_l_h']:.0f} L/h", fontsize=10)
        ax.set_xlabel("bed zone (left to right)")
        ax.set_ylabel("up-flow, L/h")
        ax.set_xticks(zones)
        ax = fig.add_subplot(grid[1, j])
        z = ts.filter(regex=r"^zone\d+_do_mg_l$").to_numpy().T
        im = ax.imshow(
            z,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            vmin=0,
            vmax=vmax,
            extent=(ts["time_d"].iat[0], ts["time_d"].iat[-1], 0.5, z.shape[0] + 0.5),
        )
        ax.set_ylabel("bed zone")
        ax.set_xlabel("day")
        ax.set_title(
            f"oxygen in the bed: {s['anoxic_zone_days']:.0f} anoxic zone-days", fontsize=10
        )
        fig.colorbar(im, ax=ax, label="mg O2/L")
    ax_n = fig.add_subplot(grid[2, :])
    ax_d = fig.add_subplot(grid[3, :], sharex=ax_n)
    for name, res in runs:
        ts = res.timeseries
        line = ax_n.plot(ts["time_d"], ts["no3_n_mg_l"], lw=1.2, label=f"nitrate: {name}")[0]
        ax_n.plot(
            ts["time_d"],
            ts["tan_mg_l"] * 10,
            lw=0.8,
            ls="--",
            color=line.get_color(),
            label=f"ammonia x 10: {name}",
        )
        ax_d.plot(
            ts["time_d"], ts["denitrified_n_mg"] / 1000, lw=1.2, color=line.get_color(), label=name
        )
    ax_n.set_ylabel("mg N/L")
    ax_n.set_title("water column")
    ax_n.legend(fontsize=8, ncol=2)
    ax_d.set_ylabel("g N")
    ax_d.set_xlabel("day")
    ax_d.set_title("nitrogen lost as N2 in anoxic pockets (cumulative)")
    ax_d.legend(fontsize=8)
    for ax in (ax_n, ax_d):
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
