"""Water chemistry for the nitrogen-cycle model: pure, vectorised numpy functions.

One module per physical topic; every function takes scalars or array-likes (broadcast
together) and returns a numpy scalar or array of the broadcast shape. Units are in the
names (``_mg_l``, ``_c``, ``_kpa``); nitrogen concentrations are "as N" unless the name
says otherwise. Each docstring gives the formula and its published source.

- :mod:`~tankeco.chemistry.ammonia` - NH3/NH4+ and HNO2/NO2- speciation.
- :mod:`~tankeco.chemistry.oxygen` - dissolved-oxygen saturation.
- :mod:`~tankeco.chemistry.carbonate` - carbonate system, pH from alkalinity and DIC.
- :mod:`~tankeco.chemistry.temperature` - theta and Arrhenius temperature factors.
- :mod:`~tankeco.units.chemistry_units` - basis and unit conversions (NO3 <-> NO3-N, dKH, °F).
"""

from tankeco.chemistry.ammonia import (
    anthonisen_free_ammonia_mg_l,
    free_ammonia_n_mg_l,
    free_nitrous_acid_mg_l,
    nh3_fraction,
    pka_ammonium,
)
from tankeco.chemistry.carbonate import (
    carbonate_constants,
    co2_fraction,
    co2_henry_mol_l_atm,
    co2_mg_c_l,
    co2_saturation_mg_c_l,
    dic_from_alk_ph,
    ph_from_alk_dic,
)
from tankeco.chemistry.oxygen import o2_saturation_mg_l
from tankeco.chemistry.temperature import (
    arrhenius_factor,
    theta_factor,
    theta_from_activation_energy,
)
from tankeco.units.chemistry_units import (
    ALK_MG_CACO3_PER_DKH,
    ALK_MG_CACO3_PER_MEQ,
    NH3_PER_NH3_N,
    NH4_PER_NH4_N,
    NO2_PER_NO2_N,
    NO3_PER_NO3_N,
    alk_meq_l_from_mg_l_caco3,
    alk_mg_l_caco3_from_dkh,
    alk_mg_l_caco3_from_meq_l,
    dkh_from_alk_mg_l_caco3,
    ec25_from_ec,
    nh3_from_nh3_n,
    nh3_n_from_nh3,
    nh4_from_nh4_n,
    nh4_n_from_nh4,
    no2_from_no2_n,
    no2_n_from_no2,
    no3_from_no3_n,
    no3_n_from_no3,
    temp_c_from_temp_f,
    temp_f_from_temp_c,
    temp_k_from_temp_c,
)

__all__ = [
    "ALK_MG_CACO3_PER_DKH",
    "ALK_MG_CACO3_PER_MEQ",
    "NH3_PER_NH3_N",
    "NH4_PER_NH4_N",
    "NO2_PER_NO2_N",
    "NO3_PER_NO3_N",
    "alk_meq_l_from_mg_l_caco3",
    "alk_mg_l_caco3_from_dkh",
    "alk_mg_l_caco3_from_meq_l",
    "anthonisen_free_ammonia_mg_l",
    "arrhenius_factor",
    "carbonate_constants",
    "co2_fraction",
    "co2_henry_mol_l_atm",
    "co2_mg_c_l",
    "co2_saturation_mg_c_l",
    "dic_from_alk_ph",
    "dkh_from_alk_mg_l_caco3",
    "ec25_from_ec",
    "free_ammonia_n_mg_l",
    "free_nitrous_acid_mg_l",
    "nh3_fraction",
    "nh3_from_nh3_n",
    "nh3_n_from_nh3",
    "nh4_from_nh4_n",
    "nh4_n_from_nh4",
    "no2_from_no2_n",
    "no2_n_from_no2",
    "no3_from_no3_n",
    "no3_n_from_no3",
    "o2_saturation_mg_l",
    "ph_from_alk_dic",
    "pka_ammonium",
    "temp_c_from_temp_f",
    "temp_f_from_temp_c",
    "temp_k_from_temp_c",
    "theta_factor",
    "theta_from_activation_energy",
]
