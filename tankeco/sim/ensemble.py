"""Many scenarios at once: pack them into arrays, run the compiled batch, read the results.

``run_ensemble(members, days)`` is the ensemble engine's entry point.  Each member is a
scenario and, optionally, its own event schedule (a :class:`~tankeco.sim.schedule.
Schedule`, e.g. with varied portions or a missed water change); without one, the
scenario's schedule is recorded from the simpy engine's processes.  Each member's model
tables, initial state and tolerances come from :class:`tankeco.sim.engine.Tank`, so
nothing about the model is defined twice.  Members are grouped by bed-zone count (the
arrays of a batch share their shape) and run in chunks that bound the memory.

A member whose scenario names a pipe layout runs with the layout's zone flows as solved at
the start; unlike ``simulate`` the ensemble does not re-solve them daily as the bed clogs
(in 90 days of the seed tank that moves the zone flows by < 2 % and nitrate by < 0.1 %).

Results come back per member: a summary table (peaks, minima, water used, nitrogen
balance residual, solver counts) and, on request, time series of the water column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.chemistry.ammonia import free_ammonia_n_mg_l
from tankeco.chemistry.carbonate import ph_from_alk_dic
from tankeco.sim import batch
from tankeco.sim import events as ev
from tankeco.sim.engine import Tank
from tankeco.sim.model import ENV_NAMES, Forcing
from tankeco.sim.petersen import NCOMP, C
from tankeco.sim.schedule import Schedule, record_schedule

#: water-column components the batch returns at every sample
KEPT = (C.TAN, C.NO2, C.NO3, C.O2, C.ALK, C.DIC)
#: time series a caller may ask for (all of the water column)
SERIES = (
    "tan_mg_l",
    "nh3_mg_l",
    "no2_n_mg_l",
    "no3_n_mg_l",
    "do_mg_l",
    "ph",
    "alk_mg_l_caco3",
    "water_volume_l",
    "pump_on",
)
#: columns of :attr:`EnsembleResults.summary`
SUMMARY_COLUMNS = (
    "no3_n_max_mg_l",
    "no3_n_min_mg_l",
    "no3_n_end_mg_l",
    "tan_max_mg_l",
    "nh3_max_mg_l",
    "no2_n_max_mg_l",
    "ph_min",
    "alk_min_mg_l_caco3",
    "do_min_mg_l",
    "water_changed_l",
    "n_relative_residual",
    "steps",
    "ok",
)


@dataclass
class Member:
    """One scenario of an ensemble, with its own schedule if it differs from its file's."""

    scenario: object  # tankeco.scenario.schema.Scenario
    schedule: Schedule | None = None


@dataclass
class EnsembleResults:
    """What :func:`run_ensemble` returns, one row (or first index) per member."""

    time_d: np.ndarray
    summary: pd.DataFrame
    series: dict[str, np.ndarray] = field(default_factory=dict)
    ledger: np.ndarray | None = None  # (member, len(events.LEDGER_FIELDS))
    final_state: list[np.ndarray] | None = None  # (compartment, component) each, if kept


def _tank(member: Member, days: float, rtol: float, step_h: float | None) -> Tank:
    scenario = member.scenario
    if step_h is not None and step_h != scenario.output.step_h:
        scenario = scenario.model_copy(
            update={"output": scenario.output.model_copy(update={"step_h": step_h})}
        )
    # Tank's own output buffers are not used: a short run keeps them small
    return Tank(scenario, min(days, 1e-6), rtol=rtol)


def _pad(arrays: Sequence[np.ndarray], fill, dtype) -> np.ndarray:
    """Stack arrays of equal rank, padding every axis to the largest size with ``fill``."""
    shape = tuple(max(a.shape[i] for a in arrays) for i in range(arrays[0].ndim))
    out = np.full((len(arrays), *shape), fill, dtype=dtype)
    for i, a in enumerate(arrays):
        out[(i, *tuple(slice(0, n) for n in a.shape))] = a
    return out


def _pack(tanks: list[Tank], schedules: list[Schedule], days: float) -> dict[str, np.ndarray]:
    """The batch's input arrays, scenario first; tables padded to the largest member."""
    models = [t.model for t in tanks]
    nenv = len(ENV_NAMES)
    feeds, care = [], []
    for t in tanks:
        sc = t.scenario
        rows = [t.portions[id(f)] for f in sc.feeds]
        table = np.zeros((max(1, len(rows)), batch.N_FEED_COLUMNS))
        for i, p in enumerate(rows):
            table[i] = (
                p.n_mg,
                p.cod_mg,
                p.uneaten_fraction,
                p.excreted_share,
                p.digestibility,
                p.gut_n,
                p.gut_cod,
            )
        feeds.append(table)
        care.append(
            [
                sc.dosing.threshold_tan_mg_l,
                sc.dosing.target_tan_mg_l,
                float(sc.dosing.chemical == "ammonia_solution"),
                sc.buffer.min_alk_mg_l_caco3,
                sc.buffer.target_alk_mg_l_caco3,
            ]
        )
    sc4, exch2 = [], []
    for t in tanks:
        sc4.append(
            [
                t.model.scalars(Forcing(pump_on=bool(p), light_on=bool(li)))
                for p in (0, 1)
                for li in (0, 1)
            ]
        )
        exch2.append([t.model.exchange_l_d(Forcing(pump_on=bool(p))) for p in (0, 1)])
    n_ev = np.array([len(s) for s in schedules], dtype=np.int64)
    width = max(1, int(n_ev.max()))
    ev_t = np.full((len(tanks), width), np.inf)
    ev_kind = np.zeros((len(tanks), width), dtype=np.int64)
    ev_idx = np.zeros((len(tanks), width), dtype=np.int64)
    ev_val = np.zeros((len(tanks), width))
    for i, s in enumerate(schedules):
        n = len(s)
        ev_t[i, :n], ev_kind[i, :n], ev_idx[i, :n], ev_val[i, :n] = (
            s.time_d,
            s.kind,
            s.index,
            s.value,
        )
    m0 = models[0]
    return {
        "days": np.float64(days),
        "m0": np.stack([t.m for t in tanks]),
        "v_nominal": np.array([t.v_nominal_l for t in tanks]),
        "pore": np.stack([t.geo.zone_pore_volume_l for t in tanks]),
        "rtol": np.stack([t.rtol_cells for t in tanks]),
        "atol": np.stack([t.atol for t in tanks]),
        "weight": np.stack([t.weight for t in tanks]),
        "sc4": np.array(sc4),
        "exch2": np.array(exch2),
        "inv_cap": np.stack([1.0 / m.biofilm_capacity_mg for m in models]),
        "f_comp": _pad([m.f_comp for m in models], NCOMP, np.int64),
        "f_k": _pad([m.f_k for m in models], 1.0, np.float64),
        "f_a": _pad([m.f_a for m in models], 0.0, np.float64),
        "f_b": _pad([m.f_b for m in models], 1.0, np.float64),
        "e_idx": _pad([m.e_idx for m in models], nenv, np.int64),
        "k_where": _pad([m.k_where for m in models], 0.0, np.float64),
        "mass_idx": _pad([m.mass_idx for m in models], NCOMP + 1, np.int64),
        "nu": _pad([m.nu for m in models], 0.0, np.float64),
        "nz_idx": _pad([m.nz_idx for m in models], 0, np.int64),
        "nz_cnt": _pad([m.nz_cnt for m in models], 0, np.int64),
        "area_share": np.stack([m.deposition_share for m in models]),
        "dissolved": m0.dissolved,
        "partic": m0.particulate,
        "act_water": m0.active_components[0],
        "act_zone": m0.active_components[1],
        "tap": np.stack([t.tap_mg_l for t in tanks]),
        "n_weights": np.stack([m.n_weights for m in models]),
        "water_borne": ev.WATER_BORNE,
        "evap_l_d": np.array([t.evaporation_l_d for t in tanks]),
        "pump0": np.array([int(t.forcing.pump_on) for t in tanks], dtype=np.int64),
        "light0": np.array([int(t.forcing.light_on) for t in tanks], dtype=np.int64),
        "feeds": _pad(feeds, 0.0, np.float64),
        "care": np.array(care, dtype=np.float64),
        "ev_t": ev_t,
        "ev_kind": ev_kind,
        "ev_idx": ev_idx,
        "ev_val": ev_val,
        "n_ev": n_ev,
    }


def _run_group(
    tanks: list[Tank], schedules: list[Schedule], days: float, out_t: np.ndarray
) -> dict[str, np.ndarray]:
    args = _pack(tanks, schedules, days)
    s, nk = len(tanks), out_t.size
    nc = args["m0"].shape[1]
    out = {
        "out_w": np.zeros((s, nk, len(KEPT))),
        "out_vol": np.zeros((s, nk)),
        "out_pump": np.zeros((s, nk), dtype=np.int64),
        "m_end": np.zeros((s, nc, NCOMP)),
        "ledger": np.zeros((s, len(ev.LEDGER_FIELDS))),
        "stats": np.zeros((s, 4), dtype=np.int64),
        "clipped_n": np.zeros(s),
        "ok": np.zeros(s, dtype=np.bool_),
    }
    keep = np.array([int(c) for c in KEPT], dtype=np.int64)
    batch.run_batch(*args.values(), out_t, keep, *out.values())
    return out


def _summarise(
    tanks: list[Tank],
    raw: dict[str, np.ndarray],
    out_t: np.ndarray,
    window_start_d: float,
    want: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    temp = np.array([t.temp_c for t in tanks])[:, None]
    vol = raw["out_vol"]
    w = raw["out_w"] / vol[:, :, None]
    tan, no2, no3, do, alk, dic = (w[:, :, i] for i in range(len(KEPT)))
    ph = ph_from_alk_dic(alk, dic, temp, tan)
    nh3 = free_ammonia_n_mg_l(tan, ph, temp)
    series_all = {
        "tan_mg_l": tan,
        "nh3_mg_l": nh3,
        "no2_n_mg_l": no2,
        "no3_n_mg_l": no3,
        "do_mg_l": do,
        "ph": ph,
        "alk_mg_l_caco3": alk,
        "water_volume_l": vol,
        "pump_on": raw["out_pump"].astype(bool),
    }
    win = out_t >= window_start_d - 1e-9
    led = raw["ledger"]
    m_end = raw["m_end"]
    rows = []
    for i, t in enumerate(tanks):
        nw = t.model.n_weights.copy()
        nw[C.N2] = 0.0
        stored_end = float((m_end[i] @ nw).sum())
        denit = float(m_end[i, :, C.N2].sum())
        n_in = (
            led[i, ev.N_IN_FEED]
            + led[i, ev.N_IN_DOSING]
            + led[i, ev.N_IN_TAP]
            + raw["clipped_n"][i]
        )
        n_out = led[i, ev.N_OUT_WATER_CHANGE] + led[i, ev.N_OUT_RETAINED] + denit
        residual = n_in - n_out - (stored_end - t.n_start_mg)
        rows.append(residual / max(n_in, t.n_start_mg, 1e-12))
    with np.errstate(invalid="ignore"):
        summary = pd.DataFrame(
            {
                "no3_n_max_mg_l": np.nanmax(no3[:, win], axis=1),
                "no3_n_min_mg_l": np.nanmin(no3[:, win], axis=1),
                "no3_n_end_mg_l": no3[:, -1],
                "tan_max_mg_l": np.nanmax(tan[:, win], axis=1),
                "nh3_max_mg_l": np.nanmax(nh3[:, win], axis=1),
                "no2_n_max_mg_l": np.nanmax(no2[:, win], axis=1),
                "ph_min": np.nanmin(ph[:, win], axis=1),
                "alk_min_mg_l_caco3": np.nanmin(alk[:, win], axis=1),
                "do_min_mg_l": np.nanmin(do[:, win], axis=1),
                "water_changed_l": led[:, ev.WATER_OUT],
                "n_relative_residual": np.array(rows),
                "steps": raw["stats"][:, 0],
                "ok": raw["ok"],
            }
        )
    return summary, {k: series_all[k] for k in want}


def run_ensemble(
    members: Sequence[Member | object],
    days: float,
    *,
    rtol: float = 1e-3,
    step_h: float | None = None,
    series: Sequence[str] = (),
    window_start_d: float = 0.0,
    chunk_size: int = 256,
    keep_final_state: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> EnsembleResults:
    """Run every member for ``days`` with the compiled batch engine.

    Parameters
    ----------
    members : sequence of Member or Scenario
        A scenario alone runs its own schedule.
    days : float
        Length of every run, d.
    rtol : float
        Integrator tolerance (as ``simulate``'s).
    step_h : float, optional
        Output step, h (default: the first member's ``output.step_h``).
    series : sequence of str
        Time series to return (names in :data:`SERIES`), each (member, sample).
    window_start_d : float
        Summary peaks and minima are taken over [window_start_d, days] (0: the whole run).
    chunk_size : int
        Members per compiled batch (bounds the memory of the per-step outputs).
    keep_final_state : bool
        Return every member's final masses.
    progress : callable(done, total), optional
        Called after each chunk.

    Returns
    -------
    EnsembleResults
    """
    unknown = [s for s in series if s not in SERIES]
    if unknown:
        raise ValueError(f"unknown series {unknown}; allowed: {', '.join(SERIES)}")
    members = [m if isinstance(m, Member) else Member(m) for m in members]
    n = len(members)
    if n == 0:
        raise ValueError("an ensemble needs at least one member")
    step = members[0].scenario.output.step_h if step_h is None else step_h
    out_t = np.arange(0.0, days + 1e-9, step / 24.0)
    columns: dict[str, np.ndarray] = {}
    ser = {k: np.zeros((n, out_t.size), dtype=bool if k == "pump_on" else float) for k in series}
    ledger = np.zeros((n, len(ev.LEDGER_FIELDS)))
    final: list[np.ndarray] | None = [] if keep_final_state else None
    final_by_index: dict[int, np.ndarray] = {}
    done = 0
    groups: dict[int, list[int]] = {}
    for i, m in enumerate(members):
        groups.setdefault(m.scenario.bed.zones, []).append(i)
    for idx in groups.values():
        for start in range(0, len(idx), chunk_size):
            part = idx[start : start + chunk_size]
            tanks = [_tank(members[i], days, rtol, step) for i in part]
            schedules = [
                members[i].schedule
                if members[i].schedule is not None
                else record_schedule(members[i].scenario, days)
                for i in part
            ]
            raw = _run_group(tanks, schedules, days, out_t)
            summary, part_series = _summarise(tanks, raw, out_t, window_start_d, series)
            for name in summary.columns:
                if name not in columns:
                    columns[name] = np.zeros(n, dtype=summary[name].dtype)
                columns[name][part] = summary[name].to_numpy()
            for k, v in part_series.items():
                ser[k][part] = v
            ledger[part] = raw["ledger"]
            if final is not None:
                final_by_index.update({i: raw["m_end"][j] for j, i in enumerate(part)})
            done += len(part)
            if progress is not None:
                progress(done, n)
    if final is not None:
        final = [final_by_index[i] for i in range(n)]
    return EnsembleResults(
        time_d=out_t,
        summary=pd.DataFrame(columns),
        series=ser,
        ledger=ledger,
        final_state=final,
    )
