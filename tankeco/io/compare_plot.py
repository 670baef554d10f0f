"""The overlay figure of ``tankeco compare``: model lines over the readings, per quantity.

Kept out of :mod:`tankeco.compare` because matplotlib is I/O (files, fonts, backends),
and model code must not import it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tankeco.compare.align import KIT, SENSOR, Clock
from tankeco.units.quantities import MODEL_COLUMN, QUANTITIES


def plot_overlay(
    ts: pd.DataFrame,
    obs: pd.DataFrame,
    events: pd.DataFrame,
    clock: Clock,
    path: Path,
    calibrated: pd.DataFrame | None = None,
) -> Path:
    """One panel per measured quantity: readings, kit entries with their card interval,
    the model (and the calibrated model), limits and logged events."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = [q for q in MODEL_COLUMN if (obs["quantity"] == q).any()]
    fig, axes = plt.subplots(
        len(quantities), 1, figsize=(10, 2.3 * len(quantities) + 0.6), sharex=True, squeeze=False
    )
    t = ts["time_d"].to_numpy()
    ev_days = clock.days(events["ts_ms"].to_numpy()) if len(events) else np.array([])
    for ax, q in zip(axes[:, 0], quantities, strict=True):
        o = obs[obs["quantity"] == q]
        s = o[o["source"] == SENSOR]
        if len(s) > 3000:  # a plot needs no more points than pixels
            s = s.iloc[:: len(s) // 3000 + 1]
        dot_size = 2 if len(s) > 300 else 5  # a few readings must still be seen
        ax.plot(s["time_d"], s["value"], ".", ms=dot_size, color="0.4", label="sensor")
        k = o[o["source"] == KIT]
        if len(k):
            lo = (k["value"] - k["res_lo"]).fillna(0).clip(lower=0)
            hi = (k["res_hi"] - k["value"]).fillna(0).clip(lower=0)
            ax.errorbar(
                k["time_d"], k["value"], yerr=[lo, hi], fmt="s", ms=4, color="tab:orange",
                capsize=3, label="test kit (card step)",
            )  # fmt: skip
        ax.plot(t, ts[MODEL_COLUMN[q]], color="tab:blue", lw=1.4, label="model")
        if calibrated is not None:
            ax.plot(
                calibrated["time_d"], calibrated[MODEL_COLUMN[q]], "--", color="tab:green",
                lw=1.4, label="calibrated",
            )  # fmt: skip
        threshold = QUANTITIES[q].threshold
        if threshold is not None:
            ax.axhline(threshold.value, ls=":", color="tab:red", lw=1, label="limit")
        for d in ev_days:
            ax.axvline(d, color="0.8", lw=0.8, zorder=0)
        ax.set_ylabel(QUANTITIES[q].title, fontsize=8)
        if QUANTITIES[q].unit.startswith("mg"):
            # concentrations from 0, so a limit line is never the axis itself; temperature,
            # pH and conductivity keep the range of their data (from 0 they would look flat)
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    # above the first panel, never on the data
    axes[0, 0].legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.02), fontsize=7, ncol=5, frameon=False
    )
    axes[-1, 0].set_xlabel("day (0 = local midnight of the first day; grey lines: logged events)")
    fig.suptitle("model vs measurements", fontsize=10, y=1.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
