"""What changes during a run: the masses, the clock, the forcing, the ledger, the samples.

The model (:class:`tankeco.sim.model.TankModel`) is fixed for a run and the integrators
(:mod:`tankeco.sim.integrators`) keep only their own step-size memory; everything a run
accumulates lives here, so an integrator can be swapped without touching it and a caller
(the forecast's ensemble Kalman filter) can read and change it between two stretches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tankeco.sim.model import Forcing


@dataclass
class Ledger:
    """Cumulative flows across the tank's boundary (mg N, L of water, g baking soda)."""

    n_in_feed_mg: float = 0.0
    n_in_dosing_mg: float = 0.0
    n_in_tap_mg: float = 0.0
    n_out_water_change_mg: float = 0.0
    n_out_retained_by_animals_mg: float = 0.0
    water_in_l: float = 0.0
    water_out_l: float = 0.0
    water_evaporated_l: float = 0.0
    baking_soda_g: float = 0.0
    events: list[dict] = field(default_factory=list)


@dataclass
class TankState:
    """The state of one tank at time ``t`` (days).

    ``m[c, k]`` is the mass (mg) of component k in compartment c (0: the free water
    column, 1..n: the bed zones).  ``clipped`` is the mass the integrator added by setting
    round-off negatives to zero; the nitrogen balance books it as an input.
    """

    m: np.ndarray
    forcing: Forcing
    inert_g: np.ndarray  # inert solids retained in each bed zone, dry g
    t: float = 0.0
    ledger: Ledger = field(default_factory=Ledger)
    clipped: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.clipped = np.zeros_like(self.m)


#: columns of :attr:`Samples.out_flags`
FLAG_PUMP, FLAG_LIGHT, FLAG_WATER_VOLUME, FLAG_FLOW = range(4)


class Samples:
    """The output grid (every ``step_h`` from 0 to ``days``) and what was written on it.

    The integrator interpolates the masses onto the grid inside its accepted steps
    (sampling never shortens a step); the driver writes the forcing flags of the same
    rows.  Rows ``[0, k_out)`` are written.
    """

    #: names of the columns of :attr:`out_flags` (indices FLAG_*)
    FLAGS = ("pump_on", "light_on", "water_volume_l", "flow_l_h")

    def __init__(self, days: float, step_h: float, m0: np.ndarray, flags0: tuple) -> None:
        self.out_t = np.arange(0.0, days + 1e-9, step_h / 24.0)
        self.out_m = np.zeros((self.out_t.size, *m0.shape))
        self.out_flags = np.zeros((self.out_t.size, len(self.FLAGS)))
        self.out_m[0] = m0
        self.out_flags[0] = flags0
        self.k_out = 1
