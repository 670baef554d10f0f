"""Compiled ensemble loop: many tanks advanced side by side, one scenario per thread.

Every array has the scenario as its first axis (scenario x compartment x component for
states).  :func:`run_batch` loops over scenarios with ``numba.prange`` (the threads share
nothing but read-only inputs), and each scenario runs the same sequence as the simpy
engine: integrate with :func:`tankeco.sim.ros2_kernel.advance` to the next event, take off the
evaporation, apply the event with the functions of :mod:`tankeco.sim.events`: the loop of
:class:`tankeco.sim.driver.Run`, compiled, on the same :class:`~tankeco.sim.schedule.
Schedule` and with the same boundary rule.  With the
same inputs a scenario therefore gives the same numbers as ``simulate``, bit for bit.

The Python side (packing scenarios into these arrays, reading the results) is
:mod:`tankeco.sim.ensemble`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from tankeco.sim import events as ev
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim import schedule as sched

#: columns of the feed table: the fields of :class:`tankeco.sim.events.Portion`
(
    FEED_N,
    FEED_COD,
    FEED_UNEATEN,
    FEED_EXCRETED,
    FEED_DIGESTIBILITY,
    FEED_GUT_N,
    FEED_GUT_COD,
) = range(7)
N_FEED_COLUMNS = 7
#: columns of the care table: dosing threshold, target, adds alkalinity; buffer min, target
DOSE_THRESHOLD, DOSE_TARGET, DOSE_ADDS_ALK, BUFFER_MIN, BUFFER_TARGET = range(5)
N_CARE_COLUMNS = 5
#: the scalar vectors of a member are precomputed for each (pump, light) combination
N_FORCING_SLOTS = 4


@njit(cache=True)
def forcing_slot(pump_on: int, light_on: int) -> int:
    """Row of ``MemberInputs.sc_by_forcing`` for a pump and light state (0 or 1 each)."""
    return 2 * pump_on + light_on


class MemberInputs(NamedTuple):
    """Everything a member brings to the batch, each with the member as first axis.

    Built by :func:`tankeco.sim.ensemble._member_inputs` from the member's
    :class:`tankeco.sim.engine.Tank`, then stacked.
    """

    m0: np.ndarray  # (nc, NCOMP) start masses, mg
    v_nominal_l: np.ndarray  # () free water volume when full, L
    pore_l: np.ndarray  # (nz,) pore water of each bed zone, L
    rtol: np.ndarray  # (nc, NCOMP)
    atol: np.ndarray  # (nc, NCOMP) mg
    weight: np.ndarray  # (nc, NCOMP) 1 for a state cell
    sc_by_forcing: np.ndarray  # (N_FORCING_SLOTS, N_SCALARS), row forcing_slot(pump, light)
    exch_by_pump: np.ndarray  # (2, nz) zone exchange with the pump off and on, L/d
    deposition_share: np.ndarray  # (nz,) where settling waste lands
    tap_mg_l: np.ndarray  # (NCOMP,) tap water concentrations
    n_weights: np.ndarray  # (NCOMP,) g N per unit of each component
    evaporation_l_d: np.ndarray  # () water lost to evaporation, L/d
    pump0: np.ndarray  # () int: pump on at the start
    pump_can_run: np.ndarray  # () int: 0 for a scenario without pump flow (never on)
    light0: np.ndarray  # () int: light on at the start
    feeds: np.ndarray  # (feed, N_FEED_COLUMNS) the portions, columns FEED_*
    care: np.ndarray  # (N_CARE_COLUMNS,) dosing and buffer settings, columns DOSE_*, BUFFER_*


class EventTable(NamedTuple):
    """The members' :class:`tankeco.sim.schedule.Schedule`, padded to one width."""

    time_d: np.ndarray  # (member, event), inf after the last
    kind: np.ndarray  # (member, event) int, one of the kinds of tankeco.sim.schedule
    index: np.ndarray  # (member, event) int
    value: np.ndarray  # (member, event)
    count: np.ndarray  # (member,) int: events of each member


class BatchOutput(NamedTuple):
    """What the batch writes, one row per member."""

    out_w: np.ndarray  # (member, sample, kept) water-column masses of the kept components, mg
    out_vol: np.ndarray  # (member, sample) free water volume, L (nan after a failure)
    out_pump: np.ndarray  # (member, sample) int, pump on
    m_end: np.ndarray  # (member, nc, NCOMP) final masses, mg
    ledger: np.ndarray  # (member, len(events.LEDGER_FIELDS)), slots events.N_IN_FEED ...
    stats: np.ndarray  # (member, N_STATS) int, slots ros2_kernel.STAT_*
    clipped_n: np.ndarray  # (member,) N added by zeroing round-off negatives, mg
    ok: np.ndarray  # (member,) bool: the integration reached the end


@njit(cache=True)
def _apply_event(kind, index, value, m, vol_w, inp, s, water_borne, ledger):
    """One event on member ``s``; returns (water volume, pump flag or -1, light flag or -1).

    The same actions as :func:`tankeco.sim.driver.apply_event` (NOTE: nothing to do; a
    FILTER re-solve is not run here, and :func:`tankeco.sim.ensemble.run_ensemble`
    refuses schedules that ask for one).
    """
    pump = -1
    light = -1
    v_nominal, tap, n_weights = inp.v_nominal_l[s], inp.tap_mg_l[s], inp.n_weights[s]
    feeds, care = inp.feeds[s], inp.care[s]
    if kind == sched.FEED:
        n_mg = feeds[index, FEED_N] * value
        retained = ev.feed(
            m,
            n_mg,
            feeds[index, FEED_COD] * value,
            feeds[index, FEED_UNEATEN],
            feeds[index, FEED_EXCRETED],
            feeds[index, FEED_DIGESTIBILITY],
            int(feeds[index, FEED_GUT_N]),
            int(feeds[index, FEED_GUT_COD]),
            inp.deposition_share[s],
        )
        ledger[ev.N_OUT_RETAINED] += retained
        ledger[ev.N_IN_FEED] += n_mg
    elif kind == sched.WATER_CHANGE or kind == sched.WATER_CHANGE_L:
        fraction = value if kind == sched.WATER_CHANGE else min(max(value / vol_w, 0.0), 1.0)
        vol_w, out_l, in_l, n_out, n_in = ev.water_change(
            m, fraction, vol_w, v_nominal, tap, water_borne, n_weights
        )
        ledger[ev.N_OUT_WATER_CHANGE] += n_out
        ledger[ev.WATER_OUT] += out_l
        if in_l > 0.0:
            ledger[ev.N_IN_TAP] += n_in
            ledger[ev.WATER_IN] += in_l
    elif kind == sched.TOP_UP:
        vol_w, refill, n_in = ev.top_up(m, vol_w, v_nominal, tap, water_borne, n_weights)
        if refill > 0.0:
            ledger[ev.N_IN_TAP] += n_in
            ledger[ev.WATER_IN] += refill
    elif kind == sched.DOSE:
        ledger[ev.N_IN_DOSING] += ev.dose_ammonia(
            m, vol_w, care[DOSE_THRESHOLD], care[DOSE_TARGET], care[DOSE_ADDS_ALK] > 0.5
        )
    elif kind == sched.BUFFER:
        ledger[ev.BAKING_SODA] += ev.add_baking_soda(
            m, vol_w, care[BUFFER_MIN], care[BUFFER_TARGET]
        )
    elif kind == sched.PUMP:
        pump = 1 if value > 0.5 and inp.pump_can_run[s] > 0 else 0
    elif kind == sched.LIGHT:
        light = 1 if value > 0.5 else 0
    return vol_w, pump, light


@njit(cache=True)
def run_one(s, days, out_t, keep, water_borne, inp, tables, events, out):
    """Member ``s`` from day 0 to ``days``; writes its rows of ``out`` (a BatchOutput).

    ``inp`` is the stacked :class:`MemberInputs`, ``tables`` the stacked
    :class:`tankeco.sim.ros2_kernel.Tables`, ``events`` the :class:`EventTable`.
    """
    m0 = inp.m0
    nc, ncomp = m0.shape[1], m0.shape[2]
    tab = kernel.member_tables(tables, s)
    ctl = kernel.StepControl(inp.rtol[s], inp.atol[s], inp.weight[s], kernel.H_MAX_D)
    m = m0[s].copy()
    vol = np.empty(nc)
    for z in range(nc - 1):
        vol[z + 1] = inp.pore_l[s, z]
    vol_w = inp.v_nominal_l[s]
    pump = inp.pump0[s]
    light = inp.light0[s]
    t = 0.0
    h = kernel.H_START_D
    nk = out_t.shape[0]
    out_m = np.zeros((nk, nc, ncomp))
    out_m[0] = m
    out.out_vol[s, 0] = vol_w
    out.out_pump[s, 0] = pump
    k_out = 1
    rec = kernel.Record(
        out_t, out_m, np.zeros(kernel.N_STATS, dtype=np.int64), np.zeros((nc, ncomp))
    )
    led = out.ledger[s]
    good = True
    n_ev = events.count[s]
    for j in range(n_ev + 1):
        t_end = events.time_d[s, j] if j < n_ev else days
        if t_end > t:
            vol[0] = vol_w
            k0 = k_out
            cond = kernel.Conditions(
                vol,
                inp.sc_by_forcing[s, forcing_slot(pump, light)],
                inp.exch_by_pump[s, pump],
                inp.deposition_share[s],
            )
            m, h, k_out, good = kernel.advance(m, t, t_end, h, k_out, ctl, cond, tab, rec)
            for k in range(k0, k_out):
                out.out_vol[s, k] = vol_w
                out.out_pump[s, k] = pump
            if not good:
                break
            evaporated = ev.evaporate(vol_w, inp.evaporation_l_d[s], t_end - t)
            vol_w -= evaporated
            led[ev.WATER_EVAPORATED] += evaporated
            t = t_end
        if j == n_ev:
            break
        vol_w, p_new, l_new = _apply_event(
            events.kind[s, j],
            events.index[s, j],
            events.value[s, j],
            m,
            vol_w,
            inp,
            s,
            water_borne,
            led,
        )
        if p_new >= 0:
            pump = p_new
        if l_new >= 0:
            light = l_new
    for k in range(k_out):
        for q in range(keep.shape[0]):
            out.out_w[s, k, q] = out_m[k, 0, keep[q]]
    for k in range(k_out, nk):
        for q in range(keep.shape[0]):
            out.out_w[s, k, q] = np.nan
        out.out_vol[s, k] = np.nan
    out.m_end[s] = m
    for i in range(kernel.N_STATS):
        out.stats[s, i] = rec.stats[i]
    n_weights = inp.n_weights[s]
    cn = 0.0
    for c in range(nc):
        for k in range(ncomp):
            cn += rec.clipped[c, k] * n_weights[k]
    out.clipped_n[s] = cn
    out.ok[s] = good


@njit(cache=True, parallel=True)
def run_batch(days, out_t, keep, water_borne, inp, tables, events, out):
    """Every member of the batch, in parallel over members (``numba.prange``).

    ``days`` the length of every run, ``out_t`` the sample times (d), ``keep`` the
    water-column components copied to ``out.out_w``, ``water_borne`` the components water
    carries (:data:`tankeco.sim.events.WATER_BORNE`); the rest as in :func:`run_one`.
    """
    for s in prange(inp.m0.shape[0]):
        run_one(s, days, out_t, keep, water_borne, inp, tables, events, out)
