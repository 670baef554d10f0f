"""The ceramsite bed as a hydraulic resistance, and how it clogs.

Ergun (1952, Chem. Eng. Prog. 48:89) for the pressure drop across a packed bed of depth
L at superficial velocity v::

    dp / L = 150 mu (1 - eps)^2 v / (eps^3 dp^2) + 1.75 rho (1 - eps) v^2 / (eps^3 dp)

with dp the equivalent-sphere diameter (sphericity x grain size).  Its viscous term is
the Kozeny-Carman law (Carman 1937, Trans. Inst. Chem. Eng. 15:150): permeability
scales with eps^3 / (1 - eps)^2, so as retained solids fill the pores the resistance
rises with ``(1 - eps)^2 / eps^3`` of the *lost* porosity.  :func:`ergun_coefficients`
returns the two terms as coefficients of v and v^2; tests check them against
:func:`fluids.Ergun`.

A clean bed of 5-15 mm pebbles at a hobby pump's up-flow (about 1 mm/s) costs a few
pascals; clogged to a porosity of 0.1 it costs hundreds (Ergun 1952 at the defaults).
"""

from __future__ import annotations

import numpy as np

#: porosity below which a clogged bed is taken as this value (keeps Kozeny-Carman finite:
#: at 0.02 the viscous term is ~10^4 times the clean bed's, i.e. practically sealed)
MIN_POROSITY = 0.02


def ergun_coefficients(
    porosity: np.ndarray | float,
    grain_m: float,
    depth_m: float,
    density_kg_m3: float,
    viscosity_pa_s: float,
    sphericity: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ergun's pressure drop as ``dp = a v + b v^2`` (Pa), v superficial velocity (m/s).

    Returns (a in Pa s/m, b in Pa s2/m2) for each porosity given.
    """
    eps = np.clip(np.asarray(porosity, dtype=float), MIN_POROSITY, 0.999)
    dp = sphericity * grain_m
    a = 150.0 * viscosity_pa_s * (1 - eps) ** 2 / (eps**3 * dp**2) * depth_m
    b = 1.75 * density_kg_m3 * (1 - eps) / (eps**3 * dp) * depth_m
    return a, b


def deposit_volume_m3(solids_kg: np.ndarray | float, deposit_solids_kg_m3: float) -> np.ndarray:
    """Pore volume filled by retained dry solids: mass / solids content of the deposit.

    Settled sludge holds 2-10 % solids (``deposit_solids_kg_m3`` 20-100), so a gram of
    dry solids fills 10-50 mL of pore space (Metcalf & Eddy 2014, Table 13-8).
    """
    return np.asarray(solids_kg, dtype=float) / deposit_solids_kg_m3


def clogged_porosity(
    clean_porosity: float, deposit_m3: np.ndarray | float, bed_volume_m3: np.ndarray | float
) -> np.ndarray:
    """Porosity left when ``deposit_m3`` of deposit sits in ``bed_volume_m3`` of bed.

    ``eps = eps0 - V_deposit / V_bed``, never below :data:`MIN_POROSITY`.
    """
    eps = clean_porosity - np.asarray(deposit_m3, dtype=float) / np.asarray(bed_volume_m3)
    return np.maximum(eps, MIN_POROSITY)


def kozeny_carman_factor(porosity: np.ndarray | float, clean_porosity: float) -> np.ndarray:
    """How many times the clean bed's viscous resistance a clogged bed has.

    ``((1 - eps)^2 / eps^3) / ((1 - eps0)^2 / eps0^3)`` (Carman 1937).
    """
    eps = np.clip(np.asarray(porosity, dtype=float), MIN_POROSITY, 0.999)
    return ((1 - eps) ** 2 / eps**3) / ((1 - clean_porosity) ** 2 / clean_porosity**3)
