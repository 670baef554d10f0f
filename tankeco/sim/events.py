"""What the discrete events do to the tank: state changes as compiled functions.

One definition of each event, called by both engines: the driver
(:class:`tankeco.sim.engine.Tank`, one tank, from Python) and the ensemble engine
(:mod:`tankeco.sim.batch`, many tanks, from compiled code).  Each function changes the
mass array ``m[compartment, component]`` (mg; compartment 0 is the free water column) in
place and returns what crossed the tank's boundary, so the caller books it in its ledger;
nothing else is read or written (no clock, no log, no globals).  The volume of the water
column is passed in and, where an event changes it, the new volume is returned.

Ledger slots of the ensemble engine (:data:`LEDGER_FIELDS`) carry the names of
:class:`tankeco.sim.state.Ledger`'s fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tankeco.sim.petersen import ALK_PER_N, DISSOLVED, PARTICULATE, C
from tankeco.units.molar import (
    ALK_MG_CACO3_PER_MEQ,
    MOLAR_MASS_C_G_MOL,
    MOLAR_MASS_NAHCO3_G_MOL,
)

#: Components a water change (or any water leaving the column) carries, as indices.
WATER_BORNE = np.array([int(c) for c in (*DISSOLVED, *PARTICULATE)], dtype=np.int64)

#: Ledger slots, in the order of the ensemble engine's ledger array (mg N, L, g).
LEDGER_FIELDS = (
    "n_in_feed_mg",
    "n_in_dosing_mg",
    "n_in_tap_mg",
    "n_out_water_change_mg",
    "n_out_retained_by_animals_mg",
    "water_in_l",
    "water_out_l",
    "water_evaporated_l",
    "baking_soda_g",
)
(
    N_IN_FEED,
    N_IN_DOSING,
    N_IN_TAP,
    N_OUT_WATER_CHANGE,
    N_OUT_RETAINED,
    WATER_IN,
    WATER_OUT,
    WATER_EVAPORATED,
    BAKING_SODA,
) = range(len(LEDGER_FIELDS))

#: mg CaCO3 per mmol of NaHCO3 (one equivalent), mg C per mmol, mg NaHCO3 per mmol.
ALK_MG_PER_MMOL_BICARBONATE = ALK_MG_CACO3_PER_MEQ
C_MG_PER_MMOL = MOLAR_MASS_C_G_MOL
NAHCO3_MG_PER_MMOL = MOLAR_MASS_NAHCO3_G_MOL

_TAN, _ALK, _DIC = int(C.TAN), int(C.ALK), int(C.DIC)
_XS_COD, _XS_N = int(C.XS_COD), int(C.XS_N)


@njit(cache=True)
def add_tap_water(m, volume_l, tap_mg_l, water_borne, n_weights):
    """Pour ``volume_l`` of tap water into the water column.

    Parameters
    ----------
    m : ndarray (compartment, component)
        Masses, mg; changed in place.
    volume_l : float
        Tap water poured in, L (nothing happens if <= 0).
    tap_mg_l : ndarray (component,)
        Concentrations of the tap water, mg/L.
    water_borne : ndarray of int
        Components the water carries.
    n_weights : ndarray (component,)
        g N per unit of each component.

    Returns
    -------
    n_in_mg : float
        Nitrogen the tap water brought in, mg N.
    """
    if volume_l <= 0.0:
        return 0.0
    n_in_mg = 0.0
    for k in range(tap_mg_l.shape[0]):
        n_in_mg += tap_mg_l[k] * volume_l * n_weights[k]
    for i in range(water_borne.shape[0]):
        k = water_borne[i]
        m[0, k] += tap_mg_l[k] * volume_l
    return n_in_mg


@njit(cache=True)
def remove_water(m, fraction, water_volume_l, water_borne, n_weights):
    """Take a fraction of the free water out, with everything it carries.

    Returns
    -------
    volume_out_l : float
        Water removed, L (``fraction * water_volume_l``).
    n_out_mg : float
        Nitrogen removed with it, mg N.
    """
    n_out_mg = 0.0
    for i in range(water_borne.shape[0]):
        k = water_borne[i]
        removed = m[0, k] * fraction
        m[0, k] -= removed
        n_out_mg += removed * n_weights[k]
    return water_volume_l * fraction, n_out_mg


@njit(cache=True)
def water_change(m, fraction, water_volume_l, v_nominal_l, tap_mg_l, water_borne, n_weights):
    """A partial water change: remove ``fraction`` of the free water, refill to nominal.

    Returns
    -------
    water_volume_l : float
        Volume of the water column afterwards (the nominal volume), L.
    volume_out_l, refill_l : float
        Water taken out and tap water put in, L.
    n_out_mg, n_in_mg : float
        Nitrogen removed with the old water and brought by the new, mg N.
    """
    volume_out_l, n_out_mg = remove_water(m, fraction, water_volume_l, water_borne, n_weights)
    water_volume_l -= volume_out_l
    refill_l = v_nominal_l - water_volume_l
    n_in_mg = add_tap_water(m, refill_l, tap_mg_l, water_borne, n_weights)
    if refill_l > 0.0:
        water_volume_l += refill_l
    return water_volume_l, volume_out_l, refill_l, n_out_mg, n_in_mg


@njit(cache=True)
def top_up(m, water_volume_l, v_nominal_l, tap_mg_l, water_borne, n_weights):
    """Replace evaporated water with tap water (if more than 1 nL is missing).

    Returns
    -------
    water_volume_l, refill_l, n_in_mg : float
        Volume afterwards (L), tap water added (L, 0 if none), nitrogen it brought (mg N).
    """
    refill_l = v_nominal_l - water_volume_l
    if refill_l <= 1e-9:
        return water_volume_l, 0.0, 0.0
    n_in_mg = add_tap_water(m, refill_l, tap_mg_l, water_borne, n_weights)
    return water_volume_l + refill_l, refill_l, n_in_mg


@njit(cache=True)
def feed(
    m, n_mg, cod_mg, uneaten_fraction, excreted_share, digestibility, gut_n, gut_cod, area_share
):
    """A feeding: uneaten pellets sink onto the bed, eaten N and COD enter the guts.

    Uneaten feed is spread over the bed zones by plan area; of the eaten N the share the
    animals excrete goes to their gut pool (released later as TAN, urea and faeces), the
    rest is retained in growth; the undigested COD goes to the faeces pool.

    Parameters
    ----------
    m : ndarray (compartment, component)
        Masses, mg; changed in place.
    n_mg, cod_mg : float
        Nitrogen (mg N) and COD (mg) in the portion.
    uneaten_fraction : float
        Share of the portion nobody eats (1 if no animal of the feed's kind is present).
    excreted_share : float
        Share of eaten N excreted (TAN + urea + faecal fractions, at most 1).
    digestibility : float
        Share of eaten COD digested.
    gut_n, gut_cod : int
        Components of the eater's gut pools.
    area_share : ndarray (zone,)
        Plan-area share of each bed zone.

    Returns
    -------
    n_retained_mg : float
        Eaten N kept by the animals (leaves the water's balance), mg N.
    """
    for z in range(area_share.shape[0]):
        m[z + 1, _XS_COD] += cod_mg * uneaten_fraction * area_share[z]
        m[z + 1, _XS_N] += n_mg * uneaten_fraction * area_share[z]
    eaten_n = n_mg * (1.0 - uneaten_fraction)
    if eaten_n <= 0.0:
        return 0.0
    m[0, gut_n] += eaten_n * excreted_share
    m[0, gut_cod] += cod_mg * (1.0 - uneaten_fraction) * (1.0 - digestibility)
    return eaten_n * (1.0 - excreted_share)


@njit(cache=True)
def dose_ammonia(m, water_volume_l, threshold_tan_mg_l, target_tan_mg_l, adds_alkalinity):
    """Fishless-cycling dose: if TAN is below the threshold, top it up to the target.

    Household ammonia (NH3 + H2O -> NH4+ + OH-) adds one equivalent of alkalinity per
    mole N (``adds_alkalinity``); ammonium chloride adds none.

    Returns
    -------
    dose_mg : float
        Ammonium-N added, mg N (0 when TAN was at or above the threshold).
    """
    tan_mg_l = m[0, _TAN] / water_volume_l
    if tan_mg_l >= threshold_tan_mg_l:
        return 0.0
    dose_mg = (target_tan_mg_l - tan_mg_l) * water_volume_l
    m[0, _TAN] += dose_mg
    if adds_alkalinity:
        m[0, _ALK] += dose_mg * ALK_PER_N
    return dose_mg


@njit(cache=True)
def add_baking_soda(m, water_volume_l, min_alk_mg_l_caco3, target_alk_mg_l_caco3):
    """Baking soda if alkalinity is below the minimum, back up to the target.

    NaHCO3 adds one equivalent of alkalinity (50.04 mg CaCO3) and one mole of C per mole.

    Returns
    -------
    baking_soda_g : float
        NaHCO3 added, g (0 when alkalinity was at or above the minimum).
    """
    alk_mg_l = m[0, _ALK] / water_volume_l
    if alk_mg_l >= min_alk_mg_l_caco3:
        return 0.0
    alk_mg = (target_alk_mg_l_caco3 - alk_mg_l) * water_volume_l
    mmol = alk_mg / ALK_MG_PER_MMOL_BICARBONATE
    m[0, _ALK] += alk_mg
    m[0, _DIC] += mmol * C_MG_PER_MMOL
    return mmol * NAHCO3_MG_PER_MMOL / 1000.0


@njit(cache=True)
def evaporate(water_volume_l, evaporation_l_d, duration_d):
    """Water lost from the column over ``duration_d`` (at most half of it), L."""
    return min(evaporation_l_d * duration_d, 0.5 * water_volume_l)


@dataclass(frozen=True)
class Portion:
    """What one feeding puts into the tank: the arguments of :func:`feed` for a routine."""

    n_mg: float
    cod_mg: float
    uneaten_fraction: float
    excreted_share: float
    digestibility: float
    gut_n: int
    gut_cod: int


def portion(feed_routine, animals, p: dict[str, float]) -> Portion:
    """The :class:`Portion` of a scenario's ``[[feeds]]`` entry.

    Parameters
    ----------
    feed_routine : tankeco.scenario.schema.Feed
        The feeding routine (amount, protein, who eats it).
    animals : list of tankeco.scenario.schema.Animal
        The stock; feed for a kind that is absent is all uneaten.
    p : dict
        Resolved model parameters (``n_per_protein``, ``cod_per_g_feed``,
        ``digestibility`` and the eater's excretion fractions).
    """
    kind = feed_routine.eaten_by
    present = any(a.kind == kind and a.count > 0 for a in animals)
    mass_mg = feed_routine.amount_g * 1000.0
    excreted = sum(p[f"{kind}_{x}"] for x in ("tan_fraction", "urea_fraction", "faecal_n_fraction"))
    fish = kind == "fish"
    return Portion(
        n_mg=mass_mg * feed_routine.protein_fraction * p["n_per_protein"],
        cod_mg=mass_mg * p["cod_per_g_feed"],
        uneaten_fraction=feed_routine.uneaten_fraction if present else 1.0,
        excreted_share=min(excreted, 1.0),
        digestibility=p["digestibility"],
        gut_n=int(C.GUT_N_FISH if fish else C.GUT_N_TURTLE),
        gut_cod=int(C.GUT_COD_FISH if fish else C.GUT_COD_TURTLE),
    )
