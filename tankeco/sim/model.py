"""The continuous part of the tank: right-hand side and Jacobian of the mass ODE.

Compartments: 0 is the free water column, 1..n are the bed zones (plan-view strips of the
ceramsite bed, each with its own pore water and biofilm).  The pump draws water from the
column and pushes each zone's share up through it; zone water returns to the column.  The
zones are well mixed (a zone of ~1 L flushed ~100 times an hour), which is why the system
is stiff: exchange in minutes, biomass in days.

The state is the mass of every component in every compartment, an array m[c, k] (cells
that do not exist, such as fish guts in a bed zone, stay zero), so nitrogen conservation
is a linear invariant: every Petersen row conserves N (checked in the tests), transport
moves mass without creating it, and the integrator (:mod:`tankeco.sim.ros2_kernel`) preserves
linear invariants exactly.

    dm/dt = L m + g + nu^T r(m)

``L`` holds the linear operators (pump exchange, diffusion while the pump is off, settling
of waste onto the bed, O2 surface exchange), ``g`` the constant part of the O2 surface
exchange, and ``nu^T r`` the processes of :mod:`tankeco.sim.petersen`.  CO2 surface
exchange depends on pH and is added to the reaction part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tankeco.chemistry.ammonia import pka_ammonium
from tankeco.chemistry.carbonate import carbonate_constants, co2_saturation_mg_c_l
from tankeco.chemistry.oxygen import o2_saturation_mg_l
from tankeco.chemistry.temperature import theta_factor
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim.biofilm import film_kinetics
from tankeco.sim.petersen import (
    BED_ONLY,
    DISSOLVED,
    NCOMP,
    PARTICULATE,
    WATER_ONLY,
    Process,
    Where,
    build_processes,
    n_content,
    stoichiometry_matrix,
)
from tankeco.sim.ros2_kernel import ENV_NAMES, ENV_ONE


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
    """Right-hand side, Jacobian and integrator tables of one tank at one temperature.

    Parameters
    ----------
    geometry : Geometry
    params : dict
        Resolved parameter table (:func:`tankeco.scenario.params.resolve`).
    temp_c : float
        Water temperature (heater set point).
    pump_flow_l_h : float
        Flow delivered through the bed.
    zone_flow_share : array
        Share of the pump flow through each zone (sums to 1): from the solved pipe
        layout (:mod:`tankeco.sim.filterbed`), or even without one.
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
        self.set_zone_flows(pump_flow_l_h, zone_flow_share)
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
        #: the film's constants at this temperature (:mod:`tankeco.sim.biofilm`)
        self.film_kinetics = film_kinetics(self.p, self.temp_c)
        #: pebble area and plan area of each compartment (0 for the water column), m2
        self.area_m2 = np.zeros((2, self.ncompart))
        self.area_m2[0, 1:] = geometry.zone_media_area_m2
        self.area_m2[1, 1:] = geometry.zone_area_m2
        self._build_kinetic_tables()
        self._tables: kernel.Tables | None = None
        active = np.ones((self.ncompart, NCOMP), dtype=bool)
        active[0, list(BED_ONLY)] = False
        active[1:, list(WATER_ONLY)] = False
        self.active = active
        #: component indices that are state in the water column and in a bed zone
        self.active_components = (
            np.flatnonzero(active[0]).astype(np.int64),
            np.flatnonzero(active[1]).astype(np.int64),
        )
        self.dissolved = np.zeros(NCOMP, dtype=np.bool_)
        self.dissolved[list(DISSOLVED)] = True
        self.particulate = np.zeros(NCOMP, dtype=np.bool_)
        self.particulate[list(PARTICULATE)] = True
        #: where settling waste lands, per zone (area share on an up-flow bed)
        self.deposition_share = geometry.zone_area_m2 / geometry.zone_area_m2.sum()

    def set_zone_flows(self, pump_flow_l_h: float, zone_flow_share: np.ndarray) -> None:
        """Pump flow through each zone; the hydraulics solver may change it during a run."""
        share = np.asarray(zone_flow_share, dtype=float)
        if share.shape != (self.nzones,) or np.any(share < 0) or not np.isclose(share.sum(), 1):
            raise ValueError("zone_flow_share must be n non-negative numbers summing to 1")
        self.zone_flow_l_d = pump_flow_l_h * 24.0 * share

    # ------------------------------------------------------------------ set-up
    def _build_kinetic_tables(self) -> None:
        """Pad every process's factor list to one array so the kernel loops over tables.

        factor = (a C + b)/(K + C): Monod (a=1, b=0), inhibition (a=0, b=K); padding
        points at a zero concentration with a=0, b=K=1, i.e. a factor of exactly 1.
        """
        procs = self.procs
        npr = len(procs)
        maxf = max(1, max(len(p.monod) + len(p.inhibit) for p in procs))
        maxe = max(1, max(len(p.env) for p in procs))
        self.f_comp = np.full((npr, maxf), NCOMP, dtype=np.int64)
        self.f_k = np.ones((npr, maxf))
        self.f_a = np.zeros((npr, maxf))
        self.f_b = np.ones((npr, maxf))
        self.e_idx = np.full((npr, maxe), ENV_ONE, dtype=np.int64)
        self.mass_idx = np.array(
            [NCOMP + 1 if p.mass is None else int(p.mass) for p in procs], dtype=np.int64
        )
        where = np.zeros((npr, self.ncompart))
        for i, proc in enumerate(procs):
            comps = [c for c, _ in proc.monod] + [c for c, _ in proc.inhibit]
            if len(set(comps)) != len(comps) or (proc.mass is not None and proc.mass in comps):
                raise ValueError(f"process {proc.name}: a component appears twice in its rate")
            for j, (comp, half) in enumerate(proc.monod):
                self.f_comp[i, j], self.f_k[i, j], self.f_a[i, j], self.f_b[i, j] = comp, half, 1, 0
            for j, (comp, half) in enumerate(proc.inhibit, start=len(proc.monod)):
                self.f_comp[i, j], self.f_k[i, j] = comp, half
                self.f_a[i, j], self.f_b[i, j] = 0, half
            for j, name in enumerate(proc.env):
                self.e_idx[i, j] = ENV_NAMES.index(name)
            if proc.where == Where.ALL:
                where[i, :] = 1.0
            elif proc.where == Where.WATER:
                where[i, 0] = 1.0
            else:
                where[i, 1:] = 1.0
        self.k_where = np.array([p.k for p in procs])[:, None] * where
        nz = [np.flatnonzero(self.nu[i]) for i in range(npr)]
        self.nz_cnt = np.array([len(z) for z in nz], dtype=np.int64)
        self.nz_idx = np.zeros((npr, max(self.nz_cnt)), dtype=np.int64)
        for i, z in enumerate(nz):
            self.nz_idx[i, : len(z)] = z

    # ---------------------------------------------------------------- forcing
    def volumes_l(self, forcing: Forcing) -> np.ndarray:
        return np.concatenate([[forcing.water_volume_l], self.geo.zone_pore_volume_l])

    def exchange_l_d(self, forcing: Forcing) -> np.ndarray:
        """Water exchanged between each zone and the column: pump share plus diffusion."""
        return self.zone_diffusion_l_d + (self.zone_flow_l_d if forcing.pump_on else 0.0)

    def scalars(self, forcing: Forcing) -> np.ndarray:
        """The kernel's scalar constants (see the index names in :mod:`kernel`)."""
        p = self.p
        k1, k2, kw = (float(k) for k in carbonate_constants(self.temp_c))
        kl = p["k_l_o2_m_d"] if forcing.pump_on else p["k_l_o2_still_m_d"]
        kla_l_d = kl * self.geo.surface_area_m2 * 1000.0
        sc = np.zeros(kernel.N_SCALARS)
        sc[kernel.K1], sc[kernel.K2], sc[kernel.KW] = k1, k2, kw
        sc[kernel.PH_OPT], sc[kernel.PH_SLOPE] = p["ph_opt_nitrif"], p["ph_slope_nitrif"]
        # Anthonisen et al. (1976): exp(6344/(273+T)) = 1/Ka(NH4+), exp(-2300/(273+T)) = Ka(HNO2)
        sc[kernel.FA_INV_KA] = np.exp(6344.0 / (273.0 + self.temp_c))
        sc[kernel.FNA_KA] = np.exp(-2300.0 / (273.0 + self.temp_c))
        sc[kernel.KI_FA_AOB] = p["ki_fa_aob_mg_l"]
        sc[kernel.KI_FA_NOB] = p["ki_fa_nob_mg_l"]
        sc[kernel.KI_FNA_NOB] = p["ki_fna_nob_mg_l"]
        sc[kernel.K_SETTLE] = p["settling_velocity_m_d"] / self.geo.water_depth_m
        sc[kernel.KLA_O2] = kla_l_d
        sc[kernel.O2_SAT] = self.o2_sat_mg_l
        sc[kernel.KLA_CO2] = kla_l_d * p["k_l_co2_ratio"]
        sc[kernel.CO2_SAT] = self.co2_sat_mg_c_l
        sc[kernel.LIGHT] = 1.0 if forcing.light_on else 0.0
        sc[kernel.KA_NH4] = 10.0 ** -float(pka_ammonium(self.temp_c))
        return sc

    def film_constants(self) -> np.ndarray:
        """The kernel's film constants (see the FILM_* index names in :mod:`kernel`)."""
        p = self.p
        film = np.zeros(kernel.N_FILM)
        film[: len(self.film_kinetics.kin)] = self.film_kinetics.kin
        film[kernel.FILM_K_ALK] = p["k_alk_mg_l_caco3"]
        film[kernel.FILM_K_TAN_NUTRIENT] = p["k_tan_nutrient_mg_l"]
        film[kernel.FILM_K_MIN] = p["k_min_d"] * float(theta_factor(self.temp_c, p["theta_min"]))
        film[kernel.FILM_X_DEPOSIT] = p["deposit_solids_kg_m3"] * 1000.0
        film[kernel.FILM_K_O2_HET] = p["k_o2_het_mg_l"]
        film[kernel.FILM_CO2_COMP_PLANT] = p["co2_compensation_plant_mg_c_l"]
        film[kernel.FILM_K_CO2_PLANT] = p["k_co2_plant_mg_c_l"]
        return film

    def tables(self) -> kernel.Tables:
        """The Petersen tables in the kernel's layout (the one place they are packed)."""
        if self._tables is None:
            self._tables = kernel.Tables(
                film=self.film_constants(),
                area=self.area_m2,
                f_comp=self.f_comp,
                f_k=self.f_k,
                f_a=self.f_a,
                f_b=self.f_b,
                e_idx=self.e_idx,
                k_where=self.k_where,
                mass_idx=self.mass_idx,
                nu=self.nu,
                nz_idx=self.nz_idx,
                nz_cnt=self.nz_cnt,
                dissolved=self.dissolved,
                partic=self.particulate,
                act_water=self.active_components[0],
                act_zone=self.active_components[1],
            )
        return self._tables

    def conditions(self, forcing: Forcing) -> kernel.Conditions:
        """What the kernel reads from the forcing: volumes, scalars, exchange, deposition."""
        return kernel.Conditions(
            vol=self.volumes_l(forcing),
            sc=self.scalars(forcing),
            exch=self.exchange_l_d(forcing),
            share=self.deposition_share,
        )

    # ------------------------------------------------------------ evaluation
    def rhs(self, m: np.ndarray, forcing: Forcing) -> np.ndarray:
        """dm/dt (compartment, component), mg/d."""
        dm, *_ = kernel.evaluate(
            np.asarray(m, dtype=float), self.conditions(forcing), self.tables(), False
        )
        return dm

    def jacobian_dense(self, m: np.ndarray, forcing: Forcing) -> np.ndarray:
        """The kernel's Jacobian as one dense (nc*NCOMP)^2 matrix (for tests, references)."""
        _, jloc, czw, cwz, _ = kernel.evaluate(
            np.asarray(m, dtype=float), self.conditions(forcing), self.tables(), True
        )
        nc, n = self.ncompart, NCOMP
        jac = np.zeros((nc * n, nc * n))
        for c in range(nc):
            jac[c * n : (c + 1) * n, c * n : (c + 1) * n] = jloc[c]
        for z in range(nc - 1):
            c = z + 1
            idx = np.arange(n)
            jac[c * n + idx, idx] += czw[z]
            jac[idx, c * n + idx] += cwz[z]
        return jac

    def ph(self, m: np.ndarray, forcing: Forcing) -> np.ndarray:
        """pH in every compartment."""
        *_, ph = kernel.evaluate(
            np.asarray(m, dtype=float), self.conditions(forcing), self.tables(), False
        )
        return ph

    def nitrogen_mg(self, m: np.ndarray) -> float:
        """Nitrogen held in the tank (all compartments, biomass, guts, plants) plus N2 lost."""
        return float((np.asarray(m) @ self.n_weights).sum())
