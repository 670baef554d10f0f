"""Top views of solved layouts (matplotlib; kept out of the model code)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tankeco.hydraulics.analysis import Analysis  # noqa: E402


def draw(ax, a: Analysis, title: str) -> None:
    """Bed up-flow map, pipes and holes (coloured by flow) of one layout on ``ax``."""
    net = a.solution.network
    c = net.compiled
    bm = a.bed_map
    length_cm, width_cm = bm.length_m * 100, bm.width_m * 100
    mean_up = a.solution.pump_flow_m3_s / (bm.length_m * bm.width_m)
    im = ax.imshow(
        a.upflow_m_s / mean_up,
        origin="lower",
        extent=(0, length_cm, 0, width_cm),
        cmap="viridis",
        vmin=0,
        vmax=2,
    )
    xs = np.array([n.x_m for n in net.nodes]) * 100
    ys = np.array([n.y_m for n in net.nodes]) * 100
    for k in range(c.n_pipes):
        i, j = c.link_from[k], c.link_to[k]
        ax.plot([xs[i], xs[j]], [ys[i], ys[j]], color="white", lw=2.5, solid_capstyle="round")
    q = a.hole_flow_l_h
    sc = ax.scatter(
        c.hole_x_m * 100, c.hole_y_m * 100, c=q, cmap="coolwarm", s=28, edgecolors="k", zorder=3
    )
    s = a.summary()
    ax.set_title(
        f"{title}\n{s['pump_flow_l_h']:.0f} L/h at {s['pump_head_m']:.2f} m, CV {s['cv']:.3f}, "
        f"max/min {s['max_min_ratio']:.2f}, low-flow area {s['low_flow_area_share']:.0%}",
        fontsize=8,
    )
    ax.set_xlim(0, length_cm)
    ax.set_ylim(0, width_cm)
    ax.set_aspect("equal")
    ax.set_xlabel("x (cm)")
    ax.set_ylabel("y (cm)")
    plt.colorbar(sc, ax=ax, shrink=0.7, label="hole flow (L/h)")
    plt.colorbar(im, ax=ax, shrink=0.7, label="up-flow / mean")


#: Most panels side by side; more layouts wrap onto further rows (seven in one row made a
#: 5005 x 462 px strip nobody can read on a screen).
MAX_COLUMNS = 3


def save(analyses: list[tuple[str, Analysis]], path: str | Path) -> None:
    """One panel per layout, in rows of at most :data:`MAX_COLUMNS`, to a PNG."""
    n = len(analyses)
    cols = min(n, MAX_COLUMNS)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.2 * rows), squeeze=False)
    flat = axes.ravel()
    for ax, (title, a) in zip(flat, analyses, strict=False):
        draw(ax, a, title)
    for ax in flat[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the map's cells around their centres (a lone value: +-5 % of it)."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([0.95, 1.05]) * c[0]
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def save_same_path_map(m, path: str | Path) -> None:
    """Two panels: where same-path (Z) beats direct return (U), by CV and by low area.

    ``m`` is a :class:`tankeco.plan.layout_tune.SamePathMap`.  Colour is the U layout's
    figure minus the Z layout's (positive: same-path is more even), contours at zero.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), squeeze=False)
    x, y = m.bore_ratio, m.flow_l_h
    panels = (
        ("CV of hole flows: U minus Z", m.cv_u - m.cv_z, 1.0, ""),
        ("under-flowed bed area: U minus Z", (m.low_u - m.low_z) * 100, 1.0, " (points)"),
    )
    for ax, (title, diff, _, unit) in zip(axes[0], panels, strict=True):
        lim = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
        lim = lim or 1.0
        im = ax.pcolormesh(_cell_edges(x), _cell_edges(y), diff, cmap="RdBu", vmin=-lim, vmax=lim)
        # the zero contour needs at least two flows and two ratios; a single row or
        # column of cells is drawn without it
        if min(diff.shape) >= 2 and np.nanmin(diff) < 0 < np.nanmax(diff):
            ax.contour(x, y, diff, levels=[0.0], colors="k", linewidths=1.2)
        ax.set_xlabel("rung bore / header bore")
        ax.set_ylabel("pump flow (L/h)")
        ax.set_title(
            f"{title}{unit}\nheader {m.header_diameter_mm:g} mm; blue: same-path (Z) more even",
            fontsize=9,
        )
        plt.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
