"""The continuous part of the tank: right-hand side and Jacobian of the mass ODE.

Compartments: 0 is the free water column, 1..n are the bed zones (plan-view strips of the
ceramsite bed, each with its own pore water and biofilm).  The pump draws water from the
column and pushes each zone's share up through it; zone water returns to the column.  The
zones are well mixed (a zone of ~1 L flushed ~100 times an hour), which is why the system
is stiff: exchange in minutes, biomass in days.

The state is the mass of every component in every compartment, so nitrogen conservation
is a linear invariant: every Petersen row conserves N (checked in the tests), transport
moves mass without creating it, and the integrator (:mod:`tankeco.sim.integrator`)
preserves linear invariants exactly.

    dm/dt = L m + g + nu^T r(m)

``L`` holds the linear operators (pump exchange, diffusion while the pump is off, settling
of waste onto the bed, O2 surface exchange), ``g`` the constant part of the O2 surface
exchange, and ``nu^T r`` the processes of :mod:`tankeco.sim.petersen`.  CO2 surface
exchange depends on pH and is added to the reaction part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tankeco.chemistry.ammonia import anthonisen_free_ammonia_mg_l, free_nitrous_acid_mg_l
from tankeco.chemistry.carbonate import (
    carbonate_constants,
    co2_fraction,
    co2_saturation_mg_c_l,
    ph_from_alk_dic_fast,
)
from tankeco.chemistry.oxygen import o2_saturation_mg_l
from tankeco.sim.petersen import (
    BED_ONLY,
    DISSOLVED,
    NCOMP,
    PARTICULATE,
    WATER_ONLY,
    C,
    Process,
    Where,
    build_processes,
    n_content,
    stoichiometry_matrix,
)

ENV_NAMES = ("f_ph", "f_cap", "i_fa_aob", "i_fa_nob", "i_fna_nob", "light")


@dataclass(frozen=True)
class Geometry:
    """Volumes and areas the model needs, in L and m2."""

    water_volume_l: float  # free water column above the bed
    zone_pore_volume_l: np.ndarray  # (n,)
    zone_area_m2: np.ndarray  # (n,) plan area of each zone
    zone_media_area_m2: np.ndarray  # (n,) biofilm area of the pebbles in each zone
    surface_area_m2: float  # water surface (gas exchange)
    water_depth_m: float  # depth of the free water column (settling)
    bed_depth_m: float


@dataclass
class Forcing:
    """What the discrete events set and the continuous model reads."""

    pump_on: bool = True
    light_on: bool = False
    water_volume_l: float = 60.0


class TankModel:
    """Right-hand side, Jacobian and diagnostics of one tank, for one temperature.

    Parameters
    ----------
    geometry : Geometry
    params : dict
        Resolved parameter table (:func:`tankeco.params.resolve`).
    temp_c : float
        Water temperature (heater set point).
    pump_flow_l_h : float
        Flow delivered through the bed.
    zone_flow_share : array
        Share of the pump flow through each zone (sums to 1); uniform until the
        hydraulics solver provides the layout's split.
    fish_mass_kg, plant_uptake_max_mg_n_d : float
        Stock that sets respiration and plant uptake.
    """

    def __init__(
        self,
        geometry: Geometry,
        params: dict[str, float],
        temp_c: float,
        pump_flow_l_h: float,
        zone_flow_share: np.ndarray,
        fish_mass_kg: float,
        plant_uptake_max_mg_n_d: float,
    ):
        self.geo = geometry
        self.p = dict(params)
        self.temp_c = float(temp_c)
        n = len(geometry.zone_pore_volume_l)
        self.nzones = n
        self.ncompart = n + 1
        share = np.asarray(zone_flow_share, dtype=float)
        if share.shape != (n,) or np.any(share < 0) or not np.isclose(share.sum(), 1.0):
            raise ValueError("zone_flow_share must be n non-negative numbers summing to 1")
        self.zone_flow_l_d = pump_flow_l_h * 24.0 * share
        # pore water exchange by diffusion over half the bed depth while the pump is off
        self.zone_diffusion_l_d = (
            self.p["d_o2_m2_s"] * 86400.0 * geometry.zone_area_m2 / (geometry.bed_depth_m / 2)
        ) * 1000.0
        self.procs: list[Process] = build_processes(
            self.p, self.temp_c, fish_mass_kg, plant_uptake_max_mg_n_d
        )
        self.nu = stoichiometry_matrix(self.procs)
        self.n_weights = n_content(self.p)
        self.o2_sat_mg_l = float(o2_saturation_mg_l(self.temp_c, self.p["pressure_kpa"]))
        self.co2_sat_mg_c_l = float(co2_saturation_mg_c_l(self.temp_c, self.p["pco2_air_uatm"]))
        self.biofilm_capacity_mg = np.concatenate(
            [[np.inf], self.p["biofilm_capacity_g_vss_m2"] * 1000.0 * geometry.zone_media_area_m2]
        )
        self._build_kinetic_tables()
        self._build_active_mask()
        self._forcing_key: tuple | None = None
        self._k_carbonate = tuple(float(k) for k in carbonate_constants(self.temp_c))
        self._ki = (self.p["ki_fa_aob_mg_l"], self.p["ki_fa_nob_mg_l"], self.p["ki_fna_nob_mg_l"])
        self._inv_capacity = 1.0 / self.biofilm_capacity_mg
        nc = self.ncompart
        self._env_buf = np.ones((len(ENV_NAMES) + 1, nc))
        self._mass_buf = np.zeros((NCOMP + 2, nc))
        self._mass_buf[NCOMP + 1] = 1.0
        self._conc_buf = np.zeros((NCOMP + 1, nc))
        self._drate_buf = np.zeros((len(self.procs), NCOMP + 2, nc))
        self._proc_rows = np.arange(len(self.procs))
        self._f_k3 = self.f_k[:, :, None]
        self._f_a3 = self.f_a[:, :, None]
        self._f_b3 = self.f_b[:, :, None]

    # ------------------------------------------------------------------ set-up
    def _build_kinetic_tables(self) -> None:
        """Pad every process's factor list to one array so all rates are one expression."""
        procs = self.procs
        npr = len(procs)
        maxf = max(1, max(len(p.monod) + len(p.inhibit) for p in procs))
        maxe = max(1, max(len(p.env) for p in procs))
        dummy = NCOMP  # index of an all-zero concentration row
        self.f_comp = np.full((npr, maxf), dummy, dtype=np.intp)
        self.f_k = np.ones((npr, maxf))
        self.f_a = np.zeros((npr, maxf))  # factor = (a*C + b)/(K + C)
        self.f_b = np.ones((npr, maxf))
        ones_env = len(ENV_NAMES)
        self.e_idx = np.full((npr, maxe), ones_env, dtype=np.intp)
        self.k = np.array([p.k for p in procs])
        self.mass_idx = np.array([dummy + 1 if p.mass is None else int(p.mass) for p in procs])
        self.where = np.zeros((npr, self.ncompart))
        for i, proc in enumerate(procs):
            comps = [c for c, _ in proc.monod] + [c for c, _ in proc.inhibit]
            if len(set(comps)) != len(comps) or (proc.mass is not None and proc.mass in comps):
                raise ValueError(f"process {proc.name}: a component appears twice in its rate")
            for j, (comp, half) in enumerate(proc.monod):
                self.f_comp[i, j], self.f_k[i, j], self.f_a[i, j], self.f_b[i, j] = comp, half, 1, 0
            for j, (comp, half) in enumerate(proc.inhibit, start=len(proc.monod)):
                self.f_comp[i, j], self.f_k[i, j], self.f_a[i, j], self.f_b[i, j] = (
                    comp,
                    half,
                    0,
                    half,
                )
            for j, name in enumerate(proc.env):
                self.e_idx[i, j] = ENV_NAMES.index(name)
            if proc.where == Where.ALL:
                self.where[i, :] = 1.0
            elif proc.where == Where.WATER:
                self.where[i, 0] = 1.0
            else:
                self.where[i, 1:] = 1.0
        self.k_where = self.k[:, None] * self.where

    def _build_active_mask(self) -> None:
        """Which (compartment, component) cells are state variables of the ODE."""
        act = np.ones((self.ncompart, NCOMP), dtype=bool)
        act[0, list(BED_ONLY)] = False
        act[1:, list(WATER_ONLY)] = False
        self.active = act
        self.active_flat = np.flatnonzero(act.ravel())
        self.nstate = self.active_flat.size
        full_to_act = np.full(self.ncompart * NCOMP, -1, dtype=np.intp)
        full_to_act[self.active_flat] = np.arange(self.nstate)
        self._full_to_act = full_to_act
        # positions of the local (per-compartment) Jacobian blocks in the active matrix
        cc, ii, kk = np.meshgrid(
            np.arange(self.ncompart), np.arange(NCOMP), np.arange(NCOMP), indexing="ij"
        )
        rows = full_to_act[cc * NCOMP + ii]
        cols = full_to_act[cc * NCOMP + kk]
        keep = (rows >= 0) & (cols >= 0)
        self._loc_sel = (cc[keep], ii[keep], kk[keep])
        self._loc_pos = (rows[keep], cols[keep])
        self.idx_dic_w = int(full_to_act[0 * NCOMP + C.DIC])

    def index(self, compart: int, comp: C) -> int:
        """Position of one cell in the active state vector."""
        i = int(self._full_to_act[compart * NCOMP + int(comp)])
        if i < 0:
            raise KeyError(f"component {comp.name} is not a state in compartment {compart}")
        return i

    # ---------------------------------------------------------- state helpers
    def volumes_l(self, forcing: Forcing) -> np.ndarray:
        return np.concatenate([[forcing.water_volume_l], self.geo.zone_pore_volume_l])

    def to_grid(self, y: np.ndarray) -> np.ndarray:
        """Active state vector -> (compartment, component) masses."""
        m = np.zeros(self.ncompart * NCOMP)
        m[self.active_flat] = y
        return m.reshape(self.ncompart, NCOMP)

    def from_grid(self, m: np.ndarray) -> np.ndarray:
        return np.asarray(m, dtype=float).reshape(-1)[self.active_flat].copy()

    def nitrogen_mg(self, y: np.ndarray) -> float:
        """Nitrogen held in the tank (all compartments, biomass, guts, plants) plus N2 lost."""
        return float(self.to_grid(y) @ self.n_weights @ np.ones(self.ncompart))

    # ------------------------------------------------------- linear operators
    def linear_operator(self, forcing: Forcing) -> tuple[np.ndarray, np.ndarray]:
        """(L, g) in the active coordinates for the current pump state and volume."""
        key = (forcing.pump_on, forcing.water_volume_l)
        if key == self._forcing_key:
            return self._lin
        nc = self.ncompart
        vol = self.volumes_l(forcing)
        nfull = nc * NCOMP
        lin = np.zeros((nfull, nfull))
        g = np.zeros(nfull)
        exch = self.zone_diffusion_l_d + (self.zone_flow_l_d if forcing.pump_on else 0.0)
        a_t = np.zeros((nc, nc))  # mass exchange between compartments, per component
        a_t[1:, 0] = exch / vol[0]
        a_t[0, 0] = -exch.sum() / vol[0]
        a_t[0, 1:] = exch / vol[1:]
        a_t[np.arange(1, nc), np.arange(1, nc)] = -exch / vol[1:]
        comp_idx = np.arange(nc) * NCOMP
        for comp in DISSOLVED:
            lin[np.ix_(comp_idx + comp, comp_idx + comp)] += a_t
        k_settle = self.p["settling_velocity_m_d"] / self.geo.water_depth_m
        share = self.geo.zone_area_m2 / self.geo.zone_area_m2.sum()
        for comp in PARTICULATE:
            lin[comp, comp] -= k_settle
            lin[comp_idx[1:] + comp, comp] += k_settle * share
        kl = self.p["k_l_o2_m_d"] if forcing.pump_on else self.p["k_l_o2_still_m_d"]
        kla_l_d = kl * self.geo.surface_area_m2 * 1000.0
        lin[C.O2, C.O2] -= kla_l_d / vol[0]
        g[C.O2] = kla_l_d * self.o2_sat_mg_l
        self._kla_co2_l_d = kla_l_d * self.p["k_l_co2_ratio"]
        act = self.active_flat
        self._lin = (lin[np.ix_(act, act)], g[act])
        self._forcing_key = key
        return self._lin

    # ------------------------------------------------------------- kinetics
    def environment(self, conc: np.ndarray, forcing: Forcing, mass: np.ndarray) -> dict:
        """pH and the environmental rate multipliers in every compartment.

        conc: (compartment, component) concentrations in mg/L.  Rows of the returned
        table follow ENV_NAMES, plus a final row of ones for padding.
        """
        p = self.p
        ph = ph_from_alk_dic_fast(conc[:, C.ALK], conc[:, C.DIC], *self._k_carbonate)
        fa = anthonisen_free_ammonia_mg_l(conc[:, C.TAN], ph, self.temp_c)
        fna = free_nitrous_acid_mg_l(conc[:, C.NO2], ph, self.temp_c)
        env = self._env_buf
        env[0] = p["ph_opt_nitrif"] - ph
        env[0] *= -p["ph_slope_nitrif"]
        env[0] += 1.0
        env[1] = mass[:, C.AOB]
        env[1] += mass[:, C.NOB]
        env[1] *= self._inv_capacity
        np.subtract(1.0, env[1], out=env[1])
        np.clip(env[:2], 0.0, 1.0, out=env[:2])
        env[2] = self._ki[0] / (self._ki[0] + fa)
        env[3] = self._ki[1] / (self._ki[1] + fa)
        env[4] = self._ki[2] / (self._ki[2] + fna)
        env[5] = 1.0 if forcing.light_on else 0.0
        return {"ph": ph, "table": env}

    def _kinetics(self, y: np.ndarray, forcing: Forcing, want_jac: bool):
        vol = self.volumes_l(forcing)
        mass_ext = self._mass_buf  # (NCOMP + 2, compartment): masses, zeros, ones
        mass_ext[:NCOMP].fill(0.0)
        mass_ext[:NCOMP].T.flat[self.active_flat] = y
        mass = mass_ext[:NCOMP].T
        conc_ext = self._conc_buf  # (NCOMP + 1, compartment): concentrations, zeros
        np.divide(mass_ext[:NCOMP], vol, out=conc_ext[:NCOMP])
        conc = conc_ext[:NCOMP].T
        env = self.environment(conc, forcing, mass)
        cf = conc_ext[self.f_comp]  # (process, factor, compartment)
        denom = self._f_k3 + cf
        factors = (self._f_a3 * cf + self._f_b3) / denom
        base = self.k_where * env["table"][self.e_idx].prod(axis=1)  # (process, compart)
        fprod = factors.prod(axis=1)
        mterm = mass_ext[self.mass_idx]
        rates = base * fprod * mterm
        if not want_jac:
            return rates, env, conc, vol, None
        # d rate / d mass for each factor's component, env factors held fixed:
        # product of the other factors = prefix[j] * suffix[j+1]
        nf = factors.shape[1]
        prefix = np.ones_like(factors)
        suffix = np.ones_like(factors)
        for j in range(1, nf):
            prefix[:, j] = prefix[:, j - 1] * factors[:, j - 1]
            suffix[:, nf - 1 - j] = suffix[:, nf - j] * factors[:, nf - j]
        dfdc = (self._f_a3 * self._f_k3 - self._f_b3) / denom**2
        dterm = (base * mterm / vol)[:, None, :] * prefix * suffix * dfdc
        drate = self._drate_buf
        drate.fill(0.0)
        rows = self._proc_rows
        for j in range(nf):
            drate[rows, self.f_comp[:, j]] += dterm[:, j]
        drate[rows, self.mass_idx] += base * fprod
        return rates, env, conc, vol, drate[:, :NCOMP, :]

    def _reactions(self, rates: np.ndarray, ph: np.ndarray, conc: np.ndarray):
        """nu^T r in active coordinates, plus CO2 surface exchange of the water column.

        CO2 flux = kLa_CO2 (CO2_sat - alpha0(pH) DIC): returns alpha0 for the Jacobian.
        """
        react = (rates.T @ self.nu).reshape(-1)[self.active_flat]
        alpha0 = float(co2_fraction(ph[0], self.temp_c))
        react[self.idx_dic_w] += self._kla_co2_l_d * (self.co2_sat_mg_c_l - alpha0 * conc[0, C.DIC])
        return react, alpha0

    def rhs(self, y: np.ndarray, forcing: Forcing) -> np.ndarray:
        """dm/dt in the active coordinates (mg/d)."""
        lin, g = self.linear_operator(forcing)
        rates, env, conc, _, _ = self._kinetics(y, forcing, want_jac=False)
        react, _ = self._reactions(rates, env["ph"], conc)
        return lin @ y + g + react

    def rhs_and_jacobian(self, y: np.ndarray, forcing: Forcing) -> tuple[np.ndarray, np.ndarray]:
        """f(y) and an approximate Jacobian (pH-dependent factors held fixed).

        The approximation keeps the Jacobian's columns in the span of the stoichiometry,
        so conservation of nitrogen by the integrator does not depend on its accuracy.
        """
        lin, g = self.linear_operator(forcing)
        rates, env, conc, vol, drate = self._kinetics(y, forcing, want_jac=True)
        react, alpha0 = self._reactions(rates, env["ph"], conc)
        # local blocks: J_loc[c, i, k] = sum_p nu[p, i] * drate[p, k, c]
        j_loc = np.einsum("pi,pkc->cik", self.nu, drate)
        jac = lin.copy()
        jac[self._loc_pos] += j_loc[self._loc_sel]
        jac[self.idx_dic_w, self.idx_dic_w] -= self._kla_co2_l_d * alpha0 / vol[0]
        return lin @ y + g + react, jac

    # ------------------------------------------------------------- diagnostics
    def diagnostics(self, y: np.ndarray, forcing: Forcing) -> dict[str, np.ndarray]:
        """Concentrations, pH and rates for reports (not used by the integrator)."""
        rates, env, conc, vol, _ = self._kinetics(y, forcing, want_jac=False)
        return {"conc": conc, "ph": env["ph"], "rates": rates, "volumes": vol}
