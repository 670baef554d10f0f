"""The process x component (Petersen) matrix of the tank model.

Every biological and chemical transformation is one row here: its kinetics (what it is
proportional to, which Monod and inhibition factors slow it) and its stoichiometry (how
much of each component it makes or uses per unit of rate).  Transport between the water
column and the bed zones, settling and gas exchange are not transformations; they live in
:mod:`tankeco.sim.model`.

State variables are masses in each compartment (mg, or mg COD / mg VSS / mg C / mg CaCO3
where the component says so); Monod factors use concentrations (mass / compartment water
volume, mg/L).  Process rates are in (unit of the rate component)/d.

Reading a row: ``aob_growth`` has rate ``mu_aob * f_T * f_pH * f_cap * I_FA(aob) *
TAN/(K+TAN) * O2/(K+O2) * ALK/(K+ALK) * AOB`` [mg VSS/d] and uses ``1/Y + i_N`` mg TAN,
makes ``1/Y`` mg NO2-N, uses ``3.43/Y - 1.42`` mg O2 ... per mg VSS grown.

Sources for the structure: Henze et al. (1987) ASM1 (the matrix notation, hydrolysis and
ammonification, anoxic factor); Metcalf & Eddy (2014) ch. 7-8 (two-step nitrification
stoichiometry: 3.43 and 1.14 g O2 per g N, 7.14 g CaCO3 per g N oxidised, 1.42 g COD per
g VSS); parameters and their sources are in :mod:`tankeco.scenario.params`.

The two-step model is a simplification: in freshwater aquaria ammonia is oxidised mostly
by archaea (Sauder et al. 2011) and nitrite by Nitrospira (Hovanec et al. 1998); both are
lumped here as "AOB" and "NOB".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from tankeco.units.molar import (
    ALK_MG_CACO3_PER_MEQ,
    MOLAR_MASS_C_G_MOL,
    MOLAR_MASS_N_G_MOL,
    MOLAR_MASS_O_G_MOL,
)


class C(IntEnum):
    """Components, one column each of the Petersen matrix (index into the state)."""

    TAN = 0  # total ammonia nitrogen, mg N
    NO2 = 1  # nitrite, mg N
    NO3 = 2  # nitrate, mg N
    UREA = 3  # urea, mg N
    O2 = 4  # dissolved oxygen, mg O2
    ALK = 5  # alkalinity, mg CaCO3
    DIC = 6  # dissolved inorganic carbon, mg C
    XS_COD = 7  # particulate organic waste, mg COD
    XS_N = 8  # nitrogen in that waste, mg N
    AOB = 9  # ammonia oxidisers, mg VSS
    NOB = 10  # nitrite oxidisers, mg VSS
    GUT_N_FISH = 11  # eaten N not yet excreted by the fish, mg N
    GUT_COD_FISH = 12  # undigested feed on its way out as faeces, mg COD
    GUT_N_TURTLE = 13
    GUT_COD_TURTLE = 14
    PLANT_N = 15  # nitrogen taken up by plants, mg N
    N2 = 16  # nitrogen lost as N2 by denitrification (accumulates), mg N


NCOMP = len(C)

#: Components carried with the water between the water column and the bed zones.
DISSOLVED = (C.TAN, C.NO2, C.NO3, C.UREA, C.O2, C.ALK, C.DIC)
#: Particulate waste that settles from the water column onto the bed.
PARTICULATE = (C.XS_COD, C.XS_N)
#: Components that exist only in the water column (compartment 0).
WATER_ONLY = (
    C.GUT_N_FISH,
    C.GUT_COD_FISH,
    C.GUT_N_TURTLE,
    C.GUT_COD_TURTLE,
    C.PLANT_N,
)
#: Components that exist only in the bed zones (attached biofilm).
BED_ONLY = (C.AOB, C.NOB)

# Stoichiometric constants (Metcalf & Eddy 2014, ch. 8; ASM1)
O2_PER_N_TO_NO2 = 3.43  # g O2 / g N oxidised NH4+ -> NO2-
O2_PER_N_TO_NO3 = 1.14  # g O2 / g N oxidised NO2- -> NO3-
COD_PER_VSS = 1.42  # g COD / g VSS (C5H7O2N)
# 3.57 g CaCO3 per g N for one equivalent per mole N
ALK_PER_N = ALK_MG_CACO3_PER_MEQ / MOLAR_MASS_N_G_MOL
COD_PER_NO3_N = 2.86  # g COD oxidised per g NO3-N reduced to N2
C_PER_COD = MOLAR_MASS_C_G_MOL / 32.0  # g C released as CO2 per g COD oxidised (CH2O basis)
C_PER_VSS = 5 * MOLAR_MASS_C_G_MOL / 113.11  # g C fixed per g VSS (C5H7O2N)
C_PER_UREA_N = MOLAR_MASS_C_G_MOL / (2 * MOLAR_MASS_N_G_MOL)  # one C per two N


class Where(IntEnum):
    """Compartments in which a process runs."""

    ALL = 0
    WATER = 1
    BED = 2


@dataclass(frozen=True)
class Process:
    """One row of the Petersen matrix.

    rate = k * m[mass] * prod(C_s/(K_s+C_s)) * prod(K_i/(K_i+C_i)) * prod(env[name])

    ``k`` is the rate constant at the tank's temperature (1/d, or mg/d when ``mass`` is
    None), ``monod`` and ``inhibit`` list (component, half-saturation in mg/L), ``env``
    names environmental multipliers that depend on pH, biofilm crowding or light; they are
    recomputed at every evaluation but held fixed in the Jacobian.
    """

    name: str
    where: Where
    k: float
    mass: C | None
    stoich: dict[C, float]
    monod: tuple[tuple[C, float], ...] = ()
    inhibit: tuple[tuple[C, float], ...] = ()
    env: tuple[str, ...] = ()
    description: str = field(default="", compare=False)


def n_content(p: dict[str, float]) -> np.ndarray:
    """Nitrogen per unit of each component (g N per unit), for the mass balance."""
    w = np.zeros(NCOMP)
    for c in (C.TAN, C.NO2, C.NO3, C.UREA, C.XS_N, C.GUT_N_FISH, C.GUT_N_TURTLE, C.PLANT_N, C.N2):
        w[c] = 1.0
    w[C.AOB] = w[C.NOB] = p["i_n_biomass_g_n_g_vss"]
    return w


def theta_factor(temp_c: float, theta: float, ref_c: float = 20.0) -> float:
    """Rate multiplier theta**(T - ref) (the usual van 't Hoff-Arrhenius form, M&E 2014)."""
    return float(theta ** (temp_c - ref_c))


def build_processes(
    p: dict[str, float],
    temp_c: float,
    fish_mass_kg: float,
    plant_uptake_max_mg_n_d: float,
) -> list[Process]:
    """The process table for one tank at one temperature.

    ``p`` is the resolved parameter table (:func:`tankeco.scenario.params.resolve`).
    """
    i_n = p["i_n_biomass_g_n_g_vss"]
    y_a, y_n = p["y_aob_g_vss_g_n"], p["y_nob_g_vss_g_n"]
    ft_a = theta_factor(temp_c, p["theta_aob"])
    ft_n = theta_factor(temp_c, p["theta_nob"])
    ft_m = theta_factor(temp_c, p["theta_min"])
    ft_resp = theta_factor(temp_c, p["theta_respiration"], ref_c=25.0)
    k_min = p["k_min_d"] * ft_m
    k_o_h, k_no3 = p["k_o2_het_mg_l"], p["k_no3_het_mg_l"]
    alk_n = ALK_PER_N

    def partition(kind: str) -> tuple[float, float, float]:
        """Shares of excreted (not retained) N leaving as TAN, urea, faeces."""
        tan, urea, faecal = (
            p[f"{kind}_tan_fraction"],
            p[f"{kind}_urea_fraction"],
            p[f"{kind}_faecal_n_fraction"],
        )
        total = tan + urea + faecal
        if total <= 0:
            return 1.0, 0.0, 0.0
        return tan / total, urea / total, faecal / total

    procs = [
        Process(
            "aob_growth",
            Where.ALL,
            p["mu_max_aob_d"] * ft_a,
            C.AOB,
            {
                C.AOB: 1.0,
                C.TAN: -(1 / y_a + i_n),
                C.NO2: 1 / y_a,
                C.O2: -(O2_PER_N_TO_NO2 / y_a - COD_PER_VSS),
                C.ALK: -(2 * alk_n / y_a + alk_n * i_n),
                C.DIC: -C_PER_VSS,
            },
            monod=(
                (C.TAN, p["k_tan_aob_mg_l"]),
                (C.O2, p["k_o2_aob_mg_l"]),
                (C.ALK, p["k_alk_mg_l_caco3"]),
            ),
            env=("f_ph", "f_cap", "i_fa_aob"),
            description="ammonia oxidisers grow on TAN and O2 (NH4+ + 1.5 O2 -> NO2- + 2 H+)",
        ),
        Process(
            "nob_growth",
            Where.ALL,
            p["mu_max_nob_d"] * ft_n,
            C.NOB,
            {
                C.NOB: 1.0,
                C.NO2: -1 / y_n,
                C.NO3: 1 / y_n,
                C.TAN: -i_n,
                C.O2: -(O2_PER_N_TO_NO3 / y_n - COD_PER_VSS),
                C.ALK: -alk_n * i_n,
                C.DIC: -C_PER_VSS,
            },
            monod=(
                (C.NO2, p["k_no2_nob_mg_l"]),
                (C.O2, p["k_o2_nob_mg_l"]),
                (C.ALK, p["k_alk_mg_l_caco3"]),
                (C.TAN, p["k_tan_nutrient_mg_l"]),
            ),
            env=("f_ph", "f_cap", "i_fa_nob", "i_fna_nob"),
            description="nitrite oxidisers grow on NO2 and O2, inhibited by FA and FNA",
        ),
        Process(
            "aob_decay",
            Where.ALL,
            p["b_aob_d"] * theta_factor(temp_c, p["theta_decay"]),
            C.AOB,
            {C.AOB: -1.0, C.XS_COD: COD_PER_VSS, C.XS_N: i_n},
            description="death and lysis return biomass to organic waste (ASM1 death-regeneration)",
        ),
        Process(
            "nob_decay",
            Where.ALL,
            p["b_nob_d"] * theta_factor(temp_c, p["theta_decay"]),
            C.NOB,
            {C.NOB: -1.0, C.XS_COD: COD_PER_VSS, C.XS_N: i_n},
            description="death and lysis of nitrite oxidisers",
        ),
        Process(
            "aerobic_mineralisation_cod",
            Where.ALL,
            k_min,
            C.XS_COD,
            {C.XS_COD: -1.0, C.O2: -1.0, C.DIC: C_PER_COD},
            monod=((C.O2, k_o_h),),
            description="heterotrophs oxidise organic waste with O2 (1 g O2 per g COD)",
        ),
        Process(
            "aerobic_mineralisation_n",
            Where.ALL,
            k_min,
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            monod=((C.O2, k_o_h),),
            description="ammonification of the waste's organic N",
        ),
        Process(
            "denitrification_cod",
            Where.ALL,
            k_min * p["eta_anoxic"],
            C.XS_COD,
            {
                C.XS_COD: -1.0,
                C.NO3: -1 / COD_PER_NO3_N,
                C.N2: 1 / COD_PER_NO3_N,
                C.ALK: alk_n / COD_PER_NO3_N,
                C.DIC: C_PER_COD,
            },
            monod=((C.NO3, k_no3),),
            inhibit=((C.O2, k_o_h),),
            description="where O2 runs out, heterotrophs oxidise waste with nitrate (-> N2)",
        ),
        Process(
            "denitrification_n",
            Where.ALL,
            k_min * p["eta_anoxic"],
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            monod=((C.NO3, k_no3),),
            inhibit=((C.O2, k_o_h),),
            description="ammonification under anoxic conditions",
        ),
        Process(
            "anaerobic_decay_cod",
            Where.ALL,
            k_min * p["eta_anaerobic"],
            C.XS_COD,
            {C.XS_COD: -1.0, C.DIC: 0.5 * C_PER_COD},
            inhibit=((C.O2, k_o_h), (C.NO3, k_no3)),
            description="fermentation/methanogenesis where neither O2 nor NO3 is left",
        ),
        Process(
            "anaerobic_decay_n",
            Where.ALL,
            k_min * p["eta_anaerobic"],
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            inhibit=((C.O2, k_o_h), (C.NO3, k_no3)),
            description="ammonification without an electron acceptor",
        ),
        Process(
            "urea_hydrolysis",
            Where.ALL,
            p["k_urea_hydrolysis_d"] * ft_m,
            C.UREA,
            {C.UREA: -1.0, C.TAN: 1.0, C.ALK: alk_n, C.DIC: C_PER_UREA_N},
            description="CO(NH2)2 + 2 H2O -> 2 NH3 + CO2 (bacterial urease)",
        ),
        Process(
            "fish_respiration",
            Where.WATER,
            p["fish_o2_mg_kg_h"] * 24.0 * fish_mass_kg * ft_resp,
            None,
            {
                C.O2: -1.0,
                C.DIC: p["respiratory_quotient"] * MOLAR_MASS_C_G_MOL / (2 * MOLAR_MASS_O_G_MOL),
            },
            monod=((C.O2, p["k_o2_fish_mg_l"]),),
            description="fish breathe dissolved O2 (the turtle breathes air)",
        ),
    ]
    for kind, gut_n, gut_cod in (
        ("fish", C.GUT_N_FISH, C.GUT_COD_FISH),
        ("turtle", C.GUT_N_TURTLE, C.GUT_COD_TURTLE),
    ):
        tan, urea, faecal = partition(kind)
        procs += [
            Process(
                f"{kind}_excretion_n",
                Where.WATER,
                p["k_excretion_d"],
                gut_n,
                {gut_n: -1.0, C.TAN: tan, C.UREA: urea, C.XS_N: faecal},
                description=f"{kind}: eaten N leaves as ammonia, urea and faecal N",
            ),
            Process(
                f"{kind}_faeces_cod",
                Where.WATER,
                p["k_excretion_d"],
                gut_cod,
                {gut_cod: -1.0, C.XS_COD: 1.0},
                description=f"{kind}: undigested feed leaves as faeces",
            ),
        ]
    if plant_uptake_max_mg_n_d > 0:
        k_pl = p["k_n_plant_mg_l"]
        o2_pl = p["plant_o2_per_n"]
        k_dic = p["k_dic_plant_mg_l"]
        procs += [
            Process(
                "plant_uptake_tan",
                Where.WATER,
                plant_uptake_max_mg_n_d,
                None,
                {C.TAN: -1.0, C.PLANT_N: 1.0, C.ALK: -alk_n, C.O2: o2_pl - 4.57, C.DIC: -10.0},
                monod=((C.TAN, k_pl), (C.DIC, k_dic)),
                env=("light",),
                description="plants take up ammonium in the light (preferred N source)",
            ),
            Process(
                "plant_uptake_no3",
                Where.WATER,
                plant_uptake_max_mg_n_d,
                None,
                {C.NO3: -1.0, C.PLANT_N: 1.0, C.ALK: alk_n, C.O2: o2_pl, C.DIC: -10.0},
                monod=((C.NO3, k_pl), (C.DIC, k_dic)),
                inhibit=((C.TAN, k_pl),),
                env=("light",),
                description="plants take up nitrate when ammonium is scarce",
            ),
        ]
    return procs


def stoichiometry_matrix(procs: list[Process]) -> np.ndarray:
    """The (process, component) matrix of stoichiometric coefficients."""
    nu = np.zeros((len(procs), NCOMP))
    for i, proc in enumerate(procs):
        for comp, coef in proc.stoich.items():
            nu[i, comp] = coef
    return nu
