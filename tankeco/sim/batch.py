"""Compiled ensemble loop: many tanks advanced side by side, one scenario per thread.

Every array has the scenario as its first axis (scenario x compartment x component for
states).  :func:`run_batch` loops over scenarios with ``numba.prange`` (the threads share
nothing but read-only inputs), and each scenario runs the same sequence as the simpy
engine: integrate with :func:`tankeco.sim.ros2_kernel.advance` to the next event, take off the
evaporation, apply the event with the functions of :mod:`tankeco.sim.events`.  With the
same inputs a scenario therefore gives the same numbers as ``simulate``, bit for bit.

The Python side (packing scenarios into these arrays, reading the results) is
:mod:`tankeco.sim.ensemble`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tankeco.sim import events as ev
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim import schedule as sched

#: columns of the feed table: the fields of :class:`tankeco.sim.events.Portion`
FEED_N, FEED_COD, FEED_UNEATEN, FEED_EXCRETED, FEED_DIGESTIBILITY, FEED_GUT_N, FEED_GUT_COD = range(
    7
)
N_FEED_COLUMNS = 7
#: columns of the care table: dosing threshold, target, adds alkalinity; buffer min, target
DOSE_THRESHOLD, DOSE_TARGET, DOSE_ADDS_ALK, BUFFER_MIN, BUFFER_TARGET = range(5)
N_CARE_COLUMNS = 5
#: initial step (d) and largest step (d), as in :class:`tankeco.sim.engine.Tank`
H_START_D = 1e-3
H_MAX_D = 0.25


@njit(cache=True)
def _apply_event(
    kind, index, value, m, vol_w, v_nominal, tap, water_borne, n_weights, feeds, care,
    area_share, ledger,
):  # fmt: skip
    """One event on one tank; returns (water volume, pump flag or -1, light flag or -1)."""
    pump = -1
    light = -1
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
            area_share,
        )
        ledger[ev.N_OUT_RETAINED] += retained
        ledger[ev.N_IN_FEED] += n_mg
    elif kind == sched.WATER_CHANGE:
        vol_w, out_l, in_l, n_out, n_in = ev.water_change(
            m, value, vol_w, v_nominal, tap, water_borne, n_weights
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
        pump = 1 if value > 0.5 else 0
    elif kind == sched.LIGHT:
        light = 1 if value > 0.5 else 0
    return vol_w, pump, light


@njit(cache=True)
def run_one(
    s, days, m0, v_nominal, pore, rtol, atol, weight, sc4, exch2, inv_cap,
    f_comp, f_k, f_a, f_b, e_idx, k_where, mass_idx, nu, nz_idx, nz_cnt, area_share,
    dissolved, partic, act_water, act_zone, tap, n_weights, water_borne, evap_l_d,
    pump0, light0, feeds, care, ev_t, ev_kind, ev_idx, ev_val, n_ev,
    out_t, keep, out_w, out_vol, out_pump, m_end, ledger, stats, clipped_n, ok,
):  # fmt: skip
    """Scenario ``s`` from day 0 to ``days``; writes its rows of the output arrays."""
    nc, ncomp = m0.shape[1], m0.shape[2]
    m = m0[s].copy()
    vol = np.empty(nc)
    for z in range(nc - 1):
        vol[z + 1] = pore[s, z]
    vol_w = v_nominal[s]
    pump = pump0[s]
    light = light0[s]
    t = 0.0
    h = H_START_D
    nk = out_t.shape[0]
    out_m = np.zeros((nk, nc, ncomp))
    out_m[0] = m
    out_vol[s, 0] = vol_w
    out_pump[s, 0] = pump
    k_out = 1
    clipped = np.zeros((nc, ncomp))
    st = np.zeros(4, dtype=np.int64)
    led = ledger[s]
    good = True
    for j in range(n_ev[s] + 1):
        t_end = ev_t[s, j] if j < n_ev[s] else days
        if t_end > t:
            vol[0] = vol_w
            k0 = k_out
            m, h, k_out, good = kernel.advance(
                m, t, t_end, h, H_MAX_D, rtol[s], atol[s], weight[s], vol,
                sc4[s, 2 * pump + light], inv_cap[s], f_comp[s], f_k[s], f_a[s], f_b[s],
                e_idx[s], k_where[s], mass_idx[s], nu[s], nz_idx[s], nz_cnt[s],
                exch2[s, pump], area_share[s], dissolved, partic, act_water, act_zone,
                out_t, out_m, k_out, st, clipped,
            )  # fmt: skip
            for k in range(k0, k_out):
                out_vol[s, k] = vol_w
                out_pump[s, k] = pump
            if not good:
                break
            evaporated = ev.evaporate(vol_w, evap_l_d[s], t_end - t)
            vol_w -= evaporated
            led[ev.WATER_EVAPORATED] += evaporated
            t = t_end
        if j == n_ev[s]:
            break
        vol_w, p_new, l_new = _apply_event(
            ev_kind[s, j], ev_idx[s, j], ev_val[s, j], m, vol_w, v_nominal[s], tap[s],
            water_borne, n_weights[s], feeds[s], care[s], area_share[s], led,
        )  # fmt: skip
        if p_new >= 0:
            pump = p_new
        if l_new >= 0:
            light = l_new
    for k in range(k_out):
        for q in range(keep.shape[0]):
            out_w[s, k, q] = out_m[k, 0, keep[q]]
    for k in range(k_out, nk):
        for q in range(keep.shape[0]):
            out_w[s, k, q] = np.nan
        out_vol[s, k] = np.nan
    m_end[s] = m
    for i in range(4):
        stats[s, i] = st[i]
    cn = 0.0
    for c in range(nc):
        for k in range(ncomp):
            cn += clipped[c, k] * n_weights[s, k]
    clipped_n[s] = cn
    ok[s] = good


@njit(cache=True, parallel=True)
def run_batch(
    days, m0, v_nominal, pore, rtol, atol, weight, sc4, exch2, inv_cap,
    f_comp, f_k, f_a, f_b, e_idx, k_where, mass_idx, nu, nz_idx, nz_cnt, area_share,
    dissolved, partic, act_water, act_zone, tap, n_weights, water_borne, evap_l_d,
    pump0, light0, feeds, care, ev_t, ev_kind, ev_idx, ev_val, n_ev,
    out_t, keep, out_w, out_vol, out_pump, m_end, ledger, stats, clipped_n, ok,
):  # fmt: skip
    """Every scenario of the batch, in parallel over scenarios (``numba.prange``)."""
    for s in prange(m0.shape[0]):
        run_one(
            s, days, m0, v_nominal, pore, rtol, atol, weight, sc4, exch2, inv_cap,
            f_comp, f_k, f_a, f_b, e_idx, k_where, mass_idx, nu, nz_idx, nz_cnt, area_share,
            dissolved, partic, act_water, act_zone, tap, n_weights, water_borne, evap_l_d,
            pump0, light0, feeds, care, ev_t, ev_kind, ev_idx, ev_val, n_ev,
            out_t, keep, out_w, out_vol, out_pump, m_end, ledger, stats, clipped_n, ok,
        )  # fmt: skip
