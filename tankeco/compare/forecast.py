"""Where the tank is now and where it is going: an ensemble Kalman filter over the model.

A hobby tank's sensors are few and noisy and the model's knobs are uncertain, so the
current state is estimated, not read: an ensemble of model runs (members), each with its
own draw of the uncertain knobs and start, is run through the last days of history and
pulled towards the measurements at regular analysis times with the stochastic EnKF
(Evensen 1994, J. Geophys. Res. 99(C5):10143; perturbed observations after Burgers,
van Leeuwen & Evensen 1998, Mon. Weather Rev. 126:1719).  After the last measurement
each member runs on for the forecast horizon with the keeper's routine minus water
changes ("what if I change nothing"), and the spread of the members is the band.

The analysed state is the water's dissolved TAN, nitrite, nitrate, alkalinity, DIC and
oxygen plus the log of each nitrifier population; the measured quantities are predicted
from it by the model's own chemistry (pH from alkalinity and DIC), so the filter learns
e.g. alkalinity from a pH probe through the ensemble's covariances.  Pure model code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.chemistry.ammonia import free_ammonia_n_mg_l
from tankeco.chemistry.carbonate import ph_from_alk_dic
from tankeco.compare.align import SENSOR
from tankeco.compare.replay import Knobs, Member
from tankeco.scenario.loading import apply_overrides
from tankeco.scenario.schema import Scenario
from tankeco.sim.petersen import C

#: Dissolved components the analysis corrects, in the state vector's order.
STATE_COMPONENTS = (C.TAN, C.NO2, C.NO3, C.ALK, C.DIC, C.O2)
#: Measured quantities the filter assimilates.
ASSIMILATED = ("tan_n", "no2_n", "no3_n", "ph", "do")
#: Columns the forecast reports a band for.
FORECAST_COLUMNS = ("tan_mg_l", "nh3_mg_l", "no2_n_mg_l", "no3_n_mg_l", "do_mg_l", "ph")

#: Model error added to each member between analyses, 1 sigma per square root of a day,
#: in the state's units (mg/L; log biomass): what the model misses (a feeding bigger than
#: planned, a dead snail, a sensor-free night).  Without it the ensemble collapses onto
#: itself and stops listening to the data (estimates; tuned on synthetic histories).
PROCESS_STD_PER_SQRT_D = np.array([0.05, 0.05, 0.4, 2.0, 0.5, 0.2, 0.05, 0.05])

#: Prior spread of the knobs when no calibration is given (1 sigma, log scale for the
#: factors): a keeper's feeding estimate is good to ~25 %, the bed's capacity to ~40 %.
PRIOR_LOG_STD = {"feed_factor": 0.25, "capacity_factor": 0.4}


def enkf_update(
    x: np.ndarray,
    y_pred: np.ndarray,
    y_obs: np.ndarray,
    r_var: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The stochastic EnKF analysis: members ``x`` (n_state, N) given observations.

    ``y_pred`` (n_obs, N) is each member's prediction of the observations ``y_obs``
    (n_obs,) whose error variances are ``r_var``.  Every member is moved by the Kalman
    gain estimated from the ensemble, towards its own perturbed copy of the
    observations, which keeps the analysed spread statistically right.
    """
    n = x.shape[1]
    a = x - x.mean(axis=1, keepdims=True)
    b = y_pred - y_pred.mean(axis=1, keepdims=True)
    p_xy = a @ b.T / (n - 1)
    p_yy = b @ b.T / (n - 1) + np.diag(r_var)
    gain = np.linalg.solve(p_yy, p_xy.T).T
    perturbed = y_obs[:, None] + rng.normal(size=y_pred.shape) * np.sqrt(r_var)[:, None]
    return x + gain @ (perturbed - y_pred)


@dataclass(frozen=True)
class Forecast:
    """The ensemble's view of now and of the next days (times in model days)."""

    now_d: float
    time_d: np.ndarray
    median: dict[str, np.ndarray]
    low: dict[str, np.ndarray]  # 5th percentile
    high: dict[str, np.ndarray]  # 95th percentile
    now_mean: dict[str, float]
    now_std: dict[str, float]
    members: int
    analyses: int
    water_change_fraction: float
    water_change_interval_d: float
    extra: dict = field(default_factory=dict)

    def crossing_d(self, column: str, limit: float, which: str = "median") -> float | None:
        """First forecast day the ``which`` curve is above ``limit`` (None: not within)."""
        curve = {"median": self.median, "low": self.low, "high": self.high}[which][column]
        above = np.flatnonzero(curve > limit)
        return None if above.size == 0 else float(self.time_d[above[0]])


def _predict(member: Member, temp_c: float) -> np.ndarray:
    """A member's prediction of :data:`ASSIMILATED` from its water column."""
    c = member.water_concentrations()
    ph = float(ph_from_alk_dic(c[C.ALK], c[C.DIC], temp_c, c[C.TAN]))
    return np.array([c[C.TAN], c[C.NO2], c[C.NO3], ph, c[C.O2]])


def _state(member: Member) -> np.ndarray:
    c = member.water_concentrations()
    return np.concatenate(
        [
            c[list(STATE_COMPONENTS)],
            [math.log(max(member.biomass_mg(C.AOB), 1e-9))],
            [math.log(max(member.biomass_mg(C.NOB), 1e-9))],
        ]
    )


def _set_state(member: Member, old: np.ndarray, new: np.ndarray) -> None:
    for i, comp in enumerate(STATE_COMPONENTS):
        member.shift_dissolved(comp, float(new[i] - old[i]))
    k = len(STATE_COMPONENTS)
    member.scale_biomass(C.AOB, math.exp(float(np.clip(new[k] - old[k], -2, 2))))
    member.scale_biomass(C.NOB, math.exp(float(np.clip(new[k + 1] - old[k + 1], -2, 2))))


def _observations_at(obs: pd.DataFrame, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices into :data:`ASSIMILATED` and values/variances of what was measured in (t0, t1].

    Sensor readings are averaged (the last hour of the interval, so the value belongs to
    the analysis time); kit entries count one by one.
    """
    idx, val, var = [], [], []
    sel = obs[(obs["time_d"] > t0) & (obs["time_d"] <= t1)]
    for i, q in enumerate(ASSIMILATED):
        o = sel[sel["quantity"] == q]
        if o.empty:
            continue
        s = o[(o["source"] == SENSOR) & (o["time_d"] > t1 - 1.0 / 24.0)]
        if len(s):
            sigma = float(s["sigma"].iloc[0])
            # independent noise averages down; drift and fouling do not: floor at 1/3
            eff = max(sigma / math.sqrt(len(s)), sigma / 3.0)
            idx.append(i), val.append(float(s["value"].mean())), var.append(eff**2)
        for _, row in o[o["source"] != SENSOR].iterrows():
            idx.append(i), val.append(float(row["value"])), var.append(float(row["sigma"]) ** 2)
    return np.array(idx, dtype=int), np.column_stack([val, var]) if val else np.empty((0, 2))


def forecast(
    scenario: Scenario,
    obs: pd.DataFrame,
    now_d: float,
    *,
    actions: Sequence = (),
    horizon_d: float = 14.0,
    members: int = 24,
    knobs: Knobs | None = None,
    knob_std: dict[str, float] | None = None,
    analysis_every_d: float = 0.25,
    seed: int = 0,
    rtol: float = 1e-3,
) -> Forecast:
    """Assimilate ``obs`` (model days 0..now) and forecast ``horizon_d`` days past now.

    ``scenario`` should start where the measurements start (``start_overrides``);
    ``knobs``/``knob_std`` are a calibration's values and 1-sigma errors (default: the
    scenario as it is, with :data:`PRIOR_LOG_STD`).
    """
    rng = np.random.default_rng(seed)
    knobs = knobs or Knobs()
    days = now_d + horizon_d
    ens: list[Member] = []
    for _ in range(members):
        f = knobs.feed_factor * math.exp(
            rng.normal(0, _log_std(knob_std, "feed_factor", knobs.feed_factor))
        )
        c = knobs.capacity_factor * math.exp(
            rng.normal(0, _log_std(knob_std, "capacity_factor", knobs.capacity_factor))
        )
        s = knobs.nitrate_sink_mg_n_d
        if knob_std and "nitrate_sink_mg_n_d" in knob_std:
            s = max(s + rng.normal(0, knob_std["nitrate_sink_mg_n_d"]), 0.0)
        k = Knobs(f, c, s, knobs.no3_start_n_mg_l)
        sc = k.apply(scenario)
        start_no3 = sc.start.no3_n_mg_l
        if start_no3 is not None:  # the first reading is uncertain too
            sc = apply_overrides(
                sc, [f"start.no3_n_mg_l={max(start_no3 * (1 + rng.normal(0, 0.05)), 0.0)!r}"]
            )
        ens.append(
            Member(
                sc,
                days,
                actions,
                feed_factor=f,
                water_changes_until_d=now_d,
                feeds_resume_d=now_d,
                rtol=rtol,
            )
        )
    temp_c = float(scenario.temperature.setpoint_c)
    t_prev = t_last_analysis = 0.0
    analyses = 0
    grid = np.arange(analysis_every_d, now_d + 1e-9, analysis_every_d)
    if grid.size == 0 or grid[-1] < now_d - 1e-9:
        grid = np.append(grid, now_d)
    for t in grid:
        for m in ens:
            m.advance(float(t))
        idx, yv = _observations_at(obs, t_prev, float(t))
        if idx.size == 0:
            continue
        dt = float(t) - t_last_analysis
        t_prev = t_last_analysis = float(t)
        x = np.column_stack([_state(m) for m in ens])
        # model error since the last analysis, then the members' predictions from there
        noise = rng.normal(size=x.shape) * PROCESS_STD_PER_SQRT_D[:, None] * math.sqrt(dt)
        x_prior = x + noise
        x_prior[: len(STATE_COMPONENTS)] = np.maximum(x_prior[: len(STATE_COMPONENTS)], 0.0)
        for j, m in enumerate(ens):
            _set_state(m, x[:, j], x_prior[:, j])
        y = np.column_stack([_predict(m, temp_c) for m in ens])[idx]
        x_new = enkf_update(x_prior, y, yv[:, 0], yv[:, 1], rng)
        x_new[: len(STATE_COMPONENTS)] = np.maximum(x_new[: len(STATE_COMPONENTS)], 0.0)
        for j, m in enumerate(ens):
            _set_state(m, x_prior[:, j], x_new[:, j])
        analyses += 1
    now_pred = np.column_stack([_predict(m, temp_c) for m in ens])
    nh3_now = free_ammonia_n_mg_l(now_pred[0], now_pred[3], temp_c)
    now_all = dict(zip(ASSIMILATED, now_pred, strict=True)) | {"nh3_n": np.asarray(nh3_now)}
    for m in ens:
        m.advance(days)
    frames = [m.timeseries() for m in ens]
    t_out = frames[0]["time_d"].to_numpy()
    # rows at or before now were written before the last analysis: start from the analysis
    keep = t_out > now_d + 1e-9
    now_cols = {
        "tan_mg_l": now_all["tan_n"], "nh3_mg_l": now_all["nh3_n"],
        "no2_n_mg_l": now_all["no2_n"], "no3_n_mg_l": now_all["no3_n"],
        "do_mg_l": now_all["do"], "ph": now_all["ph"],
    }  # fmt: skip
    stack = {
        c: np.column_stack([now_cols[c], np.vstack([f[c].to_numpy()[keep] for f in frames])])
        for c in FORECAST_COLUMNS
    }
    t_out = np.concatenate([[now_d], t_out[keep]])
    wc = scenario.water_changes
    return Forecast(
        now_d=now_d,
        time_d=t_out,
        median={c: np.median(v, axis=0) for c, v in stack.items()},
        low={c: np.percentile(v, 5, axis=0) for c, v in stack.items()},
        high={c: np.percentile(v, 95, axis=0) for c, v in stack.items()},
        now_mean={q: float(np.mean(v)) for q, v in now_all.items()},
        now_std={q: float(np.std(v, ddof=1)) for q, v in now_all.items()},
        members=members,
        analyses=analyses,
        water_change_fraction=float(wc.fraction),
        water_change_interval_d=float(wc.interval_d),
        extra={"tap_no3_n_mg_l": float(scenario.tap.no3_n_mg_l)},
    )


def _log_std(knob_std: dict[str, float] | None, name: str, value: float) -> float:
    if knob_std and name in knob_std and value > 0:
        return knob_std[name] / value  # delta method, back to the log scale
    return PRIOR_LOG_STD[name]
