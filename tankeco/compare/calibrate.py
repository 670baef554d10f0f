"""Fit the few numbers a keeper cannot know to his tank's history, by least squares.

Three knobs (:class:`~tankeco.compare.replay.Knobs`) explain most of the difference
between two tanks with the same stock and routine: how much nitrogen really reaches the
water per feeding, how fast the bed nitrifies, and how much nitrate disappears on its
own.  They are fitted with :func:`scipy.optimize.least_squares` to all measurements,
each residual divided by its uncertainty, so one kit reading with a wide colour step
weighs less than an hour of a good probe.

The factors are fitted on a log scale (they multiply, and stay positive); the sink on a
linear one, bounded below by zero.  The uncertainty is the Gauss-Newton covariance
``s^2 (J^T J)^-1`` at the optimum, scaled by the reduced chi-square ``s^2`` so a model
that fits worse than the stated noise gets honestly wider error bars, and mapped back
to the knobs' own scale by the delta method.  Pure model code: no I/O.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from tankeco.compare.align import SENSOR, initial_levels, model_at
from tankeco.compare.replay import Action, Knobs, replay
from tankeco.scenario.loading import apply_overrides
from tankeco.scenario.schema import Scenario
from tankeco.units.quantities import MODEL_COLUMN

#: name -> (log scale?, lower, upper, unit) of each knob.  The capacity bounds keep both
#: growth rates inside the parameter table's ranges for the default rates.
KNOBS: dict[str, tuple[bool, float, float, str]] = {
    "feed_factor": (True, 0.1, 5.0, "x"),
    "capacity_factor": (True, 0.15, 3.3, "x"),
    "nitrate_sink_mg_n_d": (False, 0.0, 500.0, "mg N/d"),
    "no3_start_n_mg_l": (False, 0.0, 500.0, "mg N/L"),
}

#: What ``tankeco compare --calibrate`` fits: the three knobs, plus the start nitrate as a
#: nuisance whenever nitrate was measured.
DEFAULT_FIT = ("feed_factor", "capacity_factor", "nitrate_sink_mg_n_d")

#: Sensor readings are averaged into bins of this width before fitting (days): a minute
#: of a probe tells the fit nothing a quarter of an hour does not, and 80k residuals per
#: evaluation would cost more than the model run.
THIN_BIN_D = 1.0 / 96.0

#: Scale of the linear knobs in the fitted variables, so every variable is order one.
_LINEAR_SCALE = 10.0


@dataclass(frozen=True)
class Calibration:
    """The fitted knobs, their standard errors and the scenario with them applied."""

    names: tuple[str, ...]
    values: np.ndarray
    std: np.ndarray
    correlation: np.ndarray
    knobs: Knobs
    scenario: Scenario
    n_obs: int
    reduced_chi2: float
    success: bool
    message: str
    evaluations: int

    def as_dict(self) -> dict:
        return {
            "fitted": {
                n: {"value": float(v), "std": float(s), "unit": KNOBS[n][3]}
                for n, v, s in zip(self.names, self.values, self.std, strict=True)
            },
            "correlation": self.correlation.round(3).tolist(),
            "n_obs": self.n_obs,
            "reduced_chi2": self.reduced_chi2,
            "success": self.success,
            "message": self.message,
            "evaluations": self.evaluations,
        }


def thin(obs: pd.DataFrame, bin_d: float = THIN_BIN_D) -> pd.DataFrame:
    """Average sensor readings per quantity in time bins; kit entries stay one by one.

    The mean of n readings with noise sigma has sigma/sqrt(n), so for independent noise
    the fit sees the same information in fewer rows.
    """
    sensors = obs[obs["source"] == SENSOR]
    others = obs[obs["source"] != SENSOR]
    if sensors.empty:
        return obs.reset_index(drop=True)
    b = np.floor(sensors["time_d"].to_numpy() / bin_d).astype(np.int64)
    g = sensors.assign(_bin=b, _w=1.0 / sensors["sigma"] ** 2)
    g = g.assign(_wv=g["_w"] * g["value"], _wt=g["_w"] * g["time_d"])
    agg = g.groupby(["quantity", "_bin"], sort=False).agg(
        w=("_w", "sum"), wv=("_wv", "sum"), wt=("_wt", "sum")
    )
    binned = pd.DataFrame(
        {
            "time_d": (agg["wt"] / agg["w"]).to_numpy(),
            "quantity": agg.index.get_level_values(0).to_numpy(),
            "value": (agg["wv"] / agg["w"]).to_numpy(),
            "sigma": (1.0 / np.sqrt(agg["w"])).to_numpy(),
            "source": SENSOR,
            "res_lo": np.nan,
            "res_hi": np.nan,
        }
    )
    out = pd.concat([binned, others[binned.columns]], ignore_index=True)
    return out.sort_values("time_d", kind="stable").reset_index(drop=True)


def start_overrides(obs: pd.DataFrame) -> list[str]:
    """``start.*`` overrides that begin a replay where the first measurements were."""
    names = {
        "tan_n": "tan_mg_l",
        "no2_n": "no2_n_mg_l",
        "no3_n": "no3_n_mg_l",
        "alk": "alk_mg_l_caco3",
    }
    return [f"start.{names[q]}={v!r}" for q, v in initial_levels(obs, 1.0 / 24.0).items()]


def _to_knobs(u: np.ndarray, names: Sequence[str], fixed: Knobs) -> Knobs:
    values = {n: getattr(fixed, n) for n in KNOBS}
    for name, x in zip(names, u, strict=True):
        log, _, _, _ = KNOBS[name]
        values[name] = math.exp(x) if log else x * _LINEAR_SCALE
    return Knobs(**values)


def _to_u(k: Knobs, names: Sequence[str]) -> np.ndarray:
    out = []
    for name in names:
        log, lo, hi, _ = KNOBS[name]
        v = getattr(k, name)
        v = lo if v is None else min(max(v, lo), hi)
        out.append(math.log(v) if log else v / _LINEAR_SCALE)
    return np.array(out)


def calibrate(
    scenario: Scenario,
    days: float,
    obs: pd.DataFrame,
    actions: Sequence[Action] = (),
    *,
    fit: Sequence[str] | None = None,
    start: Knobs | None = None,
    rtol: float = 1e-4,
    max_nfev: int = 60,
) -> Calibration:
    """Least-squares fit of the knobs named in ``fit`` to the observations.

    Default: :data:`DEFAULT_FIT`, plus the start nitrate (from the first measurements)
    when nitrate was measured.  ``scenario`` should start where the measurements start
    (see :func:`start_overrides`); ``days`` covers the observations.
    """
    levels = initial_levels(obs, 1.0 / 24.0)
    if fit is None:
        fit = DEFAULT_FIT + (("no3_start_n_mg_l",) if "no3_n" in levels else ())
    names = tuple(fit)
    if start is None:
        start = Knobs(no3_start_n_mg_l=levels.get("no3_n"))
    unknown = [n for n in names if n not in KNOBS]
    if unknown:
        raise ValueError(f"unknown knob(s) {unknown}; known: {', '.join(KNOBS)}")
    data = thin(obs[obs["quantity"].isin(MODEL_COLUMN)])
    data = data[(data["time_d"] >= 0) & (data["time_d"] <= days)].reset_index(drop=True)
    if len(data) <= len(names):
        raise ValueError(
            f"{len(data)} measurements inside the run: too few to fit {len(names)} parameters"
        )
    value = data["value"].to_numpy()
    sigma = data["sigma"].to_numpy()
    evaluations = 0

    def residuals(u: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        evaluations += 1
        res = replay(scenario, days, actions, _to_knobs(u, names, start), rtol=rtol)
        model = model_at(res.timeseries, data)
        r = (model - value) / sigma
        return np.nan_to_num(r, nan=0.0)

    lo = _to_u(Knobs(*(KNOBS[n][1] for n in KNOBS)), names)
    hi = _to_u(Knobs(*(KNOBS[n][2] for n in KNOBS)), names)
    u0 = np.clip(_to_u(start, names), lo, hi)
    # a linear knob started exactly on its bound has a one-sided derivative: start inside
    linear = np.array([not KNOBS[nm][0] for nm in names])
    u0 = np.where(linear & (u0 <= lo), lo + 0.05, u0)
    sol = least_squares(
        residuals, u0, bounds=(lo, hi), x_scale=1.0, diff_step=1e-2, max_nfev=max_nfev
    )
    m, n = sol.fun.size, len(names)
    dof = max(m - n, 1)
    chi2 = float(sol.fun @ sol.fun) / dof
    jtj = sol.jac.T @ sol.jac
    cov_u = np.linalg.pinv(jtj) * max(chi2, 1e-12)
    knobs = _to_knobs(sol.x, names, start)
    values = np.array([getattr(knobs, nm) for nm in names])
    # delta method: d(exp u)/du = exp u; d(sink)/du = scale
    grad = np.array([values[i] if KNOBS[nm][0] else _LINEAR_SCALE for i, nm in enumerate(names)])
    cov = cov_u * np.outer(grad, grad)
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(std, std)
    return Calibration(
        names=names,
        values=values,
        std=std,
        correlation=np.nan_to_num(corr),
        knobs=knobs,
        scenario=knobs.apply(scenario),
        n_obs=m,
        reduced_chi2=chi2,
        success=bool(sol.success),
        message=str(sol.message),
        evaluations=evaluations,
    )


def calibrated_toml(base: Scenario, cal: Calibration, header: str = "") -> str:
    """The calibrated scenario as TOML, with the fit and its uncertainty in comments.

    The feed factor is written into the feed amounts, the capacity into the growth
    rates and the sink into the plant uptake, so the file runs as it stands.
    """
    lines = ["# Calibrated by tankeco compare --calibrate" + (f" ({header})" if header else "")]
    for name, v, s in zip(cal.names, cal.values, cal.std, strict=True):
        lines.append(f"#   {name} = {v:.4g} +- {s:.2g} {KNOBS[name][3]} (1 sigma)")
    lines.append(f"#   {cal.n_obs} measurements, reduced chi-square {cal.reduced_chi2:.3g}")
    knobs = dataclasses.replace(cal.knobs, no3_start_n_mg_l=None)  # a nuisance, not the tank's
    scenario = apply_overrides(
        knobs.apply(base), [f"scenario.name={base.scenario.name + ' (calibrated)'}"]
    )
    return "\n".join(lines) + "\n" + scenario.to_toml()
