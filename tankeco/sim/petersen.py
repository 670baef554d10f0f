"""The process x component (Petersen) matrix of the tank model.

Every biological and chemical transformation is one row here: its kinetics (what it is
proportional to, which Monod and inhibition factors slow it) and its stoichiometry (how
much of each component it makes or uses per unit of rate).  Transport between the water
column and the bed zones, settling and gas exchange are not transformations; they live in
:mod:`tankeco.sim.model`.

State variables are masses in each compartment (mg, or mg COD / mg VSS / mg C / mg CaCO3
where the component says so); Monod factors use concentrations (mass / compartment water
volume, mg/L).  Process rates are in (unit of the rate component)/d.

Reading a row: ``aob_growth`` has rate ``mu_aob(T) * f_pH * eta_aob * I_FA(aob) *
TAN/(K+TAN) * O2/(K+O2) * ALK/(K+ALK) * AOB`` [mg VSS/d] and uses ``1/Y + i_N`` mg TAN,
makes ``1/Y`` mg NO2-N, uses ``3.43/Y - 1.42`` mg O2 ... per mg VSS grown.  ``eta_aob`` is
the biofilm's effectiveness factor (:mod:`tankeco.sim.biofilm`): the share of that Monod
rate the film's diffusion lets through.  ``tankeco model --matrix`` prints the table.

Continuity: every row conserves nitrogen (:func:`n_content`), charge (:func:`charge_content`)
and COD (:func:`cod_content`); the tests check each row.  The one exception is
``fish_respiration``: the fish burn their own body's COD, which is outside the model.

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

from tankeco.chemistry.temperature import cardinal_temperature_factor, theta_factor
from tankeco.units.molar import (
    ALK_MG_CACO3_PER_MEQ,
    MOLAR_MASS_C5H7O2N_G_MOL,
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
    CH4 = 17  # COD lost as methane by anaerobic decay (accumulates), mg COD


#: unit of each component's mass in the state (the matrix's column headings)
UNITS = {
    C.TAN: "mg N",
    C.NO2: "mg N",
    C.NO3: "mg N",
    C.UREA: "mg N",
    C.O2: "mg O2",
    C.ALK: "mg CaCO3",
    C.DIC: "mg C",
    C.XS_COD: "mg COD",
    C.XS_N: "mg N",
    C.AOB: "mg VSS",
    C.NOB: "mg VSS",
    C.GUT_N_FISH: "mg N",
    C.GUT_COD_FISH: "mg COD",
    C.GUT_N_TURTLE: "mg N",
    C.GUT_COD_TURTLE: "mg COD",
    C.PLANT_N: "mg N",
    C.N2: "mg N",
    C.CH4: "mg COD",
}


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

# Stoichiometric constants from the electrons each change of oxidation state moves
# (Metcalf & Eddy 2014, ch. 8 print them rounded: 3.43, 1.14, 4.57, 2.86); exact ratios
# so that the COD continuity of every row closes to round-off.
_N, _O2, _C = MOLAR_MASS_N_G_MOL, 2 * MOLAR_MASS_O_G_MOL, MOLAR_MASS_C_G_MOL
O2_PER_N_TO_NO2 = 1.5 * _O2 / _N  # 3.427 g O2 / g N: NH4+ (-III) -> NO2- (+III), 6 e-
O2_PER_N_TO_NO3 = 0.5 * _O2 / _N  # 1.142 g O2 / g N: NO2- (+III) -> NO3- (+V), 2 e-
COD_PER_NO3_N = 1.25 * _O2 / _N  # 2.856 g COD per g NO3-N reduced to N2 (5 e-)
COD_PER_VSS = 1.42  # g COD / g VSS (C5H7O2N; Metcalf & Eddy 2014)
ALK_PER_N = ALK_MG_CACO3_PER_MEQ / _N  # 3.57 g CaCO3 per g N: one equivalent per mole N
C_PER_COD = _C / _O2  # g C released as CO2 per g COD oxidised (CH2O basis)
C_PER_VSS = 5 * _C / MOLAR_MASS_C5H7O2N_G_MOL  # g C fixed per g VSS (C5H7O2N)
C_PER_UREA_N = _C / (2 * _N)  # one C per two N
#: COD of each N form relative to ammonium (-III), g COD per g N (ASM continuity)
COD_OF_NO2_N = -O2_PER_N_TO_NO2
COD_OF_NO3_N = -(O2_PER_N_TO_NO2 + O2_PER_N_TO_NO3)
COD_OF_N2_N = -0.75 * _O2 / _N  # N2 (0): 3 e- above ammonium


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
    names environmental multipliers that depend on pH, the biofilm (eta) or light; they are
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
    k_symbol: str = field(default="k", compare=False)

    def rate_expression(self) -> str:
        """The rate as an ASM modeller writes it, e.g. ``mu_aob(T)*f_ph*S_TAN/(K+S_TAN)*m_AOB``
        (S_ a concentration in mg/L, m_ the mass in the compartment)."""
        terms = [self.k_symbol, *self.env]
        terms += [f"S_{c.name}/({k:g}+S_{c.name})" for c, k in self.monod]
        terms += [f"{k:g}/({k:g}+S_{c.name})" for c, k in self.inhibit]
        if self.mass is not None:
            terms.append(f"m_{self.mass.name}")
        return " * ".join(terms)

    def rate_unit(self) -> str:
        """Unit of the rate: the unit of the component it is proportional to, per day."""
        return f"{UNITS[self.mass] if self.mass is not None else UNITS[self.reference]}/d"

    @property
    def reference(self) -> C:
        """The component whose coefficient is +-1 (what the rate counts)."""
        if self.mass is not None:
            return self.mass
        return next(c for c, v in self.stoich.items() if abs(abs(v) - 1.0) < 1e-12)


def n_content(p: dict[str, float]) -> np.ndarray:
    """Nitrogen per unit of each component (g N per unit), for the mass balance."""
    w = np.zeros(NCOMP)
    for c in (C.TAN, C.NO2, C.NO3, C.UREA, C.XS_N, C.GUT_N_FISH, C.GUT_N_TURTLE, C.PLANT_N, C.N2):
        w[c] = 1.0
    w[C.AOB] = w[C.NOB] = p["i_n_biomass_g_n_g_vss"]
    return w


def charge_content() -> np.ndarray:
    """Charge of the ions no process makes or uses, per unit of each component (meq).

    Electroneutrality with the model's alkalinity (carbonate, ammonia, OH-, H+) gives
    sum(conservative cations - anions) = ALK - [NH4+ + NH3] + [NO2-] + [NO3-] in eq; a
    transformation cannot change Na+, Ca2+ or Cl-, so this sum is what every row must keep
    (Stumm & Morgan 1996, ch. 4: alkalinity as the conservative charge balance).
    """
    w = np.zeros(NCOMP)
    w[C.ALK] = 1.0 / ALK_MG_CACO3_PER_MEQ
    w[C.TAN] = -1.0 / MOLAR_MASS_N_G_MOL
    w[C.NO2] = w[C.NO3] = 1.0 / MOLAR_MASS_N_G_MOL
    return w


def cod_content(p: dict[str, float]) -> np.ndarray:
    """Oxygen demand per unit of each component (g COD per unit), the ASM continuity row.

    Organic matter and biomass count their COD; oxygen counts -1; nitrogen counts the
    oxygen it takes from ammonium (-III, 0) to its oxidation state: nitrite -3.43, nitrate
    -4.57, N2 -1.71 g COD/g N (Henze et al. 1987).  Plant biomass
    counts the oxygen its growth on ammonium releases per g N.
    """
    w = np.zeros(NCOMP)
    for c in (C.XS_COD, C.GUT_COD_FISH, C.GUT_COD_TURTLE, C.CH4):
        w[c] = 1.0
    w[C.AOB] = w[C.NOB] = COD_PER_VSS
    w[C.O2] = -1.0
    w[C.NO2] = COD_OF_NO2_N
    w[C.NO3] = COD_OF_NO3_N
    w[C.N2] = COD_OF_N2_N
    w[C.PLANT_N] = plant_cod_per_n(p)
    return w


def plant_cod_per_n(p: dict[str, float]) -> float:
    """g COD of plant biomass per g N: the O2 released per g nitrate-N taken up, less the
    O2 equivalent of reducing that nitrate to ammonium."""
    return p["plant_o2_per_n"] + COD_OF_NO3_N


def nitrifier_temperature_factors(p: dict[str, float], temp_c: float) -> tuple[float, float]:
    """Growth-rate multipliers of AOB and NOB from 20 °C to ``temp_c`` (cardinal
    temperature model, :func:`tankeco.chemistry.temperature.cardinal_temperature_factor`)."""
    out = []
    for g in ("aob", "nob"):
        card = (p[f"t_min_{g}_c"], p[f"t_opt_{g}_c"], p[f"t_max_{g}_c"])
        ref = float(cardinal_temperature_factor(20.0, *card))
        out.append(float(cardinal_temperature_factor(temp_c, *card)) / ref)
    return out[0], out[1]


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
    ft_a, ft_n = nitrifier_temperature_factors(p, temp_c)
    ft_m = float(theta_factor(temp_c, p["theta_min"]))
    ft_decay = float(theta_factor(temp_c, p["theta_decay"]))
    ft_resp = float(theta_factor(temp_c, p["theta_respiration"], 25.0))
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

    def biomass_loss(guild: C, name: str, k: float, k_symbol: str, why: str) -> Process:
        return Process(
            name,
            Where.ALL,
            k,
            guild,
            {guild: -1.0, C.XS_COD: COD_PER_VSS, C.XS_N: i_n},
            description=why,
            k_symbol=k_symbol,
        )

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
            env=("f_ph", "eta_aob", "i_fa_aob"),
            description="ammonia oxidisers grow on TAN and O2 (NH4+ + 1.5 O2 -> NO2- + 2 H+); "
            "eta_aob is the biofilm's diffusion limit",
            k_symbol="mu_aob(T)",
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
            # no alkalinity factor: nitrite oxidation makes no acid (NO2- + 0.5 O2 -> NO3-)
            monod=(
                (C.NO2, p["k_no2_nob_mg_l"]),
                (C.O2, p["k_o2_nob_mg_l"]),
                (C.TAN, p["k_tan_nutrient_mg_l"]),
            ),
            env=("f_ph", "eta_nob", "i_fa_nob", "i_fna_nob"),
            description="nitrite oxidisers grow on NO2 and O2, inhibited by FA and FNA",
            k_symbol="mu_nob(T)",
        ),
        biomass_loss(
            C.AOB,
            "aob_decay",
            p["b_aob_d"] * ft_decay,
            "b_aob(T)",
            "death and lysis return biomass to organic waste (ASM1 death-regeneration)",
        ),
        biomass_loss(
            C.NOB,
            "nob_decay",
            p["b_nob_d"] * ft_decay,
            "b_nob(T)",
            "death and lysis of nitrite oxidisers",
        ),
        biomass_loss(
            C.AOB,
            "aob_detachment",
            p["b_detach_d"],
            "b_det",
            "shear strips biofilm off the pebbles; it joins the zone's organic waste",
        ),
        biomass_loss(
            C.NOB,
            "nob_detachment",
            p["b_detach_d"],
            "b_det",
            "shear detachment of nitrite oxidisers",
        ),
        Process(
            "aerobic_mineralisation_cod",
            Where.ALL,
            k_min,
            C.XS_COD,
            {C.XS_COD: -1.0, C.O2: -1.0, C.DIC: C_PER_COD},
            monod=((C.O2, k_o_h),),
            env=("f_oxic",),
            description="heterotrophs oxidise organic waste with O2 (1 g O2 per g COD) in "
            "the oxic part of the deposit",
            k_symbol="k_min(T)",
        ),
        Process(
            "aerobic_mineralisation_n",
            Where.ALL,
            k_min,
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            monod=((C.O2, k_o_h),),
            env=("f_oxic",),
            description="ammonification of the waste's organic N",
            k_symbol="k_min(T)",
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
            env=("f_anoxic",),
            description="in the anoxic part of the deposit heterotrophs oxidise waste with "
            "nitrate (-> N2)",
            k_symbol="eta_g*k_min(T)",
        ),
        Process(
            "denitrification_n",
            Where.ALL,
            k_min * p["eta_anoxic"],
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            monod=((C.NO3, k_no3),),
            env=("f_anoxic",),
            description="ammonification under anoxic conditions",
            k_symbol="eta_g*k_min(T)",
        ),
        Process(
            "anaerobic_decay_cod",
            Where.ALL,
            k_min * p["eta_anaerobic"],
            C.XS_COD,
            {C.XS_COD: -1.0, C.DIC: 0.5 * C_PER_COD, C.CH4: 1.0},
            inhibit=((C.NO3, k_no3),),
            env=("f_anoxic",),
            description="fermentation/methanogenesis where neither O2 nor NO3 is left "
            "(CH2O -> 0.5 CO2 + 0.5 CH4; the methane, and its COD, leave the water)",
            k_symbol="eta_fe*k_min(T)",
        ),
        Process(
            "anaerobic_decay_n",
            Where.ALL,
            k_min * p["eta_anaerobic"],
            C.XS_N,
            {C.XS_N: -1.0, C.TAN: 1.0, C.ALK: alk_n},
            inhibit=((C.NO3, k_no3),),
            env=("f_anoxic",),
            description="ammonification without an electron acceptor",
            k_symbol="eta_fe*k_min(T)",
        ),
        Process(
            "urea_hydrolysis",
            Where.ALL,
            p["k_urea_hydrolysis_d"] * ft_m,
            C.UREA,
            {C.UREA: -1.0, C.TAN: 1.0, C.ALK: alk_n, C.DIC: C_PER_UREA_N},
            description="CO(NH2)2 + 3 H2O -> 2 NH4+ + HCO3- + OH- (bacterial urease)",
            k_symbol="k_urea(T)",
        ),
        Process(
            "fish_respiration",
            Where.WATER,
            p["fish_o2_mg_kg_h"] * 24.0 * fish_mass_kg * ft_resp,
            None,
            {C.O2: -1.0, C.DIC: p["respiratory_quotient"] * _C / _O2},
            monod=((C.O2, p["k_o2_fish_mg_l"]),),
            description="fish breathe dissolved O2 (the turtle breathes air); they burn "
            "their own body's COD, which the model does not hold",
            k_symbol="R_fish(T)*M_fish",
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
                # ammonia leaves the gills as NH3 and takes up a proton (NH3 + H+ -> NH4+):
                # one equivalent of alkalinity per mole of TAN, as ammonification books
                {gut_n: -1.0, C.TAN: tan, C.UREA: urea, C.XS_N: faecal, C.ALK: tan * alk_n},
                description=f"{kind}: eaten N leaves as ammonia, urea and faecal N",
                k_symbol="k_excretion",
            ),
            Process(
                f"{kind}_faeces_cod",
                Where.WATER,
                p["k_excretion_d"],
                gut_cod,
                {gut_cod: -1.0, C.XS_COD: 1.0},
                description=f"{kind}: undigested feed leaves as faeces",
                k_symbol="k_excretion",
            ),
        ]
    if plant_uptake_max_mg_n_d > 0:
        k_pl = p["k_n_plant_mg_l"]
        cod_pl = plant_cod_per_n(p)
        c_pl = cod_pl * C_PER_COD  # g C fixed per g N (CH2O basis, PQ 1)
        procs += [
            Process(
                "plant_uptake_tan",
                Where.WATER,
                plant_uptake_max_mg_n_d,
                None,
                {C.TAN: -1.0, C.PLANT_N: 1.0, C.ALK: -alk_n, C.O2: cod_pl, C.DIC: -c_pl},
                monod=((C.TAN, k_pl),),
                env=("light", "f_co2_plant"),
                description="plants take up ammonium in the light (preferred N source), while "
                "free CO2 is above their compensation point",
                k_symbol="U_plant",
            ),
            Process(
                "plant_uptake_no3",
                Where.WATER,
                plant_uptake_max_mg_n_d,
                None,
                {
                    C.NO3: -1.0,
                    C.PLANT_N: 1.0,
                    C.ALK: alk_n,
                    C.O2: cod_pl - COD_OF_NO3_N,
                    C.DIC: -c_pl,
                },
                monod=((C.NO3, k_pl),),
                inhibit=((C.TAN, k_pl),),
                env=("light", "f_co2_plant"),
                description="plants take up nitrate when ammonium is scarce",
                k_symbol="U_plant",
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
