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


ME5 = "Metcalf & Eddy (Tchobanoglous et al. 2014) Wastewater Engineering, 5th ed., Table 8-14"
ASM1 = "Henze et al. (1987) Activated Sludge Model No. 1, IAWPRC Sci. Tech. Rep. 1"
ASM3 = "Gujer et al. (1999) Activated Sludge Model No. 3, Water Sci. Technol. 39(1):183"
ANTH = "Anthonisen et al. (1976) J. Water Pollut. Control Fed. 48(5):835"
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
        "AOB max. specific growth at 20 °C: 0.90 (0.20-0.90) /d in Table 8-14, checked against "
        "a transcription of the table, not the book. Blackburne et al. (2007) Water Environ. "
        "Res. 79:2437 measured 0.54 /d for a Nitrosomonas enrichment. Aquarium filters are "
        "dominated by ammonia-oxidising archaea (Sauder et al. 2011 PLoS ONE 6:e23281); the "
        "two-step model lumps them with AOB.",
    ),
    Parameter(
        "k_tan_aob_mg_l",
        0.50,
        "mg N/L",
        0.01,
        5.0,
        ME5,
        "half-saturation for TAN: 0.50 (0.50-1.00) g N/m3 in Table 8-14 (transcription)",
    ),
    Parameter(
        "k_o2_aob_mg_l",
        0.50,
        "mg O2/L",
        0.05,
        2.0,
        ME5,
        "half-saturation for O2: 0.50 in Table 8-14 (transcription); ASM3 K_A,O2 is also 0.5",
    ),
    Parameter(
        "b_aob_d",
        0.17,
        "1/d",
        0.01,
        0.5,
        ME5,
        "decay at 20 °C: 0.17 /d in Table 8-14 (transcription)",
    ),
    Parameter(
        "y_aob_g_vss_g_n",
        0.15,
        "g VSS/g N",
        0.05,
        0.3,
        ME5,
        "true yield: 0.15 in Table 8-14 (transcription); Blackburne et al. (2007) measured 0.14",
    ),
    Parameter(
        "ki_fa_aob_mg_l",
        50.0,
        "mg NH3/L",
        1.0,
        500.0,
        ANTH,
        "Anthonisen et al. give the onset of inhibition of ammonia oxidisers, 10-150 mg NH3/L "
        "(a threshold range, not a Ki); 50 is a value inside it, used as Ki in Ki/(Ki+FA)",
    ),
    # --- nitrite oxidisers (NOB; Nitrospira in aquaria, Hovanec et al. 1998) ---------
    Parameter(
        "mu_max_nob_d",
        0.70,
        "1/d",
        0.1,
        3.0,
        "estimate: low end of the NOB range 0.7-1.8 /d quoted for Metcalf & Eddy 2014 "
        "and Nowak et al. 1995 (neither checked); Blackburne et al. (2007) Water Environ. Res. "
        "79:2437 measured 0.67 /d for a Nitrobacter enrichment",
        "low end chosen: aquarium NOB are Nitrospira (Hovanec et al. 1998 Appl. Environ. "
        "Microbiol. 64:258), thought to be K-strategists (Schramm et al. 1999, not checked)",
    ),
    Parameter(
        "k_no2_nob_mg_l",
        0.20,
        "mg N/L",
        0.01,
        2.0,
        ME5,
        "half-saturation, 0.05-0.3; NOB values of Table 8-14 not verified in an accessible copy",
    ),
    Parameter(
        "k_o2_nob_mg_l",
        1.10,
        "mg O2/L",
        0.05,
        3.0,
        ME5,
        "NOB have the lower oxygen affinity (K_O 1.1 vs 0.5 for AOB); the NOB value of Table "
        "8-14 was not verified in an accessible copy",
    ),
    Parameter(
        "theta_decay",
        1.029,
        "-",
        1.0,
        1.15,
        ME5,
        "temperature factor of nitrifier decay (Table 8-14 value as quoted, not read in the book)",
    ),
    Parameter(
        "b_nob_d",
        0.17,
        "1/d",
        0.01,
        0.5,
        ME5,
        "decay at 20 °C; NOB value of Table 8-14 not verified in an accessible copy",
    ),
    Parameter(
        "y_nob_g_vss_g_n",
        0.05,
        "g VSS/g N",
        0.01,
        0.2,
        ME5,
        "true yield; NOB value of Table 8-14 not verified. Blackburne et al. (2007) Water "
        "Environ. Res. 79:2437 measured 0.072 g VSS/g N for a Nitrobacter enrichment.",
    ),
    Parameter(
        "ki_fa_nob_mg_l",
        0.50,
        "mg NH3/L",
        0.01,
        10.0,
        ANTH,
        "onset of inhibition of nitrite oxidisers at 0.1-1.0 mg NH3/L (a threshold range, "
        "not a Ki); 0.5 is a value inside it",
    ),
    Parameter(
        "ki_fna_nob_mg_l",
        0.20,
        "mg HNO2/L",
        0.01,
        3.0,
        ANTH,
        "free nitrous acid inhibits NOB from ~0.2 mg HNO2/L (0.22-2.8 as usually quoted from "
        "Anthonisen; the table itself not read here); other reports go down to 0.02",
    ),
    # --- shared nitrifier stoichiometry and environment ------------------------------
    Parameter(
        "i_n_biomass_g_n_g_vss",
        0.124,
        "g N/g VSS",
        0.08,
        0.14,
        "Biomass formula C5H7O2N (Hoover & Porges 1952, Sewage Ind. Wastes 24:306): 14/113",
        "14/113 = 0.1239; formula as quoted in textbooks, the 1952 paper itself not read",
    ),
    Parameter(
        "k_tan_nutrient_mg_l",
        0.01,
        "mg N/L",
        0.001,
        1.0,
        ASM3,
        "ammonium as nutrient for growth (K_NH4 of ASM3 heterotrophs, 0.01 g N/m3); keeps NOB "
        "growth from drawing on ammonia that is not there",
    ),
    Parameter(
        "k_alk_mg_l_caco3",
        25.0,
        "mg CaCO3/L",
        1.0,
        100.0,
        ASM3,
        "Monod factor on alkalinity for autotrophs, K_A,ALK = 0.5 mol HCO3/m3 "
        "= 0.5 meq/L x 50 mg CaCO3/meq = 25 mg CaCO3/L",
    ),
    Parameter(
        "ph_opt_nitrif",
        8.2,
        "pH",
        6.0,
        9.5,
        "Villaverde, Garcia-Encina & Fdz-Polanco (1997) Water Res. 31(5):1180",
        "highest ammonium-oxidiser activity at pH 8.2 in submerged biofilters; above pH 7.5 "
        "free-ammonia inhibition controlled activity",
    ),
    Parameter(
        "ph_slope_nitrif",
        0.13,
        "1/pH",
        0.0,
        0.5,
        "Villaverde, Garcia-Encina & Fdz-Polanco (1997) Water Res. 31(5):1180",
        "over pH 5.0-9.0 nitrification efficiency rose 13 % per pH unit; applied here as a "
        "linear fall below the optimum, clipped at 0",
    ),
    # --- temperature response of the nitrifiers (cardinal temperatures, Rosso et al. 1993)
    Parameter(
        "t_min_aob_c",
        0.0,
        "°C",
        -10.0,
        10.0,
        "estimate: the CTMI's extrapolated zero-growth temperature; ammonia oxidisers grow "
        "down to 4-5 °C (Nitrosomonas cryotolerans, Jones et al. 1988, as quoted in an ISME "
        "J. article, doi:10.1038/ismej.2016.179)",
        "with t_opt 35 and t_max 45 the factor rises 1.09x per °C between 15 and 25 °C, the "
        "theta of Vannecke & Volcke's Ea 68 kJ/mol (theta_from_activation_energy: 1.10)",
    ),
    Parameter(
        "t_opt_aob_c",
        35.0,
        "°C",
        25.0,
        42.0,
        "US EPA (1993) Manual: Nitrogen Control, EPA/625/R-93/010, as quoted: optimum 35 °C "
        "for Nitrosomonas (not read); pure AOB cultures ~30 °C (Jiang & Bakken 1999, as "
        "quoted in doi:10.1038/ismej.2016.179)",
        "rate multiplier mu(T) = mu20 * phi(T) / phi(20), phi the CTMI",
    ),
    Parameter(
        "t_max_aob_c",
        45.0,
        "°C",
        36.0,
        55.0,
        "estimate: growth of most AOB strains stops above 40-45 °C (no measured CTMI found)",
        "",
    ),
    Parameter(
        "t_min_nob_c",
        0.0,
        "°C",
        -10.0,
        10.0,
        "estimate, as t_min_aob_c",
        "",
    ),
    Parameter(
        "t_opt_nob_c",
        32.0,
        "°C",
        25.0,
        42.0,
        "estimate: US EPA (1993), as quoted, gives 35-42 °C for Nitrobacter (not read); "
        "aquarium NOB are Nitrospira (Hovanec et al. 1998), reported as more heat-sensitive; "
        "no CTMI found",
        "",
    ),
    Parameter(
        "t_max_nob_c",
        42.0,
        "°C",
        35.0,
        55.0,
        "estimate, as t_opt_nob_c",
        "",
    ),
    # --- the biofilm (tankeco.sim.biofilm; docs/biofilm.md) ---------------------------
    Parameter(
        "x_film_g_vss_m3",
        650.0,
        "g VSS/m3",
        100.0,
        50000.0,
        "calibrated: with the film diffusivities below, the oxygen-limited areal rate of a "
        "steady film at 25 °C, air-saturated water and non-limiting TAN is Speece's (1973) "
        "0.05368 T - 0.0859 = 1.26 g N/m2/d (tests/sim/test_biofilm.py)",
        "active nitrifier biomass per volume of film. Whole films hold 10000-40000 g VSS/m3 "
        "(Rittmann & McCarty 2001, as quoted); nitrifiers are a small part of an aquarium "
        "film, and the value also absorbs the diffusion layer the model leaves out",
    ),
    Parameter(
        "d_tan_m2_s",
        1.957e-9,
        "m2/s",
        1e-10,
        1e-8,
        "CRC Handbook of Chemistry and Physics: NH4+ diffusion coefficient at infinite "
        "dilution, 25 °C, 1.957e-9 m2/s",
        "in water; the film's is film_diffusivity_ratio times this",
    ),
    Parameter(
        "d_no2_m2_s",
        1.912e-9,
        "m2/s",
        1e-10,
        1e-8,
        "CRC Handbook of Chemistry and Physics: NO2- diffusion coefficient at infinite "
        "dilution, 25 °C, 1.912e-9 m2/s",
        "",
    ),
    Parameter(
        "film_diffusivity_ratio",
        0.8,
        "-",
        0.2,
        1.0,
        "Williamson & McCarty (1976) J. Water Pollut. Control Fed. 48:281, as quoted in "
        "Rittmann & McCarty (2001): D_f / D = 0.8 for small solutes in nitrifying films",
        "applied to TAN, nitrite and oxygen alike",
    ),
    Parameter(
        "b_detach_d",
        0.05,
        "1/d",
        0.0,
        0.5,
        "estimate: Rittmann (1982) Biotechnol. Bioeng. 24:501 gives b_det = 0.0842 "
        "sigma^0.58 /d (sigma the shear stress in dyn/cm2), as quoted in Rittmann & McCarty "
        "(2001), not read; a slow up-flow bed has sigma well below 1 dyn/cm2",
        "biofilm lost by shear, to organic waste in the zone; with decay it sets the steady "
        "biomass m = Y J / (b + b_det)",
    ),
    Parameter(
        "seed_aob_mg_vss_m2",
        0.01,
        "mg VSS/m2",
        1e-6,
        100.0,
        "calibrated: sims/fishless_cycling.toml completes its cycle on day 30, inside the 3-7 "
        "weeks of hobby start-up reports (no published figure checked)",
        "inoculum on new media (start.state = 'new'); the earlier 0.05 cycles in 19 days in "
        "the biofilm formulation",
    ),
    Parameter(
        "seed_nob_mg_vss_m2",
        0.01,
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
        "estimate: like the first-order BOD rate constant of domestic wastewater, ~0.23 /d "
        "(base e, 20 °C); the Chen, Coffin & Malone (1997) citation could not be found",
        "first-order decay of particulate organic waste at 20 °C",
    ),
    Parameter(
        "theta_min",
        1.04,
        "-",
        1.0,
        1.15,
        "estimate: ASM1 gives values at 20 and 10 °C, not a theta; ASM3 hydrolysis k_H 3 -> 2 /d "
        "(20 -> 10 °C) implies theta 1.04",
        "temperature factor of mineralisation",
    ),
    Parameter(
        "k_o2_het_mg_l",
        0.20,
        "mg O2/L",
        0.01,
        2.0,
        ASM1,
        "K_OH = 0.2 g O2/m3",
    ),
    Parameter(
        "k_no3_het_mg_l",
        0.50,
        "mg N/L",
        0.05,
        5.0,
        ASM1,
        "K_NO = 0.5 g N/m3",
    ),
    Parameter(
        "eta_anoxic",
        0.80,
        "-",
        0.0,
        1.0,
        ASM1,
        "eta_g = 0.8, anoxic growth factor",
    ),
    Parameter(
        "eta_anaerobic",
        0.20,
        "-",
        0.0,
        1.0,
        "estimate: half the ASM2d anaerobic hydrolysis factor eta_fe = 0.4 (Henze et al. 1999)",
        "decay of waste with neither O2 nor NO3",
    ),
    Parameter(
        "cod_per_g_feed",
        1.25,
        "g COD/g",
        0.8,
        1.6,
        "estimate: stoichiometric COD of protein 1.50 (C16H24O5N4 -> NH3), lipid 2.9 "
        "(tripalmitin), carbohydrate 1.07 (glucose; starch 1.19) g COD/g; a pellet of 40 % "
        "protein, 10 % lipid, 30 % carbohydrate gives 1.2-1.25",
        "Henze et al. (2008) Biological Wastewater Treatment ch. 2, cited before, not checked",
    ),
    Parameter(
        "digestibility",
        0.80,
        "-",
        0.3,
        1.0,
        "estimate: dry-matter digestibility depends on the ingredients (ADC of DM: fish meal "
        "97 %, maize 49 %; Khan 1994, doi:10.1111/j.1365-2109.1994.tb00572.x); TE not checked",
        "fraction of eaten dry matter digested; the rest leaves as faeces",
    ),
    Parameter(
        "settling_velocity_m_d",
        400.0,
        "m/d",
        1.0,
        5000.0,
        "estimate: 400 m/d = 0.46 cm/s; Atlantic salmon faeces settle at 3.7-9.2 cm/s (Chen et "
        "al. 2003 J. Appl. Ichthyol. 19:114); published values vary widely with fish size and "
        "diet (Reid et al. 2009 Aquacult. Res. 40:257); small-fish faeces settle slower",
        "waste in the water column settles onto the bed; the Chen, Malone & Fowler (1993) "
        "citation could not be found",
    ),
    Parameter(
        "n_per_protein",
        0.16,
        "g N/g protein",
        0.14,
        0.18,
        "Jones (1931) USDA Circ. 183: protein = 6.25 x N",
        "6.25 is the factor for mixed or unspecified foods; specific factors 5.3-6.38",
    ),
    # --- animals ----------------------------------------------------------------------
    Parameter(
        "fish_tan_fraction",
        0.575,
        "-",
        0.0,
        1.0,
        TE,
        "P_TAN = feed x protein x 0.092, i.e. 0.092/0.16 = 0.575 of feed N as TAN. Kajimura "
        "et al. (2004) found ammonia-N 53-68 % of excreted N in trout, where TE assume 90 %.",
    ),
    Parameter(
        "fish_urea_fraction",
        0.05,
        "-",
        0.0,
        1.0,
        "Kajimura et al. (2004) J. Exp. Biol. 207:1993",
        "urea-N is 6-10 % of excreted N (trout); with ~64 % of feed N excreted that is 0.04-0.06 "
        "of feed N",
    ),
    Parameter(
        "fish_faecal_n_fraction",
        0.15,
        "-",
        0.0,
        1.0,
        "estimate: 1 - apparent N digestibility; protein ADCs of feed ingredients are mostly "
        "0.85-0.98, and TE's 0.092 implies 80 % of feed N assimilated (faecal 0.20)",
        "rest (1 - tan - urea - faecal) is retained in growth",
    ),
    Parameter(
        "turtle_tan_fraction",
        0.25,
        "-",
        0.0,
        1.0,
        "estimate: Pelodiscus sinensis is ureotelic in water (Ip et al. 2012 J. Exp. Biol. "
        "215:3723), so urea > ammonia; no N partition found",
        "Khalil (1947) is in J. Biol. Chem., not J. Exp. Biol., and covers the urine of the sea "
        "turtle Chelone mydas only",
    ),
    Parameter(
        "turtle_urea_fraction",
        0.40,
        "-",
        0.0,
        1.0,
        "estimate, as turtle_tan_fraction (Ip et al. 2012)",
        "urea is the main excretory N of the soft-shelled turtle in water",
    ),
    Parameter("turtle_faecal_n_fraction", 0.15, "-", 0.0, 1.0, "estimate, as for fish", ""),
    Parameter(
        "k_excretion_d",
        4.0,
        "1/d",
        0.5,
        24.0,
        "Brett & Zala (1975) J. Fish. Res. Board Can. 32:2479",
        "sockeye at 15 °C: ammonia excretion peaks 4-4.5 h after feeding and falls to baseline "
        "overnight; urea excretion stays steady. 4 /d is a half-life of 4.2 h.",
    ),
    Parameter(
        "k_urea_hydrolysis_d",
        2.0,
        "1/d",
        0.01,
        50.0,
        "estimate: no urease rate for aquarium biofilms found (Ip et al. 2012, cited before, is "
        "about the turtle's urea excretion, not urease)",
        "first order at 20 °C, theta_min applies",
    ),
    Parameter(
        "fish_o2_mg_kg_h",
        300.0,
        "mg O2/(kg h)",
        50.0,
        1500.0,
        "Clarke & Johnston (1999) J. Anim. Ecol. 68:893",
        "resting rate at 25 °C. Their fit ln Rb = 15.7 - 5.02 (1000/T) for a 50 g fish gives "
        "205 mg O2/(kg h); with mass exponent 0.80 a 5 g fish gives 325, a 10 g fish 283.",
    ),
    Parameter(
        "theta_respiration",
        1.07,
        "-",
        1.0,
        1.15,
        "Clarke & Johnston (1999) J. Anim. Ecol. 68:893",
        "referenced to 25 °C. Across species Q10 = 1.83 (theta 1.062); within species "
        "(acclimation studies) median Q10 = 2.40 (theta 1.092); 1.07 is Q10 1.97.",
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
    Parameter(
        "respiratory_quotient",
        0.9,
        "mol CO2/mol O2",
        0.7,
        1.0,
        "estimate: between protein (~0.8) and carbohydrate (1.0) oxidation; TE not checked",
        "",
    ),
    # --- gas exchange and carbonate system --------------------------------------------
    Parameter(
        "k_l_o2_m_d",
        2.0,
        "m/d",
        0.1,
        20.0,
        "estimate: Boyd (2015), cited before, not checked. For scale, the lake wind law k600 = "
        "2.07 + 0.215 U^1.7 cm/h (Cole & Caraco 1998) gives 2 m/d for O2 at U ~7 m/s.",
        "surface transfer velocity of O2 with the pump's return agitating the surface",
    ),
    Parameter(
        "k_l_o2_still_m_d",
        0.5,
        "m/d",
        0.01,
        5.0,
        "Cole & Caraco (1998) Limnol. Oceanogr. 43:647: k600 = 2.07 + 0.215 U^1.7 cm/h, 0.50 m/d "
        "at zero wind; low-wind lakes 0.35-0.74 m/d (Cole et al. 2010 L&O Methods 8:285)",
        "transfer velocity while the pump is off; k(O2) ~1.06 k600 at 20 °C. Banks & Herrera "
        "(1977), cited before, is a wind and rain reaeration study.",
    ),
    Parameter(
        "k_l_co2_ratio",
        0.93,
        "-",
        0.5,
        1.0,
        "Schmidt numbers in fresh water at 20 °C (Wanninkhof 1992 J. Geophys. Res. 97:7373): "
        "Sc(CO2) 599, Sc(O2) 530",
        "k(CO2)/k(O2) = (599/530)^-0.5 = 0.94, or 0.92 with exponent 2/3",
    ),
    Parameter(
        "pco2_air_uatm",
        800.0,
        "uatm",
        300.0,
        5000.0,
        "estimate: outdoor air ~420 ppm; occupied rooms commonly 600-1000 ppm and more. "
        "Persily & de Jonge (2017) Indoor Air 27:868 give occupants' CO2 generation, not levels.",
        "1 ppm of dry air is ~1 uatm at 1 atm",
    ),
    Parameter(
        "pressure_kpa",
        101.325,
        "kPa",
        60.0,
        110.0,
        "standard atmosphere (sea level), 101.325 kPa by definition",
        "",
    ),
    Parameter(
        "d_o2_m2_s",
        2.0e-9,
        "m2/s",
        1e-10,
        1e-8,
        "Han & Bartels (1996) J. Phys. Chem. 100:5597",
        "their fit log10 D[cm2/s] = -4.410 + 773.8/T - (506.4/T)^2 gives 2.00e-9 m2/s at 25 °C "
        "and 1.76e-9 at 20 °C; sets the slow exchange of pore water while the pump is off",
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
        "in a thin wall; drilled holes Cd ~ 0.6",
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
        "inert_fraction_of_waste",
        0.3,
        "g/g",
        0.0,
        1.0,
        "estimate: feed ash (8-12 %, label) ends up in faeces and uneaten pellets, with "
        "refractory fibre; no published figure for hobby tanks",
        "dry solids that never decay, per g of uneaten feed or undigested dry matter; they "
        "stay in the bed and clog it",
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
        "Klein et al. (2022) SETAC Europe IG Effect Modeling, Lemna TKTD model after Schmitt et "
        "al. (2013): default N_50 (R package lemna)",
        "N_50 is the half-saturation of the N response of photosynthesis; used here for uptake",
    ),
    Parameter(
        "co2_compensation_plant_mg_c_l",
        0.05,
        "mg C/L",
        0.0,
        1.0,
        "estimate: in pH-drift experiments freshwater macrophytes stop taking up carbon at "
        "pH 9-11 depending on whether they use bicarbonate (Maberly & Spence 1983 J. Ecol. "
        "71:705, not read); 0.05 mg C/L of free CO2 (4 umol/L) is pH ~9.2 at 150 mg "
        "CaCO3/L",
        "free CO2 below which plants take up no carbon (and so no N): photosynthesis cannot "
        "push the pH past the compensation point",
    ),
    Parameter(
        "k_co2_plant_mg_c_l",
        0.1,
        "mg C/L",
        0.01,
        5.0,
        "estimate: half-saturation of carbon uptake above the compensation point; same "
        "order as the compensation point (Maberly & Spence 1983, not read)",
        "uptake factor (CO2 - comp) / (K + CO2 - comp)",
    ),
    Parameter(
        "plant_o2_per_n",
        31.3,
        "g O2/g N",
        0.0,
        60.0,
        "estimate: C:N 10 by mass (Redfield is 5.7), 10 x 32/12 = 26.7 g O2 (PQ 1) + 4.57 for "
        "nitrate reduction = 31.2",
        "oxygen released per g N taken up in the light",
    ),
    # --- uncertainty of a keeper's routine (the Monte Carlo risk of a schedule) --------
    Parameter(
        "mc_feed_cv",
        0.3,
        "-",
        0.0,
        1.0,
        "estimate: portions measured by eye or by a pinch vary by about a third",
        "coefficient of variation of each feeding's amount (lognormal, mean as written)",
    ),
    Parameter(
        "mc_missed_change_probability",
        0.1,
        "-",
        0.0,
        1.0,
        "estimate: a keeper skips about one change in ten (holidays, illness)",
        "chance that any one scheduled water change does not happen",
    ),
    Parameter(
        "mc_outage_mtbf_d",
        90.0,
        "d",
        1.0,
        3650.0,
        "estimate: about one power cut or pump stoppage per season",
        "mean time between pump outages (exponential)",
    ),
    Parameter(
        "mc_outage_mttr_h",
        6.0,
        "h",
        0.1,
        72.0,
        "estimate: noticed and fixed within the day",
        "mean duration of a pump outage (exponential)",
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
