"""Readings and the model on one clock, and how far apart they are.

Store times are UTC epoch milliseconds; model time is days from the run's start, which
is local midnight of the first day compared (the scenario's "feed at 9" means 9 o'clock
on the keeper's wall clock).  :class:`Clock` converts between the two, so nothing else
has to think about time zones.

An observation is either a sensor reading (noise ``sigma`` from the sensor's typical
accuracy) or a test-kit entry, whose uncertainty is the colour card's resolution: a
reading of "20" on a card with steps 10, 20, 40 means "between 15 and 30".  The share of
kit entries whose interval contains the model value is the fairest single figure of how
well the model matches a keeper who only owns a kit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tankeco.units.quantities import MODEL_COLUMN, SENSOR_SIGMA

MS_PER_DAY = 86_400_000


SENSOR, KIT = "sensor", "kit"

OBS_COLUMNS = ("time_d", "quantity", "value", "sigma", "source", "res_lo", "res_hi")


@dataclass(frozen=True)
class Clock:
    """Model day 0 is ``origin_ms`` (UTC epoch ms of local midnight on the first day)."""

    origin_ms: int

    def days(self, ts_ms: np.ndarray | Sequence[int] | int) -> np.ndarray:
        return (np.asarray(ts_ms, dtype=np.float64) - self.origin_ms) / MS_PER_DAY

    def ms(self, days: np.ndarray | float) -> np.ndarray:
        return np.rint(self.origin_ms + np.asarray(days, dtype=np.float64) * MS_PER_DAY).astype(
            np.int64
        )


def kit_interval(value: float, steps: Sequence[float], drops: bool = False) -> tuple[float, float]:
    """The values a colour card reading of ``value`` stands for: halfway to each neighbour.

    An entry between two steps (the keeper interpolated) gets the interval between them.
    The ends of the card extend by half the last gap (at least 0 at the bottom).  A drop
    count (``drops``, a KH or GH titration) of N stands for the values between N - 1 and N
    drops: the colour had not turned after N - 1 and had after N.
    """
    s = np.sort(np.asarray(steps, dtype=float))
    if s.size == 1:
        return float(s[0]), float(s[0])
    if drops:
        j = int(np.searchsorted(s, value - 1e-9 - 0.005 * abs(value)))  # first step >= value
        if j <= 0:
            return float(s[0]), float(s[0])  # no drop: none of it in the water
        if j >= s.size:  # more drops than the table lists: one drop below the count
            return float(value - (s[-1] - s[-2])), float(value)
        return float(s[j - 1]), float(s[j])
    mids = (s[1:] + s[:-1]) / 2.0
    lo_edge = max(s[0] - (s[1] - s[0]) / 2.0, 0.0)
    hi_edge = s[-1] + (s[-1] - s[-2]) / 2.0
    edges = np.concatenate([[lo_edge], mids, [hi_edge]])
    i = int(np.argmin(np.abs(s - value)))
    if abs(s[i] - value) <= 1e-9 + 0.005 * abs(s[i]):
        return float(edges[i]), float(edges[i + 1])
    j = int(np.searchsorted(s, value))  # off the card's steps: between s[j-1] and s[j]
    if j <= 0:
        return float(lo_edge), float(s[0])
    if j >= s.size:
        return float(s[-1]), float(hi_edge)
    return float(s[j - 1]), float(s[j])


def observations(
    readings: pd.DataFrame,
    manual: pd.DataFrame,
    clock: Clock,
    kit_steps: Mapping[tuple[str, str], Sequence[float]] | None = None,
    sensor_sigma: Mapping[str, float] | None = None,
    drop_kits: Collection[tuple[str, str]] = (),
) -> pd.DataFrame:
    """One table of everything measured, in model time, with its uncertainty.

    ``readings``: columns ts_ms, quantity, value (and optionally sensor).  ``manual``:
    ts_ms, quantity, value, kit.  ``kit_steps`` maps (kit, quantity) to the card's steps
    in canonical units; the (kit, quantity) pairs in ``drop_kits`` are drop counts (see
    :func:`kit_interval`).  Quantities the model does not produce are dropped.
    """
    sigma_of = dict(SENSOR_SIGMA)
    sigma_of.update(sensor_sigma or {})
    parts: list[pd.DataFrame] = []
    if len(readings):
        r = readings[readings["quantity"].isin(MODEL_COLUMN)]
        parts.append(
            pd.DataFrame(
                {
                    "time_d": clock.days(r["ts_ms"].to_numpy()),
                    "quantity": r["quantity"].to_numpy(),
                    "value": r["value"].to_numpy(dtype=float),
                    "sigma": r["quantity"].map(sigma_of).to_numpy(dtype=float),
                    "source": SENSOR,
                    "res_lo": np.nan,
                    "res_hi": np.nan,
                    "sensor": r["sensor"].to_numpy() if "sensor" in r else "",
                }
            )
        )
    if len(manual):
        m = manual[manual["quantity"].isin(MODEL_COLUMN)]
        rows = []
        for ts, q, v, kit in zip(
            m["ts_ms"], m["quantity"], m["value"], m.get("kit", [""] * len(m)), strict=True
        ):
            steps = (kit_steps or {}).get((kit, q))
            if steps:
                lo, hi = kit_interval(float(v), steps, (kit, q) in drop_kits)
                sigma = max((hi - lo) / np.sqrt(12.0), sigma_of.get(q, 0.0))
            else:  # a value from an instrument typed in by hand: sensor accuracy
                lo = hi = np.nan
                sigma = sigma_of.get(q, 0.0)
            rows.append((float(clock.days(ts)), q, float(v), sigma, KIT, lo, hi, kit or "manual"))
        if rows:
            parts.append(pd.DataFrame(rows, columns=[*OBS_COLUMNS, "sensor"]))
    if not parts:
        return pd.DataFrame({c: [] for c in (*OBS_COLUMNS, "sensor")})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("time_d", kind="stable").reset_index(drop=True)


def model_at(timeseries: pd.DataFrame, obs: pd.DataFrame) -> np.ndarray:
    """The model value of each observation's quantity at its time (linear in time)."""
    t = timeseries["time_d"].to_numpy()
    out = np.full(len(obs), np.nan)
    for q, col in MODEL_COLUMN.items():
        sel = (obs["quantity"] == q).to_numpy()
        if sel.any() and col in timeseries:
            out[sel] = np.interp(obs["time_d"].to_numpy()[sel], t, timeseries[col].to_numpy())
    inside = (obs["time_d"].to_numpy() >= t[0] - 1e-9) & (obs["time_d"].to_numpy() <= t[-1] + 1e-9)
    out[~inside] = np.nan
    return out


def align(timeseries: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The observations with the model value and the residual (model minus measured)."""
    out = obs.copy()
    out["model"] = model_at(timeseries, obs)
    out["residual"] = out["model"] - out["value"]
    return out


@dataclass(frozen=True)
class QuantityFit:
    """How the model compares with one quantity's measurements."""

    quantity: str
    n: int
    bias: float  # mean of model - measured
    rmse: float
    n_kit: int
    kit_within_share: float | None  # share of kit entries whose interval holds the model

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {
            "quantity": self.quantity,
            "n": self.n,
            "bias": self.bias,
            "rmse": self.rmse,
            "n_kit": self.n_kit,
            "kit_within_share": self.kit_within_share,
        }


def metrics(aligned: pd.DataFrame) -> list[QuantityFit]:
    """Bias, RMSE and the kit-resolution share per quantity (observations inside the run)."""
    fits = []
    a = aligned[np.isfinite(aligned["model"])]
    for q in MODEL_COLUMN:
        sel = a[a["quantity"] == q]
        if sel.empty:
            continue
        res = sel["residual"].to_numpy()
        kit = sel[(sel["source"] == KIT) & np.isfinite(sel["res_lo"])]
        share = None
        if len(kit):
            inside = (kit["model"] >= kit["res_lo"] - 1e-12) & (
                kit["model"] <= kit["res_hi"] + 1e-12
            )
            share = float(inside.mean())
        fits.append(
            QuantityFit(
                q,
                int(res.size),
                float(res.mean()),
                float(np.sqrt(np.mean(res**2))),
                int(len(kit)),
                share,
            )
        )
    return fits


def initial_levels(obs: pd.DataFrame, window_d: float = 0.25) -> dict[str, float]:
    """Start concentrations for a replay: mean of what was measured in the first hours.

    The nitrogen species and alkalinity; each from measurements within ``window_d`` of
    its first.
    """
    out = {}
    for q in ("tan_n", "no2_n", "no3_n", "alk"):
        sel = obs[obs["quantity"] == q]
        if sel.empty:
            continue
        t0 = sel["time_d"].min()
        if t0 > 1.0:  # first seen late in the run: the model's own start is better
            continue
        first = sel[sel["time_d"] <= t0 + window_d]
        w = 1.0 / first["sigma"].to_numpy() ** 2
        out[q] = max(float(np.sum(w * first["value"].to_numpy()) / np.sum(w)), 0.0)
    return out
