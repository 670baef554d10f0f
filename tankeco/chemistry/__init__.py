"""Water chemistry for the nitrogen-cycle model: pure, vectorised numpy functions.

One module per physical topic; every function takes scalars or array-likes (broadcast
together) and returns a numpy scalar or array of the broadcast shape. Units are in the
names (``_mg_l``, ``_c``, ``_kpa``); nitrogen concentrations are "as N" unless the name
says otherwise. Each docstring gives the formula and its published source.

- :mod:`~tankeco.chemistry.ammonia` - NH3/NH4+ and HNO2/NO2- speciation.
- :mod:`~tankeco.chemistry.oxygen` - dissolved-oxygen saturation.
- :mod:`~tankeco.chemistry.carbonate` - carbonate system, pH from alkalinity and DIC.
- :mod:`~tankeco.chemistry.temperature` - theta and Arrhenius temperature factors.

Basis and unit conversions (NO3 <-> NO3-N, dKH, °F) and the molar masses live one room
below, in :mod:`tankeco.units.molar`.
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

__all__ = [
    "anthonisen_free_ammonia_mg_l",
    "arrhenius_factor",
    "carbonate_constants",
    "co2_fraction",
    "co2_henry_mol_l_atm",
    "co2_mg_c_l",
    "co2_saturation_mg_c_l",
    "dic_from_alk_ph",
    "free_ammonia_n_mg_l",
    "free_nitrous_acid_mg_l",
    "nh3_fraction",
    "o2_saturation_mg_l",
    "ph_from_alk_dic",
    "pka_ammonium",
    "theta_factor",
    "theta_from_activation_energy",
]
