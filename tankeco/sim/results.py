"""Outputs of a run: the sampled time series, the event log, the summary and the balances."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tankeco.chemistry.ammonia import free_ammonia_n_mg_l
from tankeco.chemistry.carbonate import ph_from_alk_dic
from tankeco.scenario import thresholds as limits
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim.biofilm import film_kinetics, o2_per_n, water_factors
from tankeco.sim.model import Forcing
from tankeco.sim.petersen import C
from tankeco.sim.state import FLAG_FLOW, FLAG_LIGHT, FLAG_PUMP, FLAG_WATER_VOLUME

TIMESERIES_COLUMNS = (
    "time_d",
    "tan_mg_l",
    "nh3_mg_l",
    "no2_n_mg_l",
    "no3_n_mg_l",
    "do_mg_l",
    "ph",
    "alk_mg_l_caco3",
    "temp_c",
    "aob_g",
    "nob_g",
    "urea_n_mg_l",
    "bed_do_mean_mg_l",
    "bed_do_min_mg_l",
    "bed_no3_n_mg_l",
    "bed_waste_cod_g",
    "denitrified_n_mg",
    "water_volume_l",
    "pump_on",
    "light_on",
    "pump_flow_l_h",
    "anoxic_zones",
)


EVENT_COLUMNS = ("time_d", "event", "detail", "n_mg", "volume_l")


@dataclass
class Results:
    """What ``simulate`` returns; written to disk by :mod:`tankeco.io.output`.

    ``columns`` holds the time series as numpy arrays; ``timeseries`` and ``events`` are
    the same as pandas DataFrames, built on first use (importing pandas costs a quarter
    of a second that ``tankeco simulate`` does not need to pay).
    """

    columns: dict[str, np.ndarray]
    event_rows: list[dict]
    summary: dict
    balance: dict
    solver: dict = field(default_factory=dict)
    final_state: np.ndarray | None = None
    _frames: dict = field(default_factory=dict, repr=False)

    @property
    def timeseries(self):
        if "ts" not in self._frames:
            import pandas as pd

            self._frames["ts"] = pd.DataFrame(self.columns)
        return self._frames["ts"]

    @property
    def events(self):
        if "ev" not in self._frames:
            import pandas as pd

            self._frames["ev"] = pd.DataFrame(self.event_rows, columns=list(EVENT_COLUMNS))
        return self._frames["ev"]


def timeseries_columns(tank) -> dict[str, np.ndarray]:
    """The sampled run as named columns (TIMESERIES_COLUMNS, then one oxygen column per
    bed zone)."""
    model, temp = tank.model, tank.temp_c
    samples = tank.samples
    n = samples.k_out
    times, m, flags = samples.out_t[:n], samples.out_m[:n], samples.out_flags[:n]
    vol_w = flags[:, FLAG_WATER_VOLUME]
    pore = model.geo.zone_pore_volume_l
    w = m[:, 0, :] / vol_w[:, None]
    bed = m[:, 1:, :] / pore[None, :, None]
    ph = ph_from_alk_dic(w[:, C.ALK], w[:, C.DIC], temp, w[:, C.TAN])
    cols = dict(
        {
            "time_d": times,
            "tan_mg_l": w[:, C.TAN],
            "nh3_mg_l": free_ammonia_n_mg_l(w[:, C.TAN], ph, temp),
            "no2_n_mg_l": w[:, C.NO2],
            "no3_n_mg_l": w[:, C.NO3],
            "urea_n_mg_l": w[:, C.UREA],
            "do_mg_l": w[:, C.O2],
            "ph": ph,
            "alk_mg_l_caco3": w[:, C.ALK],
            "temp_c": np.full(times.size, temp),
            "aob_g": m[:, 1:, C.AOB].sum(axis=1) / 1000.0,
            "nob_g": m[:, 1:, C.NOB].sum(axis=1) / 1000.0,
            "bed_do_mean_mg_l": (m[:, 1:, C.O2].sum(axis=1) / pore.sum()),
            "bed_do_min_mg_l": bed[:, :, C.O2].min(axis=1),
            "bed_no3_n_mg_l": m[:, 1:, C.NO3].sum(axis=1) / pore.sum(),
            "bed_waste_cod_g": m[:, 1:, C.XS_COD].sum(axis=1) / 1000.0,
            "denitrified_n_mg": m[:, :, C.N2].sum(axis=1),
            "water_volume_l": vol_w,
            "pump_on": flags[:, FLAG_PUMP].astype(bool),
            "light_on": flags[:, FLAG_LIGHT].astype(bool),
            "pump_flow_l_h": flags[:, FLAG_FLOW],
            "anoxic_zones": (bed[:, :, C.O2] < limits.ANOXIC_DO_MG_L).sum(axis=1),
        }
    )
    cols = {name: np.asarray(cols[name]) for name in TIMESERIES_COLUMNS}
    for z in range(bed.shape[1]):
        cols[f"zone{z + 1}_do_mg_l"] = bed[:, z, C.O2]
    return cols


def timeseries_frame(tank):
    """The sampled run as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(timeseries_columns(tank))


def cycle_completed_day(ts, check_hour: float) -> float | None:
    """Day a new tank counts as cycled, read as a keeper reads a kit.

    At each daily check (the dosing or first-feeding time, before it happens) ammonia and
    nitrite must both read below the first colour step (0.25 mg/L) and keep doing so at
    every later check, after nitrite has once risen above it (so the cycle has run).
    """
    t = np.asarray(ts["time_d"])
    days = np.arange(0, int(np.floor(t[-1])) + 1) + check_hour / 24.0
    days = days[days <= t[-1] + 1e-9]
    if days.size == 0:
        return None
    idx = np.clip(np.searchsorted(t, days - 1e-9), 0, t.size - 1)
    tan = np.asarray(ts["tan_mg_l"])[idx]
    no2 = np.asarray(ts["no2_n_mg_l"])[idx]
    ok = (tan < limits.CYCLED_MG_L) & (no2 < limits.CYCLED_MG_L)
    # last index where it was not ok; cycled from the next check on
    bad = np.flatnonzero(~ok)
    first_ok = 0 if bad.size == 0 else bad[-1] + 1
    if first_ok >= days.size:
        return None
    no2_all = np.asarray(ts["no2_n_mg_l"])
    if no2_all[t <= days[first_ok]].max(initial=0.0) < limits.CYCLED_MG_L:
        return None
    return float(days[first_ok])


#: the bulk TAN at which the bed's capacity is stated, mg N/L: a level a keeper's kit
#: reads as clearly high, well short of what the film could be pushed to
CAPACITY_TAN_MG_L = 1.0


def _zone_oxygen_mg_l(o2_in_mg_l, flow_l_d, o2_use_mg_d):
    """Zone O2 c with flow * (o2_in - c) = o2_use(c) (vectorised bisection over zones)."""
    lo, hi = np.zeros_like(flow_l_d), np.full_like(flow_l_d, o2_in_mg_l)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        short = flow_l_d * (o2_in_mg_l - mid) < o2_use_mg_d(mid)
        hi = np.where(short, mid, hi)
        lo = np.where(short, lo, mid)
    return lo


def nitrification_capacity(tank) -> tuple[float, float]:
    """What the model sustains at steady state with the bulk TAN held at
    :data:`CAPACITY_TAN_MG_L`, mg N/d: (the bed's, the tank's).

    * **bed**: every zone's film at steady state (:func:`tankeco.sim.biofilm.capacity_g_m2_d`:
      the largest load whose steady biomass oxidises it to nitrate), its oxygen what the
      zone's share of the pump brings from air-saturated water less what the film uses.
      A zone the pump does not reach adds almost nothing however much pebble it holds:
      this is what a layout costs.
    * **tank**: the same with the water column's oxygen where the surface exchange
      supplies what the bed, the fish and the waste (as at the end of the run) use.

    pH, alkalinity and temperature are the water's at the end of the run.
    """
    model, p = tank.model, tank.p
    water = tank.m[0] / tank.forcing.water_volume_l
    ph = float(model.ph(tank.m, tank.forcing)[0])
    f_aob, f_nob = water_factors(p, ph, water[C.ALK], CAPACITY_TAN_MG_L)
    fk = film_kinetics(p, tank.temp_c, f_aob, f_nob)
    sat = model.o2_sat_mg_l
    o2_grid = np.linspace(0.0, sat, 33)
    cap_grid = np.array([fk.capacity(CAPACITY_TAN_MG_L, o) for o in o2_grid])  # g N/m2/d
    o2_per_n_total = sum(o2_per_n(p))
    media = model.geo.zone_media_area_m2
    pumping = Forcing(pump_on=tank.filter.total_flow_l_h > 0, water_volume_l=tank.v_nominal_l)
    flow = model.exchange_l_d(pumping)

    def zones_mg_n_d(o2_water):
        def use(c):
            return o2_per_n_total * np.interp(c, o2_grid, cap_grid) * media * 1000.0

        c = _zone_oxygen_mg_l(o2_water, flow, use)
        return float((np.interp(c, o2_grid, cap_grid) * media).sum() * 1000.0)

    bed = zones_mg_n_d(sat)
    sc = model.scalars(pumping)
    kla_l_d = sc[kernel.KLA_O2]
    procs = {pr.name: pr for pr in model.procs}
    fish = procs["fish_respiration"]
    k_fish = fish.monod[0][1]
    k_min = model.film_constants()[kernel.FILM_K_MIN]
    waste_o2_mg_d = k_min * float(tank.m[:, C.XS_COD].sum())

    def shortfall(o2_water):
        other = fish.k * o2_water / (k_fish + o2_water) + waste_o2_mg_d
        return kla_l_d * (sat - o2_water) - other - o2_per_n_total * zones_mg_n_d(o2_water)

    lo, hi = 0.0, sat
    if shortfall(lo) < 0.0:
        return bed, 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if shortfall(mid) > 0.0:
            lo = mid
        else:
            hi = mid
    return bed, zones_mg_n_d(lo)


def _hours_above(ts, column: str, limit: float) -> float:
    dt = np.diff(np.asarray(ts["time_d"]), prepend=0.0)
    return float((dt * (np.asarray(ts[column]) > limit)).sum() * 24.0)


def build_results(tank, days: float, solver: dict) -> Results:
    """The run's outputs; ``solver`` is the integrator's ``solver_summary()``."""
    ts = timeseries_columns(tank)
    ev = tank.ledger.events
    led = tank.ledger
    stored_end = tank.stored_n_mg()
    denit = tank.denitrified_n_mg()
    n_clipped = float((tank.clipped @ tank.model.n_weights).sum())
    n_in = led.n_in_feed_mg + led.n_in_dosing_mg + led.n_in_tap_mg + n_clipped
    n_out = led.n_out_water_change_mg + led.n_out_retained_by_animals_mg + denit
    residual = n_in - n_out - (stored_end - tank.n_start_mg)
    scale = max(n_in, tank.n_start_mg, 1e-12)
    balance = {
        "nitrogen_mg": {
            "in": {
                "feed": led.n_in_feed_mg,
                "dosing": led.n_in_dosing_mg,
                "tap_water": led.n_in_tap_mg,
                "round_off_clipped": n_clipped,
                "total": n_in,
            },
            "out": {
                "water_changes": led.n_out_water_change_mg,
                "retained_by_animals": led.n_out_retained_by_animals_mg,
                "denitrified_n2": denit,
                "total": n_out,
            },
            "stored": {
                "start": tank.n_start_mg,
                "end": stored_end,
                "change": stored_end - tank.n_start_mg,
            },
            "residual": residual,
            "relative_residual": residual / scale,
        },
        "water_l": {
            "start": tank.v_start_l,
            "in": led.water_in_l,
            "out": led.water_out_l,
            "evaporated": led.water_evaporated_l,
            "end": tank.total_water_l(),
            "residual": tank.v_start_l
            + led.water_in_l
            - led.water_out_l
            - led.water_evaporated_l
            - tank.total_water_l(),
        },
    }
    sc = tank.scenario
    if sc.dosing.enabled:
        check_hour = sc.dosing.time_of_day_h
    elif sc.feeds:
        check_hour = min(f.time_of_day_h for f in sc.feeds)
    else:
        check_hour = 9.0

    capacity_bed, capacity_tank = nitrification_capacity(tank)

    def peak(col):
        i = int(ts[col].argmax())
        return {"value": float(ts[col][i]), "day": float(ts["time_d"][i])}

    summary = {
        "scenario": sc.scenario.name,
        "days": days,
        "start": sc.start.state,
        "peak_tan_mg_l": peak("tan_mg_l"),
        "peak_nh3_mg_l": peak("nh3_mg_l"),
        "peak_no2_n_mg_l": peak("no2_n_mg_l"),
        "days_above_nh3_limit": _hours_above(ts, "nh3_mg_l", limits.FREE_NH3_N_MG_L) / 24.0,
        "days_above_no2_limit": _hours_above(ts, "no2_n_mg_l", limits.NO2_N_MG_L) / 24.0,
        "no3_n_end_mg_l": float(ts["no3_n_mg_l"][-1]),
        "no3_n_max_mg_l": float(ts["no3_n_mg_l"].max()),
        "do_min_mg_l": float(ts["do_mg_l"].min()),
        "bed_do_min_mg_l": float(ts["bed_do_min_mg_l"].min()),
        "ph_min": float(ts["ph"].min()),
        "ph_end": float(ts["ph"][-1]),
        "alk_end_mg_l_caco3": float(ts["alk_mg_l_caco3"][-1]),
        "pump_flow_l_h": float(tank.filter.total_flow_l_h),
        "zone_flow_l_h": [float(q) for q in tank.filter.flow_l_h],
        "bed_porosity_min": float(
            tank.filter.porosity_of(tank.filter.solids_g(tank.m, tank.inert_g)).min()
        ),
        "anoxic_zone_days": float((np.diff(ts["time_d"], prepend=0.0) * ts["anoxic_zones"]).sum()),
        "denitrified_n_mg": float(ts["denitrified_n_mg"][-1]),
        "nitrification_capacity_mg_n_d": capacity_tank,
        "nitrification_capacity_bed_mg_n_d": capacity_bed,
        "nitrification_capacity_tan_mg_l": CAPACITY_TAN_MG_L,
        "cycle_completed_day": (
            cycle_completed_day(ts, check_hour) if sc.start.state == "new" else None
        ),
        "limits": {
            "nh3_mg_l": limits.FREE_NH3_N_MG_L,
            "no2_n_mg_l": limits.NO2_N_MG_L,
            "no3_n_mg_l": limits.NO3_N_MG_L,
        },
    }
    return Results(ts, ev, summary, balance, solver, final_state=tank.m.copy())
