"""The one table of model parameters: name, default, unit, allowed range and source.

Every number the model uses that is not a property of one tank (geometry, stock, feeding)
lives here.  A scenario overrides any of them by name in its ``[params]`` table or with
``--set params.NAME=VALUE``; ``tankeco params`` prints the table.

Rates are per day at 20 °C unless the name says otherwise; temperature factors convert
them to the tank's temperature.  Concentrations of nitrogen species are "as N".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its provenance."""

    name: str
    default: float
    unit: str
    low: float
    high: float
    source: str
    note: str = ""


ME5 = "Metcalf & Eddy (2014) Wastewater Engineering, 5th ed., Table 8-14"
ASM1 = "Henze et al. (1987) Activated Sludge Model No. 1, IAWPRC Sci. Tech. Rep. 1"
ASM3 = "Gujer et al. (1999) Activated Sludge Model No. 3, Water Sci. Technol. 39(1):183"
ANTH = "Anthonisen et al. (1976) J. Water Pollut. Control Fed. 48:835"
TE = "Timmons & Ebeling (2010) Recirculating Aquaculture, 2nd ed."

_TABLE: tuple[Parameter, ...] = (
    # --- ammonia oxidisers (AOB; in aquaria largely AOA, see note) -------------------
    Parameter(
        "mu_max_aob_d",
        0.90,
        "1/d",
        0.1,
        3.0,
        ME5,
        "AOB max. specific growth at 20 °C (range 0.20-0.90). Aquarium filters are "
        "dominated by ammonia-oxidising archaea (Sauder et al. 2011); the two-step "
        "model lumps them with AOB.",
    ),
    Parameter("k_tan_aob_mg_l", 0.50, "mg N/L", 0.01, 5.0, ME5, "half-saturation for TAN"),
    Parameter("k_o2_aob_mg_l", 0.50, "mg O2/L", 0.05, 2.0, ME5, "half-saturation for O2"),
    Parameter("b_aob_d", 0.17, "1/d", 0.01, 0.5, ME5, "decay at 20 °C"),
    Parameter("y_aob_g_vss_g_n", 0.15, "g VSS/g N", 0.05, 0.3, ME5, "true yield"),
    Parameter(
        "theta_aob",
        1.072,
        "-",
        1.0,
        1.15,
        ME5,
        "Arrhenius factor of AOB growth, rate(T) = rate20 * theta**(T-20)",
    ),
    Parameter(
        "ki_fa_aob_mg_l",
        50.0,
        "mg NH3/L",
        1.0,
        500.0,
        ANTH,
        "free ammonia inhibits ammonia oxidisers from 10-150 mg NH3/L; "
        "non-competitive factor Ki/(Ki+FA)",
    ),
    # --- nitrite oxidisers (NOB; Nitrospira in aquaria, Hovanec et al. 1998) ---------
    Parameter(
        "mu_max_nob_d",
        0.70,
        "1/d",
        0.1,
        3.0,
        "REFERENCES: NOB mu_max 0.7-1.8 /d (Metcalf & Eddy 2014; Nowak et al. 1995)",
        "low end chosen: Nitrospira are K-strategists (Schramm et al. 1999)",
    ),
    Parameter("k_no2_nob_mg_l", 0.20, "mg N/L", 0.01, 2.0, ME5, "half-saturation, 0.05-0.3"),
    Parameter(
        "k_o2_nob_mg_l",
        1.10,
        "mg O2/L",
        0.05,
        3.0,
        ME5,
        "NOB have the lower oxygen affinity (K_O 1.1 vs 0.5 for AOB)",
    ),
    Parameter("theta_decay", 1.029, "-", 1.0, 1.15, ME5, "temperature factor of nitrifier decay"),
    Parameter("b_nob_d", 0.17, "1/d", 0.01, 0.5, ME5, "decay at 20 °C"),
    Parameter("y_nob_g_vss_g_n", 0.05, "g VSS/g N", 0.01, 0.2, ME5, "true yield"),
    Parameter(
        "theta_nob",
        1.06,
        "-",
        1.0,
        1.15,
        "Vannecke & Volcke (2015) Water Res. 74:92 (Ea 44 kJ/mol ~ theta 1.06)",
    ),
    Parameter(
        "ki_fa_nob_mg_l",
        0.50,
        "mg NH3/L",
        0.01,
        10.0,
        ANTH,
        "free ammonia inhibits nitrite oxidisers from 0.1-1.0 mg NH3/L",
    ),
    Parameter(
        "ki_fna_nob_mg_l",
        0.20,
        "mg HNO2/L",
        0.01,
        3.0,
        ANTH,
        "free nitrous acid inhibits NOB from ~0.2 mg HNO2/L (reports span 0.02-2.8)",
    ),
    # --- shared nitrifier stoichiometry and environment ------------------------------
    Parameter(
        "i_n_biomass_g_n_g_vss",
        0.124,
        "g N/g VSS",
        0.08,
        0.14,
        "Biomass formula C5H7O2N (Hoover & Porges 1952): 14/113",
        "",
    ),
    Parameter(
        "k_tan_nutrient_mg_l",
        0.01,
        "mg N/L",
        0.001,
        1.0,
        ASM3,
        "ammonium as nutrient for growth (K_NH4 of ASM3); keeps NOB growth from drawing "
        "on ammonia that is not there",
    ),
    Parameter(
        "k_alk_mg_l_caco3",
        25.0,
        "mg CaCO3/L",
        1.0,
        100.0,
        ASM3,
        "Monod factor on alkalinity for autotrophs, K_A,ALK = 0.5 mol HCO3/m3",
    ),
    Parameter(
        "ph_opt_nitrif",
        8.2,
        "pH",
        6.0,
        9.5,
        "Villaverde et al. (1997) Water Res. 31:1180",
        "optimum pH of nitrification",
    ),
    Parameter(
        "ph_slope_nitrif",
        0.13,
        "1/pH",
        0.0,
        0.5,
        "Villaverde et al. (1997) Water Res. 31:1180",
        "rate falls 13 % per pH unit below the optimum (linear, clipped at 0)",
    ),
    Parameter(
        "biofilm_capacity_g_vss_m2",
        2.0,
        "g VSS/m2",
        0.1,
        50.0,
        "Rittmann & McCarty (2001) Environmental Biotechnology, ch. 4",
        "thickness ~100 um x density ~20 kg VSS/m3; logistic cap on nitrifier growth",
    ),
    Parameter(
        "seed_aob_mg_vss_m2",
        0.05,
        "mg VSS/m2",
        1e-6,
        100.0,
        "calibrated: fishless cycling completes in 3-7 weeks (Hovanec & DeLong 1996 "
        "AEM 62:2888; hobby start-up reports)",
        "inoculum on new media (start.state = 'new')",
    ),
    Parameter(
        "seed_nob_mg_vss_m2",
        0.02,
        "mg VSS/m2",
        1e-6,
        100.0,
        "calibrated as seed_aob_mg_vss_m2",
        "inoculum on new media",
    ),
    # --- heterotrophic mineralisation of waste ---------------------------------------
    Parameter(
        "k_min_d",
        0.20,
        "1/d",
        0.01,
        2.0,
        "Chen, Coffin & Malone (1997) Aquacult. Eng. 16:175 (aquaculture sludge decay 0.1-0.3 /d)",
        "first-order decay of particulate organic waste at 20 °C",
    ),
    Parameter("theta_min", 1.07, "-", 1.0, 1.15, ASM1, "temperature factor of mineralisation"),
    Parameter("k_o2_het_mg_l", 0.20, "mg O2/L", 0.01, 2.0, ASM1, "K_OH"),
    Parameter("k_no3_het_mg_l", 0.50, "mg N/L", 0.05, 5.0, ASM1, "K_NO"),
    Parameter("eta_anoxic", 0.80, "-", 0.0, 1.0, ASM1, "eta_g, anoxic growth factor"),
    Parameter(
        "eta_anaerobic",
        0.20,
        "-",
        0.0,
        1.0,
        "estimate; anaerobic hydrolysis is 0.1-0.4 of aerobic (ASM2d eta_fe 0.4)",
        "decay of waste with neither O2 nor NO3",
    ),
    Parameter(
        "cod_per_g_feed",
        1.25,
        "g COD/g",
        0.8,
        1.6,
        "composition of a 40 % protein pellet: protein 1.5, lipid 2.9, "
        "carbohydrate 1.07 g COD/g (Henze et al. 2008, Biological Wastewater "
        "Treatment, ch. 2)",
        "",
    ),
    Parameter(
        "digestibility",
        0.80,
        "-",
        0.3,
        1.0,
        TE,
        "fraction of eaten dry matter digested; the rest leaves as faeces",
    ),
    Parameter(
        "settling_velocity_m_d",
        400.0,
        "m/d",
        1.0,
        5000.0,
        "Chen, Malone & Fowler (1993) Aquacult. Eng. 12:79; fish faeces settle at 0.5-5 cm/s",
        "waste in the water column settles onto the bed",
    ),
    Parameter(
        "n_per_protein",
        0.16,
        "g N/g protein",
        0.14,
        0.18,
        "Jones (1931) USDA Circ. 183: protein = 6.25 x N",
        "",
    ),
    # --- animals ----------------------------------------------------------------------
    Parameter(
        "fish_tan_fraction",
        0.575,
        "-",
        0.0,
        1.0,
        TE,
        "P_TAN = feed x protein x 0.092 = 0.575 of feed N (as TAN)",
    ),
    Parameter(
        "fish_urea_fraction",
        0.05,
        "-",
        0.0,
        1.0,
        "Kajimura et al. (2004) J. Exp. Biol. 207:1993",
        "urea is 6-10 % of excreted N",
    ),
    Parameter(
        "fish_faecal_n_fraction",
        0.15,
        "-",
        0.0,
        1.0,
        TE,
        "rest (1 - tan - urea - faecal) is retained in growth",
    ),
    Parameter(
        "turtle_tan_fraction",
        0.25,
        "-",
        0.0,
        1.0,
        "Khalil (1947) J. Exp. Biol. 25; Ip et al. (2012) J. Exp. Biol. 215:3723",
        "freshwater turtles are ammono-ureotelic; estimate",
    ),
    Parameter(
        "turtle_urea_fraction", 0.40, "-", 0.0, 1.0, "Khalil (1947); Ip et al. (2012)", "estimate"
    ),
    Parameter("turtle_faecal_n_fraction", 0.15, "-", 0.0, 1.0, "estimate, as for fish", ""),
    Parameter(
        "k_excretion_d",
        4.0,
        "1/d",
        0.5,
        24.0,
        "Brett & Zala (1975) J. Fish. Res. Board Can. 32:2479",
        "ammonia excretion peaks 4-6 h after a meal and is back to base within a day",
    ),
    Parameter(
        "k_urea_hydrolysis_d",
        2.0,
        "1/d",
        0.01,
        50.0,
        "estimate: urease activity in biofilters (Ip et al. 2012 for the turtle's urea)",
        "first order at 20 °C, theta_min applies",
    ),
    Parameter(
        "fish_o2_mg_kg_h",
        300.0,
        "mg O2/(kg h)",
        50.0,
        1500.0,
        "Clarke & Johnston (1999) J. Anim. Ecol. 68:893 (small tropical fish)",
        "routine respiration at 25 °C",
    ),
    Parameter(
        "theta_respiration",
        1.07,
        "-",
        1.0,
        1.15,
        "Q10 ~2 (Clarke & Johnston 1999)",
        "referenced to 25 °C for respiration",
    ),
    Parameter(
        "k_o2_fish_mg_l",
        1.0,
        "mg O2/L",
        0.1,
        5.0,
        "estimate",
        "respiration slows as oxygen runs out (keeps O2 non-negative)",
    ),
    Parameter("respiratory_quotient", 0.9, "mol CO2/mol O2", 0.7, 1.0, TE, ""),
    # --- gas exchange and carbonate system --------------------------------------------
    Parameter(
        "k_l_o2_m_d",
        2.0,
        "m/d",
        0.1,
        20.0,
        "Boyd (2015) Water Quality, 2nd ed.: agitated surfaces 1-4 m/d",
        "surface transfer velocity of O2 with the pump's return agitating the surface",
    ),
    Parameter(
        "k_l_o2_still_m_d",
        0.5,
        "m/d",
        0.01,
        5.0,
        "Banks & Herrera (1977) J. Environ. Eng. Div. 103:489 (still water)",
        "transfer velocity while the pump is off",
    ),
    Parameter(
        "k_l_co2_ratio",
        0.90,
        "-",
        0.5,
        1.0,
        "Boyd (2015): K_L,CO2 ~ 0.9 K_L,O2 (ratio of diffusivities)",
        "",
    ),
    Parameter(
        "pco2_air_uatm",
        800.0,
        "uatm",
        300.0,
        5000.0,
        "Persily & de Jonge (2017) Indoor Air 27:868: occupied rooms 600-1000 ppm",
        "",
    ),
    Parameter("pressure_kpa", 101.325, "kPa", 60.0, 110.0, "sea level", ""),
    Parameter(
        "d_o2_m2_s",
        2.1e-9,
        "m2/s",
        1e-10,
        1e-8,
        "Han & Bartels (1996) J. Phys. Chem. 100:5597 (O2 in water, 25 °C)",
        "sets the slow exchange of pore water while the pump is off",
    ),
    # --- hydraulics: water, pipes, holes, bed ------------------------------------------
    Parameter(
        "water_density_kg_m3",
        997.0,
        "kg/m3",
        990.0,
        1000.0,
        "IAPWS-95 via CRC Handbook of Chemistry and Physics: pure water at 25 °C",
        "the hydraulic solve uses the 25 °C value; 20-30 °C changes it by < 0.3 %",
    ),
    Parameter(
        "water_viscosity_pa_s",
        0.00089,
        "Pa s",
        0.0005,
        0.0018,
        "IAPWS 2008 viscosity formulation (Huber et al. 2009, J. Phys. Chem. Ref. Data "
        "38:101): 0.890 mPa s at 25 °C",
        "0.798 at 30 °C, 1.002 at 20 °C: enters the Reynolds number and Ergun's viscous term",
    ),
    Parameter(
        "hole_cd",
        0.61,
        "-",
        0.5,
        0.85,
        "Idelchik (2008) Handbook of Hydraulic Resistance, 4th ed., sharp-edged orifice "
        "in a thin wall; REFERENCES.md: drilled holes Cd ~ 0.6",
        "hole loss K = 1/Cd^2 on the hole velocity; a wall thicker than the hole behaves "
        "like a short tube, Cd ~ 0.8",
    ),
    Parameter(
        "pipe_roughness_mm",
        0.0015,
        "mm",
        0.0,
        1.0,
        "Moody (1944) Trans. ASME 66:671 / Crane TP-410: drawn tubing, glass, plastic 0.0015 mm",
        "PVC and PE aquarium tubing are hydraulically smooth at these Reynolds numbers",
    ),
    Parameter(
        "pipe_hazen_williams_c",
        150.0,
        "-",
        60.0,
        160.0,
        "Rossman et al. (2020) EPANET 2.2 User Manual, EPA/600/R-20/133, Table 3.2: "
        "plastic 140-150",
        "used only when a layout selects the Hazen-Williams head-loss formula",
    ),
    Parameter(
        "elbow_radius_per_diameter",
        1.0,
        "-",
        0.5,
        10.0,
        "ASME B16.9 short-radius elbow (centre-line radius = 1 D); K from Rennels & "
        "Hudson (2012) via fluids.bend_rounded",
        "moulded PVC aquarium elbows are short-radius; a bent flexible hose is 3-5 D",
    ),
    Parameter(
        "bed_grain_sphericity",
        0.9,
        "-",
        0.5,
        1.0,
        "Ergun (1952) Chem. Eng. Prog. 48:89 uses the equivalent-sphere diameter phi*d; "
        "expanded-clay pebbles are nearly round (phi 0.85-0.95, assumed)",
        "crushed media 0.6-0.7; enters the bed resistance only",
    ),
    Parameter(
        "bed_spread_per_depth",
        1.0,
        "-",
        0.1,
        10.0,
        "modelling assumption: the water leaving a hole spreads sideways about one bed "
        "depth (a 45 degree cone) before it rises; no published value for plenums",
        "bed further than this from every hole gets no up-flow (dead zone)",
    ),
    Parameter(
        "deposit_solids_kg_m3",
        50.0,
        "kg/m3",
        10.0,
        200.0,
        "Metcalf & Eddy (2014) Table 13-8: settled and thickened sludges hold 2-10 % solids "
        "(20-100 kg dry solids per m3 of deposit)",
        "converts retained dry solids into the pore volume they fill (clogging)",
    ),
    # --- plants ------------------------------------------------------------------------
    Parameter(
        "k_n_plant_mg_l",
        0.034,
        "mg N/L",
        0.001,
        1.0,
        "Klein et al. (2022) Ecol. Model. (Lemna model defaults)",
        "uptake half-saturation",
    ),
    Parameter(
        "plant_o2_per_n",
        31.3,
        "g O2/g N",
        0.0,
        60.0,
        "Redfield-like C:N 10 by mass: 10 x 32/12 + 4.57 for nitrate",
        "oxygen released per g N taken up in the light",
    ),
)

PARAMETERS: Mapping[str, Parameter] = {p.name: p for p in _TABLE}


def defaults() -> dict[str, float]:
    """All parameters at their default values."""
    return {p.name: p.default for p in _TABLE}


def resolve(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Defaults updated by ``overrides``; unknown names and out-of-range values raise.

    Raises :class:`tankeco.errors.ScenarioError` naming ``params.NAME``, the value and the
    allowed range, so the CLI can report it in one line.
    """
    from tankeco.errors import ScenarioError

    values = defaults()
    for name, value in (overrides or {}).items():
        p = PARAMETERS.get(name)
        if p is None:
            raise ScenarioError(
                f"params.{name}", value, "unknown parameter; 'tankeco params' lists them"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"params.{name}", value, f"a number in {p.unit}")
        if not (p.low <= float(value) <= p.high):
            raise ScenarioError(
                f"params.{name}", value, f"allowed {p.low:g} to {p.high:g} {p.unit}"
            )
        values[name] = float(value)
    return values
