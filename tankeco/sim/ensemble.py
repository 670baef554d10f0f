"""Many scenarios at once: pack them into arrays, run the compiled batch, read the results.

``run_ensemble(members, days)`` is the ensemble engine's entry point.  Each member is a
scenario and, optionally, its own event schedule (a :class:`~tankeco.sim.schedule.
Schedule`, e.g. with varied portions or a missed water change); without one, the
scenario's routine is recorded (:func:`~tankeco.sim.schedule.record_schedule`).  Each member's model
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
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim import schedule as sched
from tankeco.sim.engine import Tank
from tankeco.sim.model import Forcing
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


def _pad(arrays: Sequence[np.ndarray], fill) -> np.ndarray:
    """Stack arrays of equal rank, padding every axis to the largest size with ``fill``."""
    shape = tuple(max(a.shape[i] for a in arrays) for i in range(arrays[0].ndim))
    out = np.full((len(arrays), *shape), fill, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[(i, *tuple(slice(0, n) for n in a.shape))] = a
    return out


def _member_inputs(tank: Tank) -> batch.MemberInputs:
    """One member's batch inputs, read off the Tank that set up its model and state."""
    sc = tank.scenario
    feeds = np.zeros((max(1, len(sc.feeds)), batch.N_FEED_COLUMNS))
    for i, f in enumerate(sc.feeds):
        p = tank.portions[id(f)]
        feeds[i, batch.FEED_N] = p.n_mg
        feeds[i, batch.FEED_COD] = p.cod_mg
        feeds[i, batch.FEED_UNEATEN] = p.uneaten_fraction
        feeds[i, batch.FEED_EXCRETED] = p.excreted_share
        feeds[i, batch.FEED_DIGESTIBILITY] = p.digestibility
        feeds[i, batch.FEED_GUT_N] = p.gut_n
        feeds[i, batch.FEED_GUT_COD] = p.gut_cod
    care = np.zeros(batch.N_CARE_COLUMNS)
    care[batch.DOSE_THRESHOLD] = sc.dosing.threshold_tan_mg_l
    care[batch.DOSE_TARGET] = sc.dosing.target_tan_mg_l
    care[batch.DOSE_ADDS_ALK] = float(sc.dosing.chemical == "ammonia_solution")
    care[batch.BUFFER_MIN] = sc.buffer.min_alk_mg_l_caco3
    care[batch.BUFFER_TARGET] = sc.buffer.target_alk_mg_l_caco3
    model = tank.model
    tol = tank.tolerances()
    sc_by_forcing = np.zeros((batch.N_FORCING_SLOTS, kernel.N_SCALARS))
    for pump in (0, 1):
        for light in (0, 1):
            forcing = Forcing(pump_on=bool(pump), light_on=bool(light))
            sc_by_forcing[batch.forcing_slot(pump, light)] = model.scalars(forcing)
    exch_by_pump = np.array([model.exchange_l_d(Forcing(pump_on=bool(p))) for p in (0, 1)])
    return batch.MemberInputs(
        m0=tank.m,
        v_nominal_l=np.float64(tank.v_nominal_l),
        pore_l=tank.geo.zone_pore_volume_l,
        rtol=tol.rtol_cells,
        atol=tol.atol,
        weight=tol.weight,
        sc_by_forcing=sc_by_forcing,
        exch_by_pump=exch_by_pump,
        deposition_share=model.deposition_share,
        tap_mg_l=tank.tap_mg_l,
        n_weights=model.n_weights,
        evaporation_l_d=np.float64(tank.evaporation_l_d),
        pump0=np.int64(tank.forcing.pump_on),
        pump_can_run=np.int64(sc.pump.flow_l_h > 0),
        light0=np.int64(tank.forcing.light_on),
        feeds=feeds,
        care=care,
    )


#: what pads a shorter member's table to the batch's width, per field of Tables: a
#: padded factor is exactly 1 and a padded process has a zero rate (see TankModel)
_TABLE_PADDING = kernel.Tables(
    film=0.0,
    area=0.0,
    f_comp=NCOMP,
    f_k=1.0,
    f_a=0.0,
    f_b=1.0,
    e_idx=kernel.ENV_ONE,
    k_where=0.0,
    mass_idx=NCOMP + 1,
    nu=0.0,
    nz_idx=0,
    nz_cnt=0,
    dissolved=False,
    partic=False,
    act_water=0,
    act_zone=0,
)


def _stack(items: Sequence, padding) -> tuple:
    """Stack NamedTuples of arrays field by field along a new first (member) axis."""
    kind = type(items[0])
    return kind(
        *(
            _pad([np.asarray(getattr(x, name)) for x in items], fill)
            for name, fill in zip(kind._fields, padding, strict=True)
        )
    )


def _event_table(schedules: list[Schedule]) -> batch.EventTable:
    count = np.array([len(s) for s in schedules], dtype=np.int64)
    width = max(1, int(count.max()))
    table = batch.EventTable(
        time_d=np.full((len(schedules), width), np.inf),
        kind=np.zeros((len(schedules), width), dtype=np.int64),
        index=np.zeros((len(schedules), width), dtype=np.int64),
        value=np.zeros((len(schedules), width)),
        count=count,
    )
    for i, s in enumerate(schedules):
        n = len(s)
        table.time_d[i, :n] = s.time_d
        table.kind[i, :n] = s.kind
        table.index[i, :n] = s.index
        table.value[i, :n] = s.value
    return table


def _run_group(
    tanks: list[Tank], schedules: list[Schedule], days: float, out_t: np.ndarray
) -> batch.BatchOutput:
    """One compiled batch over members with the same zone count."""
    inputs = _stack([_member_inputs(t) for t in tanks], (0.0,) * len(batch.MemberInputs._fields))
    tables = _stack([t.model.tables() for t in tanks], _TABLE_PADDING)
    s, nk = len(tanks), out_t.size
    nc = inputs.m0.shape[1]
    out = batch.BatchOutput(
        out_w=np.zeros((s, nk, len(KEPT))),
        out_vol=np.zeros((s, nk)),
        out_pump=np.zeros((s, nk), dtype=np.int64),
        m_end=np.zeros((s, nc, NCOMP)),
        ledger=np.zeros((s, len(ev.LEDGER_FIELDS))),
        stats=np.zeros((s, kernel.N_STATS), dtype=np.int64),
        clipped_n=np.zeros(s),
        ok=np.zeros(s, dtype=np.bool_),
    )
    keep = np.array([int(c) for c in KEPT], dtype=np.int64)
    batch.run_batch(
        np.float64(days), out_t, keep, ev.WATER_BORNE, inputs, tables, _event_table(schedules), out
    )
    return out


def _summarise(
    tanks: list[Tank],
    raw: batch.BatchOutput,
    out_t: np.ndarray,
    window_start_d: float,
    want: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    temp = np.array([t.temp_c for t in tanks])[:, None]
    vol = raw.out_vol
    w = raw.out_w / vol[:, :, None]
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
        "pump_on": raw.out_pump.astype(bool),
    }
    win = out_t >= window_start_d - 1e-9
    led = raw.ledger
    m_end = raw.m_end
    rows = []
    for i, t in enumerate(tanks):
        nw = t.model.n_weights.copy()
        nw[C.N2] = 0.0
        stored_end = float((m_end[i] @ nw).sum())
        denit = float(m_end[i, :, C.N2].sum())
        n_in = (
            led[i, ev.N_IN_FEED] + led[i, ev.N_IN_DOSING] + led[i, ev.N_IN_TAP] + raw.clipped_n[i]
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
                "steps": raw.stats[:, kernel.STAT_ACCEPTED],
                "ok": raw.ok,
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
            for i, s in zip(part, schedules, strict=True):
                if np.any(s.kind == sched.FILTER):
                    raise ValueError(
                        f"member {i}: the ensemble keeps the start's zone flows and cannot "
                        "re-solve the pipe layout (FILTER events); use simulate"
                    )
            raw = _run_group(tanks, schedules, days, out_t)
            summary, part_series = _summarise(tanks, raw, out_t, window_start_d, series)
            for name in summary.columns:
                if name not in columns:
                    columns[name] = np.zeros(n, dtype=summary[name].dtype)
                columns[name][part] = summary[name].to_numpy()
            for k, v in part_series.items():
                ser[k][part] = v
            ledger[part] = raw.ledger
            if final is not None:
                final_by_index.update({i: raw.m_end[j] for j, i in enumerate(part)})
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
