"""Head losses of pipes, holes and fittings, with their derivatives for Newton.

Every function returns the head lost in the flow direction as a signed value
(``h(Q)`` has the sign of Q) and ``dh/dQ`` > 0, so a link equation reads
``H_from - H_to = h(Q)``.

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
  velocity of the combined stream (a negative run K is a pressure regain).
* A hole: ``h = Q|Q| / (2 g Cd^2 a^2)``, i.e. K = 1/Cd^2 on the hole velocity.
"""

from __future__ import annotations

import math

import fluids
import numpy as np

#: standard gravity, m/s2 (CGPM 1901)
G_M_S2 = 9.80665

#: EPANET's Hazen-Williams coefficient 4.727 (ft, cfs) converted to m and m3/s.
HW_COEFF_SI = 4.727 * 0.3048**4.871 / 0.3048 * 0.3048 / (0.3048**3) ** 1.852

#: laminar below, fully turbulent above; in between f is interpolated linearly in Re
#: from 64/Re to Colebrook's value, as EPANET does (with a cubic) so that f is continuous
RE_LAMINAR = 2000.0
RE_TURBULENT = 4000.0


class DarcyFriction:
    """Darcy-Weisbach losses of a fixed set of pipes, re-using friction factors.

    ``h = f(Re, e/D) L/D V|V| / 2g`` with f from :func:`fluids.friction_factor`
    (Clamond's exact Colebrook solution) above Re 4000, 64/Re below 2000, and linear in
    Re between the two (EPANET 2.2 interpolates there too, with Dunlop's cubic).  Newton moves the
    Reynolds numbers by ever smaller amounts, so f is taken from fluids only when a
    pipe's Re has moved more than 1 % since fluids last gave it, and is carried along
    Colebrook's local slope ``d ln f / d ln Re`` in between (error below 1e-5 of f).
    The derivative uses the local exponent of the loss law, ``dh/dQ = n h/Q`` with
    n = 1 (laminar) or ``2 + d ln f / d ln Re``, and is never less than the laminar
    slope ``32 nu L / (g D^2 A)`` so a pipe with no flow keeps a finite resistance.
    """

    def __init__(self, length_m, diameter_m, area_m2, roughness_m, nu_m2_s: float):
        self.length_m = length_m
        self.diameter_m = diameter_m
        self.area_m2 = area_m2
        self.ed = roughness_m / diameter_m
        self.nu = nu_m2_s
        self.r_lam = 32.0 * nu_m2_s * length_m / (G_M_S2 * diameter_m**2 * area_m2)
        n = len(length_m)
        self._re = np.full(n, -1.0)
        self._f = np.zeros(n)
        self._dlnf = np.zeros(n)
        self._f_turb_start = np.array(
            [fluids.friction_factor(RE_TURBULENT, float(e)) for e in self.ed]
        )

    def __call__(self, q_m3_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(signed head loss in m, dh/dQ) of every pipe at flows ``q_m3_s``."""
        v = q_m3_s / self.area_m2
        re = np.abs(v) * self.diameter_m / self.nu
        lam = re < RE_LAMINAR
        trans = ~lam & (re < RE_TURBULENT)
        stale = (
            ~trans
            & ~lam
            & (
                (self._re <= 0)
                | (np.abs(np.log(np.maximum(re, 1e-300) / np.maximum(self._re, 1e-300))) > 0.01)
            )
        )
        for i in np.flatnonzero(stale):
            r, e = float(re[i]), float(self.ed[i])
            f = fluids.friction_factor(r, e)
            # d ln f / d ln Re from Colebrook, 1/sqrt(f) = -2 log10(e/3.7 + 2.51/(Re sqrt(f)))
            c_re = 2.51 / r
            s = 2.0 / math.log(10.0) * c_re / (e / 3.7 + c_re / math.sqrt(f))
            self._re[i], self._f[i], self._dlnf[i] = r, f, -2.0 * s / (1.0 + s)
        turb = ~lam & ~trans
        f_lam_end = 64.0 / RE_LAMINAR
        slope = (self._f_turb_start - f_lam_end) / (RE_TURBULENT - RE_LAMINAR)
        f_tr = f_lam_end + slope * (re - RE_LAMINAR)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(turb, self._f * (re / np.where(turb, self._re, 1.0)) ** self._dlnf, 0.0)
            f = np.where(trans, f_tr, f)
            dlnf = np.where(trans, slope * re / f_tr, self._dlnf)
            h = f * self.length_m / self.diameter_m * v * np.abs(v) / (2 * G_M_S2)
            dh = np.where(q_m3_s != 0, (2.0 + dlnf) * h / q_m3_s, self.r_lam)
        h = np.where(lam, self.r_lam * q_m3_s, h)
        dh = np.where(lam, self.r_lam, np.maximum(dh, self.r_lam))
        return h, dh


def hazen_williams_pipe_loss(
    q_m3_s: np.ndarray, length_m: np.ndarray, diameter_m: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hazen-Williams head loss ``r |Q|^1.852 sign(Q)`` (m) and derivative.

    ``r = 10.67 L / (C^1.852 d^4.871)`` (EPANET 2.2).  Near zero flow the derivative is
    floored like EPANET's (a tiny linear resistance), so Newton's matrix stays regular.
    """
    r = HW_COEFF_SI * length_m / (c**1.852 * diameter_m**4.871)
    aq = np.abs(q_m3_s)
    h = r * aq**1.852 * np.sign(q_m3_s)
    dh = np.maximum(1.852 * r * aq**0.852, r * 1e-6**0.852)
    return h, dh


def hole_loss(
    q_m3_s: np.ndarray, cd: np.ndarray, area_m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Orifice head ``Q|Q| / (2 g Cd^2 a^2)`` and its derivative (floored at tiny flow)."""
    k = 1.0 / (2 * G_M_S2 * cd**2 * area_m2**2)
    aq = np.abs(q_m3_s)
    return k * q_m3_s * aq, 2 * k * np.maximum(aq, 1e-12)


def velocity_head_coeff(area_m2: np.ndarray | float) -> np.ndarray | float:
    """``1 / (2 g A^2)``: multiply by Q^2 for the velocity head V^2/2g in m."""
    return 1.0 / (2 * G_M_S2 * np.asarray(area_m2) ** 2)


def elbow_k(diameter_m: float, angle_deg: float, radius_per_diameter: float, re: float) -> float:
    """Loss coefficient of a rounded bend (fluids.bend_rounded, Rennels method)."""
    if angle_deg < 1.0:
        return 0.0
    return float(
        fluids.bend_rounded(
            diameter_m, angle_deg, bend_diameters=radius_per_diameter, Re=max(re, 2500.0)
        )
    )


def reducer_k(d_from_m: float, d_to_m: float) -> float:
    """K of a sudden contraction or expansion, on the smaller pipe's velocity."""
    if abs(d_from_m - d_to_m) <= 1e-12:
        return 0.0
    if d_to_m < d_from_m:
        return float(fluids.contraction_sharp(d_from_m, d_to_m))
    return float(fluids.diffuser_sharp(d_from_m, d_to_m))


def tee_k(
    diverging: bool,
    is_run: bool,
    d_comb_m: float,
    d_branch_m: float,
    q_run: float,
    q_branch: float,
    angle_deg: float,
) -> float:
    """Crane's K of the run or the branch of a tee, on the combined stream's velocity."""
    if q_run + q_branch <= 0.0:
        return 0.0
    angle = min(max(angle_deg, 1.0), 90.0)
    if diverging:
        fn = fluids.K_run_diverging_Crane if is_run else fluids.K_branch_diverging_Crane
    else:
        fn = fluids.K_run_converging_Crane if is_run else fluids.K_branch_converging_Crane
    return float(fn(d_comb_m, min(d_branch_m, d_comb_m), q_run, q_branch, angle))
