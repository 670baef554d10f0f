"""The tank: set-up from a scenario, the event actions, and ``simulate``.

The simulator is four parts (see ``docs/sim.md``): the model (:mod:`tankeco.sim.model`,
the Petersen tables of :mod:`tankeco.sim.petersen`), the state (:mod:`tankeco.sim.state`),
an integrator (:mod:`tankeco.sim.integrators`) and one driver (:mod:`tankeco.sim.driver`)
that applies a :class:`~tankeco.sim.schedule.Schedule`.  :class:`Tank` puts a scenario
into the first two: it builds the model and the start state, and it knows what each
event does to the state (with the compiled functions of :mod:`tankeco.sim.events`) and
books every transfer across the tank's boundary in the ledger, which closes the nitrogen
and water balances reported in ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tankeco.chemistry.carbonate import dic_from_alk_ph
from tankeco.chemistry.oxygen import o2_saturation_mg_l
from tankeco.chemistry.temperature import theta_factor
from tankeco.errors import ScenarioError
from tankeco.scenario.params import resolve
from tankeco.sim import events
from tankeco.sim.biofilm import film_kinetics, water_factors
from tankeco.sim.driver import Run
from tankeco.sim.filterbed import FilterBed
from tankeco.sim.integrators import Tolerances, make_integrator
from tankeco.sim.model import Forcing, Geometry, TankModel
from tankeco.sim.petersen import ALK_PER_N, DISSOLVED, C
from tankeco.sim.results import Results, build_results
from tankeco.sim.schedule import record_schedule
from tankeco.sim.state import Ledger, Samples, TankState

__all__ = ["Ledger", "Tank", "evaporation_l_d", "geometry_of", "simulate"]


def geometry_of(scenario) -> Geometry:
    """Volumes and areas of the scenario's tank, split into equal plan-view bed zones."""
    tank, bed = scenario.tank, scenario.bed
    area_m2 = tank.length_cm * tank.width_cm / 1e4
    n = bed.zones
    zone_area = np.full(n, area_m2 / n)
    bed_depth_m = bed.depth_cm / 100.0
    zone_bed_volume_m3 = zone_area * bed_depth_m
    return Geometry(
        water_volume_l=area_m2 * tank.water_depth_cm / 100.0 * 1000.0,
        zone_pore_volume_l=zone_bed_volume_m3 * bed.porosity * 1000.0,
        zone_area_m2=zone_area,
        zone_media_area_m2=zone_bed_volume_m3 * bed.specific_surface_effective_m2_m3,
        surface_area_m2=area_m2,
        water_depth_m=tank.water_depth_cm / 100.0,
        bed_depth_m=bed_depth_m,
    )


def _layout_network(scenario):
    """The scenario's pipe network and solver options, or (None, None) for an even split."""
    if scenario.filter.layout is None:
        return None, None
    from tankeco.hydraulics.layout_file import resolve_layout

    layout = resolve_layout(scenario.filter.layout)
    network = layout.network()
    tank = scenario.tank
    if (
        abs(network.tank_length_m * 100 - tank.length_cm) > 1e-6
        or abs(network.tank_width_m * 100 - tank.width_cm) > 1e-6
    ):
        raise ScenarioError(
            "filter.layout",
            scenario.filter.layout,
            f"drawn for a {network.tank_length_m * 100:g} x {network.tank_width_m * 100:g} cm "
            f"tank; this tank is {tank.length_cm:g} x {tank.width_cm:g} cm",
        )
    return network, layout.options()


def evaporation_l_d(scenario) -> float:
    """Water the open tank loses a day, L/d (evaporation rate times the water surface)."""
    return scenario.tank.evaporation_mm_d / 1000.0 * geometry_of(scenario).surface_area_m2 * 1000


class Tank:
    """A scenario's tank: its model, its state and samples, and what events do to them.

    ``days`` sizes the output grid; ``rtol`` sets the tolerances an integrator is given
    (:meth:`tolerances`).  The masses, clock, forcing and ledger are in :attr:`state`.
    """

    def __init__(
        self,
        scenario,
        days: float,
        rtol: float = 1e-3,
        progress: Callable[[float], None] | None = None,
    ):
        self.scenario = scenario
        self.p = resolve(scenario.params)
        self.geo = geometry_of(scenario)
        n = scenario.bed.zones
        self.temp_c = float(scenario.temperature.setpoint_c)
        fish_mass_kg = sum(a.count * a.body_mass_g for a in scenario.animals if a.kind == "fish")
        network, options = _layout_network(scenario)
        self.filter = FilterBed(
            network,
            options,
            self.geo,
            self.p,
            scenario.bed.porosity,
            scenario.pump.flow_l_h,
            scenario.filter.direction,
        )
        self.model = TankModel(
            self.geo,
            self.p,
            self.temp_c,
            self.filter.total_flow_l_h,
            self.filter.share,
            fish_mass_kg / 1000.0,
            scenario.plants.uptake_max_mg_n_d,
        )
        self.model.deposition_share = self.filter.deposition_share()
        self.v_nominal_l = self.geo.water_volume_l
        forcing = Forcing(
            pump_on=self.filter.total_flow_l_h > 0,
            light_on=_light_on_at(0.0, scenario.lights.on_h, scenario.lights.off_h),
            water_volume_l=self.v_nominal_l,
        )
        self.evaporation_l_d = evaporation_l_d(scenario)
        self.portions = {id(f): events.portion(f, scenario.animals, self.p) for f in scenario.feeds}
        self.tap_mg_l = self._tap_concentrations(forcing)
        m = self._initial_masses(forcing)
        m[~self.model.active] = 0.0
        self.state = TankState(m=m, forcing=forcing, inert_g=np.zeros(n))
        self.n_start_mg = self.stored_n_mg()
        self.v_start_l = self.total_water_l()
        self.rtol = rtol
        self._tolerances = self._make_tolerances()
        self.samples = Samples(days, scenario.output.step_h, self.m, self.flags())
        self._progress = progress

    # ------------------------------------------------------- the state, by name
    @property
    def m(self) -> np.ndarray:
        """Masses m[compartment, component], mg (the state's)."""
        return self.state.m

    @m.setter
    def m(self, value: np.ndarray) -> None:
        self.state.m = value

    @property
    def t(self) -> float:
        return self.state.t

    @property
    def forcing(self) -> Forcing:
        return self.state.forcing

    @property
    def ledger(self) -> Ledger:
        return self.state.ledger

    @property
    def inert_g(self) -> np.ndarray:
        return self.state.inert_g

    @property
    def clipped(self) -> np.ndarray:
        return self.state.clipped

    # ----------------------------------------------------------------- set-up
    def _tap_concentrations(self, forcing: Forcing) -> np.ndarray:
        tap = self.scenario.tap
        c = np.zeros(len(C))
        c[C.TAN] = tap.tan_mg_l
        c[C.NO2] = tap.no2_n_mg_l
        c[C.NO3] = tap.no3_n_mg_l
        c[C.ALK] = tap.alk_mg_l_caco3
        c[C.DIC] = float(dic_from_alk_ph(tap.alk_mg_l_caco3, tap.ph, self.temp_c, tap.tan_mg_l))
        c[C.O2] = float(o2_saturation_mg_l(self.temp_c, self.p["pressure_kpa"]))
        return c

    def daily_loads(self) -> tuple[float, float, float]:
        """Mean N reaching the water (mg N/d), waste COD and waste N to the bed (mg/d)."""
        p, n_load, cod, n_waste = self.p, 0.0, 0.0, 0.0
        eaters = {a.kind for a in self.scenario.animals if a.count > 0}
        for feed in self.scenario.feeds:
            per_day = feed.amount_g * 1000.0 / feed.interval_d
            n_feed = per_day * feed.protein_fraction * p["n_per_protein"]
            uneaten = 1.0 if feed.eaten_by not in eaters else feed.uneaten_fraction
            retained = 1.0 - sum(
                p[f"{feed.eaten_by}_{x}"]
                for x in ("tan_fraction", "urea_fraction", "faecal_n_fraction")
            )
            n_load += n_feed * (uneaten + (1 - uneaten) * (1 - max(retained, 0.0)))
            cod += (
                per_day * p["cod_per_g_feed"] * (uneaten + (1 - uneaten) * (1 - p["digestibility"]))
            )
            n_waste += n_feed * (uneaten + (1 - uneaten) * p[f"{feed.eaten_by}_faecal_n_fraction"])
        return n_load, cod, n_waste

    def dosing_n_mg_d(self) -> float:
        """Mean N a cycled tank takes from the scenario's ammonia dosing, mg N/d: in a
        cycled tank TAN is below the threshold at every check, so every check doses the
        water column up to the target."""
        ds = self.scenario.dosing
        if not ds.enabled:
            return 0.0
        return ds.target_tan_mg_l * self.v_nominal_l / ds.interval_d

    def mature_film(self, n_load_mg_d: float) -> tuple[np.ndarray, ...]:
        """Steady film of every zone for a mean TAN load (mg N/d), split over the zones as
        the pump's flow is: (TAN, nitrite in g/m3; AOB, NOB in mg per zone).

        Raises ScenarioError when the bed cannot carry the load at steady state (a tank
        that cannot be mature)."""
        p, tap = self.p, self.tap_mg_l
        tap_ph = float(self.scenario.tap.ph)
        f_aob, f_nob = water_factors(p, tap_ph, tap[C.ALK], max(tap[C.TAN], 0.05))
        fk = film_kinetics(p, self.temp_c, f_aob, f_nob)
        media = self.geo.zone_media_area_m2
        out = np.zeros((4, len(media)))
        for z, share in enumerate(self.filter.share):
            load = n_load_mg_d * share / 1000.0 / media[z]
            out[:, z] = fk.steady(load, tap[C.O2])
        if not np.all(np.isfinite(out)):
            raise ScenarioError(
                "start.state",
                "mature",
                f"the bed cannot carry the tank's {n_load_mg_d:.0f} mg N/d at steady state "
                "(see 'tankeco params' for the film's parameters); start it 'new'",
            )
        out[2:] *= 1000.0 * media
        return out[0], out[1], out[2], out[3]

    def _initial_masses(self, forcing: Forcing) -> np.ndarray:
        """Start state: a new tank (tap water, a trace of nitrifiers) or a mature one:
        every zone's film at its steady state for the mean load of feeding and dosing
        (:meth:`mature_film`), waste in balance with the feeding, nitrate at its periodic
        steady state just after a water change, and alkalinity lower than the tap's by
        what oxidising that nitrate used (the charge balance: a closed tank keeps
        ALK - TAN + NO2 + NO3, in equivalents)."""
        sc, p, model = self.scenario, self.p, self.model
        vol = model.volumes_l(forcing)
        tap = self.tap_mg_l
        conc = np.tile(tap, (model.ncompart, 1))
        mass = conc * vol[:, None]
        mass[:, C.XS_COD] = mass[:, C.XS_N] = 0.0
        media = self.geo.zone_media_area_m2
        alk = None
        if sc.start.state == "new":
            mass[1:, C.AOB] = p["seed_aob_mg_vss_m2"] * media
            mass[1:, C.NOB] = p["seed_nob_mg_vss_m2"] * media
            tan, no2, no3 = 0.0, 0.0, tap[C.NO3]
        else:
            n_feed, cod_load, n_waste = self.daily_loads()
            n_dose = self.dosing_n_mg_d()
            n_load = n_feed + n_dose
            tan_z, no2_z, aob_z, nob_z = self.mature_film(n_load)
            mass[1:, C.AOB] = aob_z
            mass[1:, C.NOB] = nob_z
            k_min = p["k_min_d"] * float(theta_factor(self.temp_c, p["theta_min"]))
            deposit = self.model.deposition_share
            mass[1:, C.XS_COD] = cod_load / k_min * deposit
            mass[1:, C.XS_N] = n_waste / k_min * deposit
            share = self.filter.share
            tan, no2 = float(tan_z @ share), float(no2_z @ share)
            wc = sc.water_changes
            no3 = tap[C.NO3]
            if wc.enabled:
                no3 += (1 - wc.fraction) * n_load * wc.interval_d / (wc.fraction * vol[0])
            # charge balance: excreted NH3 takes up a proton (+1 eq per N), nitrifying it
            # releases two (-2): each mg N standing as nitrate cost one equivalent; dosed
            # ammonium chloride brought its chloride too (-1 eq per N of it)
            chloride = n_dose / n_load if sc.dosing.chemical == "ammonium_chloride" else 0.0
            no3_given = no3 if sc.start.no3_n_mg_l is None else sc.start.no3_n_mg_l
            tan_given = tan if sc.start.tan_mg_l is None else sc.start.tan_mg_l
            no2_given = no2 if sc.start.no2_n_mg_l is None else sc.start.no2_n_mg_l
            alk = tap[C.ALK] + ALK_PER_N * (
                (tan_given - tap[C.TAN])
                - (no2_given - tap[C.NO2])
                - (no3_given - tap[C.NO3]) * (1.0 + chloride)
            )
            if alk <= 0 and sc.start.alk_mg_l_caco3 is None:
                raise ScenarioError(
                    "start.state",
                    "mature",
                    f"the tap's alkalinity ({tap[C.ALK]:g} mg/L CaCO3) cannot pay for the "
                    f"steady nitrate ({no3_given:.1f} mg N/L); give start.alk_mg_l_caco3",
                )
        if sc.start.alk_mg_l_caco3 is not None:
            alk = sc.start.alk_mg_l_caco3
        if alk is not None:
            # the carbonate system at the tap's pH with the start's alkalinity
            dic = float(dic_from_alk_ph(alk, sc.tap.ph, self.temp_c, tap[C.TAN]))
            mass[:, C.ALK] = alk * vol
            mass[:, C.DIC] = dic * vol
        for comp, value, given in (
            (C.TAN, tan, sc.start.tan_mg_l),
            (C.NO2, no2, sc.start.no2_n_mg_l),
            (C.NO3, no3, sc.start.no3_n_mg_l),
        ):
            mass[:, comp] = (value if given is None else given) * vol
        return mass

    def tolerances(self) -> Tolerances:
        """The tolerances an integrator gets (fixed at the start volumes)."""
        return self._tolerances

    def _make_tolerances(self) -> Tolerances:
        """Absolute tolerances: 0.001 mg/L for solutes (ten times finer than the best
        hobby sensor resolves), 0.01 mg for waste and gut pools, 1 ug for the biomass,
        which starts from a trace in a new tank and must be followed from there.  The
        nitrifier biomass grows exponentially from a trace and drives everything else:
        its relative tolerance is ten times tighter, so timing errors do not accumulate
        over a cycle."""
        vol = self.model.volumes_l(self.forcing)
        atol = np.full((self.model.ncompart, len(C)), 1e-2)
        for comp in DISSOLVED:
            atol[:, comp] = 1e-3 * vol
        atol[:, [C.AOB, C.NOB]] = 1e-6
        rtol_cells = np.full(self.m.shape, self.rtol)
        rtol_cells[:, [C.AOB, C.NOB]] = self.rtol / 10
        return Tolerances(self.rtol, rtol_cells, atol, self.model.active.astype(float))

    # ------------------------------------------------------------ accounting
    def flags(self) -> tuple[float, float, float, float]:
        """The forcing as the output records it (columns of Samples.FLAGS)."""
        f = self.forcing
        flow = self.filter.total_flow_l_h if f.pump_on else 0.0
        return (float(f.pump_on), float(f.light_on), f.water_volume_l, flow)

    def stored_n_mg(self) -> float:
        """N in the tank now (water, bed, biomass, guts, plants), excluding N2 lost."""
        w = self.model.n_weights.copy()
        w[C.N2] = 0.0
        return float((self.m @ w).sum())

    def denitrified_n_mg(self) -> float:
        return float(self.m[:, C.N2].sum())

    def total_water_l(self) -> float:
        return self.forcing.water_volume_l + float(self.geo.zone_pore_volume_l.sum())

    def log(self, kind: str, detail: str = "", n_mg: float = 0.0, volume_l: float = 0.0):
        self.ledger.events.append(
            {"time_d": self.t, "event": kind, "detail": detail, "n_mg": n_mg, "volume_l": volume_l}
        )

    def after_interval(self, t_end: float) -> None:
        """Evaporation over the interval just integrated, then move the clock."""
        forcing = self.forcing
        evaporated = events.evaporate(forcing.water_volume_l, self.evaporation_l_d, t_end - self.t)
        forcing.water_volume_l -= evaporated
        self.ledger.water_evaporated_l += evaporated
        self.state.t = t_end
        if self._progress is not None:
            self._progress(t_end)

    # ------------------------------------------------------------ discrete
    # The state changes are the compiled functions of tankeco.sim.events, shared with the
    # ensemble engine; here they are booked in the ledger and logged.
    def add_tap_water(self, volume_l: float) -> float:
        """Pour in tap water; returns the N it brought (mg)."""
        if volume_l <= 0:
            return 0.0
        n = events.add_tap_water(
            self.m, volume_l, self.tap_mg_l, events.WATER_BORNE, self.model.n_weights
        )
        self.forcing.water_volume_l += volume_l
        self.ledger.n_in_tap_mg += n
        self.ledger.water_in_l += volume_l
        return n

    def feed(self, feed, amount_factor: float = 1.0) -> None:
        """A feeding of one routine; ``amount_factor`` scales the portion (1 = as written)."""
        por = self.portions[id(feed)]
        n_mg = por.n_mg * amount_factor
        retained = events.feed(
            self.m,
            n_mg,
            por.cod_mg * amount_factor,
            por.uneaten_fraction,
            por.excreted_share,
            por.digestibility,
            por.gut_n,
            por.gut_cod,
            self.model.deposition_share,
        )
        self.ledger.n_out_retained_by_animals_mg += retained
        # the inert part of what is not digested stays in the bed for good (clogging)
        undigested_g = (
            feed.amount_g
            * amount_factor
            * (por.uneaten_fraction + (1 - por.uneaten_fraction) * (1 - por.digestibility))
        )
        self.state.inert_g += (
            undigested_g * self.p["inert_fraction_of_waste"] * self.model.deposition_share
        )
        self.ledger.n_in_feed_mg += n_mg
        self.log("feeding", f"{feed.name}: {feed.amount_g * amount_factor:g} g", n_mg)

    def water_change(self, fraction: float) -> None:
        volume, refill, n_out, n_in = self._water_change(fraction)
        self.log(
            "water_change",
            f"{fraction:.0%} ({volume:.1f} L out, {refill:.1f} L in)",
            n_in - n_out,
            volume,
        )

    def _water_change(self, fraction: float) -> tuple[float, float, float, float]:
        led = self.ledger
        vol, out_l, in_l, n_out, n_in = events.water_change(
            self.m,
            fraction,
            self.forcing.water_volume_l,
            self.v_nominal_l,
            self.tap_mg_l,
            events.WATER_BORNE,
            self.model.n_weights,
        )
        self.forcing.water_volume_l = vol
        led.n_out_water_change_mg += n_out
        led.water_out_l += out_l
        if in_l > 0:
            led.n_in_tap_mg += n_in
            led.water_in_l += in_l
        return out_l, in_l, n_out, n_in

    def top_up(self) -> None:
        vol, refill, n_in = events.top_up(
            self.m,
            self.forcing.water_volume_l,
            self.v_nominal_l,
            self.tap_mg_l,
            events.WATER_BORNE,
            self.model.n_weights,
        )
        if refill > 0:
            self.forcing.water_volume_l = vol
            self.ledger.n_in_tap_mg += n_in
            self.ledger.water_in_l += refill
            self.log("top_up", f"{refill:.2f} L of tap water", n_in, refill)

    def dose_check(self, dosing) -> None:
        dose = events.dose_ammonia(
            self.m,
            self.forcing.water_volume_l,
            dosing.threshold_tan_mg_l,
            dosing.target_tan_mg_l,
            dosing.chemical == "ammonia_solution",
        )
        if dose > 0:
            self.ledger.n_in_dosing_mg += dose
            self.log("dosing", f"ammonium to {dosing.target_tan_mg_l:g} mg N/L", dose)

    def buffer_check(self, buffer) -> None:
        """Baking soda when alkalinity is below the minimum (see events.add_baking_soda)."""
        grams = events.add_baking_soda(
            self.m,
            self.forcing.water_volume_l,
            buffer.min_alk_mg_l_caco3,
            buffer.target_alk_mg_l_caco3,
        )
        if grams > 0:
            self.ledger.baking_soda_g += grams
            self.log(
                "buffer",
                f"{grams:.2f} g baking soda to {buffer.target_alk_mg_l_caco3:g} mg/L CaCO3",
            )

    def resolve_filter(self) -> None:
        """Daily: clogging changes the zones' resistance; re-solve the pipe network."""
        changed = self.filter.update(self.m, self.inert_g)
        if self.filter.last_error:
            self.log("filter_warning", f"flows kept from the day before: {self.filter.last_error}")
        if changed:
            self.model.set_zone_flows(self.filter.total_flow_l_h, self.filter.share)
            self.model.deposition_share = self.filter.deposition_share()
            q = self.filter.flow_l_h
            self.log(
                "filter",
                f"re-solved: {q.sum():.0f} L/h, zones {q.min():.0f}-"
                f"{q.max():.0f} L/h, porosity down to {self.filter.porosity.min():.3f}",
            )

    def set_pump(self, on: bool, why: str) -> None:
        self.forcing.pump_on = on and self.scenario.pump.flow_l_h > 0
        self.log("pump_on" if on else "pump_off", why)

    def set_light(self, on: bool) -> None:
        self.forcing.light_on = on
        self.log("lights_on" if on else "lights_off")


def _light_on_at(hour: float, on_h: float, off_h: float) -> bool:
    hour %= 24.0
    return on_h <= hour < off_h if on_h < off_h else (hour >= on_h or hour < off_h)


def simulate(
    scenario,
    days: float | None = None,
    *,
    events: bool = True,
    rtol: float = 1e-3,
    progress: Callable[[float], None] | None = None,
    integrator: str = "ros2",
) -> Results:
    """Run the scenario for ``days`` (default: the scenario's) and return the results.

    ``integrator`` is "ros2" (the engine's own) or, for cross-checks, "bdf", "bdf+jac"
    (BDF given the analytic Jacobian), "lsoda" or "radau" from scipy's solve_ivp.
    """
    days = float(scenario.simulation.days if days is None else days)
    tank = Tank(scenario, days, rtol=rtol, progress=progress)
    integ = make_integrator(integrator, tank.tolerances())
    schedule = record_schedule(scenario, days, events, resolve_filter=tank.filter.has_layout)
    Run(tank, schedule, integ).advance(days)
    return build_results(tank, days, integ.solver_summary())
