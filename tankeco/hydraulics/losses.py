"""Head-loss laws of pipes, holes and fittings, and the geometry-only coefficients.

A link equation reads ``H_from - H_to = h(Q)``, the head lost in the flow direction
(``h(Q)`` has the sign of Q).  The laws are evaluated, with their derivatives for
Newton, in the compiled kernel :mod:`tankeco.hydraulics.newton_kernel`; this module holds their
constants and the fitting coefficients that depend on geometry only.

Sources
-------
* Darcy-Weisbach: ``h = f (L/D) V|V| / 2g``, f from :func:`fluids.friction_factor`
  (Clamond 2009's exact solution of Colebrook 1939; 64/Re below Re 2040).
* Hazen-Williams (SI form of EPANET 2.2, Rossman et al. 2020, Table 3.1):
  ``h = 4.727 C^-1.852 d^-4.871 L Q^1.852`` in ft and cfs, i.e. 10.67 in m and m3/s.
* Minor and fitting losses ``h = K V^2 / 2g``; K of elbows from
  :func:`fluids.bend_rounded` (Rennels & Hudson 2012), of reducers from
  :func:`fluids.contraction_sharp` / :func:`fluids.diffuser_sharp` (both on the smaller
  pipe's velocity), of tees from the Crane (2009) TP-410 functions
  :func:`fluids.K_branch_diverging_Crane`, :func:`fluids.K_run_diverging_Crane`,
  :func:`fluids.K_branch_converging_Crane`, :func:`fluids.K_run_converging_Crane`, on the
  velocity of the combined stream, negative values (a run's regain, the ejector effect
  on a small combining branch) credited as the measured total-pressure gains they are;
  tee K's depend on the flows, so they live only in the kernel, checked against these
  functions in ``tests/hydraulics/test_kernel.py``.
* Transitional Darcy friction (Re 2000-4000) is interpolated linearly in Re between
  64/2000 and Colebrook at 4000; EPANET 2.2 uses Dunlop's cubic there instead, and the
  two differ by up to 17 % in f around Re 2500 (docs/hydraulics.md; checked by
  ``tests/hydraulics/test_vs_epanet.py``).
* A hole: ``h = Q|Q| / (2 g Cd^2 a^2)``, i.e. K = 1/Cd^2 on the hole velocity.
"""

from __future__ import annotations

import functools

import fluids
import numpy as np

#: standard gravity, m/s2 (CGPM 1901)
G_M_S2 = 9.80665

#: EPANET's Hazen-Williams coefficient 4.727 (ft, cfs) converted to m and m3/s.
HW_COEFF_SI = 4.727 * 0.3048**4.871 / 0.3048 * 0.3048 / (0.3048**3) ** 1.852

#: Darcy friction: laminar (64/Re) below RE_LAMINAR, Colebrook (Clamond's exact solution,
#: as :func:`fluids.friction_factor`) above RE_TURBULENT, linear in Re between the two so
#: that f is continuous (EPANET 2.2 interpolates there too, with Dunlop's cubic)
RE_LAMINAR = 2000.0
RE_TURBULENT = 4000.0


def velocity_head_coeff(area_m2: np.ndarray | float) -> np.ndarray | float:
    """``1 / (2 g A^2)``: multiply by Q^2 for the velocity head V^2/2g in m."""
    return 1.0 / (2 * G_M_S2 * np.asarray(area_m2) ** 2)


@functools.lru_cache(maxsize=1024)
def elbow_k(diameter_m: float, angle_deg: float, radius_per_diameter: float, re: float) -> float:
    """Loss coefficient of a rounded bend (fluids.bend_rounded, Rennels method)."""
    if angle_deg < 1.0:
        return 0.0
    return float(
        fluids.bend_rounded(
            diameter_m, angle_deg, bend_diameters=radius_per_diameter, Re=max(re, 2500.0)
        )
    )


@functools.lru_cache(maxsize=1024)
def reducer_k(d_from_m: float, d_to_m: float) -> float:
    """K of a sudden contraction or expansion, on the smaller pipe's velocity."""
    if abs(d_from_m - d_to_m) <= 1e-12:
        return 0.0
    if d_to_m < d_from_m:
        return float(fluids.contraction_sharp(d_from_m, d_to_m))
    return float(fluids.diffuser_sharp(d_from_m, d_to_m))
