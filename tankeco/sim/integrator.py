"""A stiff, positivity-keeping, mass-conserving one-step integrator (ROS2).

ROS2 is the two-stage Rosenbrock method of Verwer, Spee, Blom & Hundsdorfer (1999),
"A second-order Rosenbrock method applied to photochemical dispersion problems",
SIAM J. Sci. Comput. 20(4):1456-1480:

    (I - g h J) k1 = f(y_n)
    (I - g h J) k2 = f(y_n + h k1) - 2 k1
    y_{n+1} = y_n + 3/2 h k1 + 1/2 h k2,        g = 1 + 1/sqrt(2)

Why this method for the tank:

* It is L-stable and second order for *any* matrix J (a W-method), so the Jacobian may
  hold the pH-dependent factors fixed without losing order.
* With g = 1 + 1/sqrt(2) its stability function is positive on the whole negative real
  axis, so linear decay and exchange never overshoot below zero (Verwer et al. 1999, s. 2).
* It is linearly implicit: two linear solves with one LU factorisation per step, no
  Newton iteration.  Because every column of f and J lies in the span of the
  stoichiometry, w.f = 0 and w.J = 0 for a conserved quantity w, hence w.k1 = w.k2 = 0:
  nitrogen is conserved to round-off whatever the step size.
* Being one-step, it can stop exactly at every discrete event and go on with no restart.

Error control: the embedded first-order solution y_n + h k1 gives the estimate
h/2 (k1 + k2), filtered through (I - g h J)^-1 so that fast modes that have already
decayed do not dictate the step (Shampine 1982, ACM TOMS 8:93, as in ode23s); the
step is accepted when the weighted RMS norm with ``atol + rtol |y|`` is at most 1 and
no component is negative.  A step that would make a component negative is rejected and
halved, so an accepted state is never negative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lu_factor, lu_solve

GAMMA = 1.0 + 1.0 / np.sqrt(2.0)

RhsJac = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Rhs = Callable[[np.ndarray], np.ndarray]
StepHook = Callable[[float, np.ndarray, float, np.ndarray], None]


class IntegrationError(RuntimeError):
    """The step size collapsed: the model could not be advanced (a bug or absurd input)."""


@dataclass
class StepStats:
    accepted: int = 0
    rejected_error: int = 0
    rejected_negative: int = 0
    jacobians: int = 0
    rhs_calls: int = 0


class Ros2:
    """Adaptive ROS2 for an autonomous system between two events.

    ``atol`` may be a vector (one tolerance per state, in the state's unit).
    """

    def __init__(
        self,
        rtol: float = 1e-4,
        atol: float | np.ndarray = 1e-6,
        h_init: float = 1e-3,
        h_max: float = 0.25,
        h_min: float = 1e-12,
    ):
        self.rtol = rtol
        self.atol = atol
        self.h = h_init
        self.h_max = h_max
        self.h_min = h_min
        self.stats = StepStats()

    def advance(
        self,
        rhs_jac: RhsJac,
        rhs: Rhs,
        t0: float,
        y0: np.ndarray,
        t1: float,
        on_step: StepHook | None = None,
    ) -> np.ndarray:
        """Integrate from (t0, y0) to exactly t1; call ``on_step`` after every accepted step."""
        t, y = t0, np.array(y0, dtype=float)
        n = y.size
        eye = np.eye(n)
        stats = self.stats
        while t1 - t > 1e-12 * max(1.0, abs(t1)):
            f0, jac = rhs_jac(y)
            stats.jacobians += 1
            stats.rhs_calls += 1
            while True:
                h = min(self.h, self.h_max, t1 - t)
                lu = lu_factor(eye - (GAMMA * h) * jac, check_finite=False)
                k1 = lu_solve(lu, f0, check_finite=False)
                f1 = rhs(y + h * k1)
                stats.rhs_calls += 1
                k2 = lu_solve(lu, f1 - 2.0 * k1, check_finite=False)
                y_new = y + h * (1.5 * k1 + 0.5 * k2)
                scale = self.atol + self.rtol * np.maximum(np.abs(y), np.abs(y_new))
                # filtered estimate (Shampine 1982): the raw h/2 (k1 + k2) is O(y) for a
                # stiff mode and would force h*lambda small; (I - g h J)^-1 damps it.
                est = lu_solve(lu, 0.5 * h * (k1 + k2), check_finite=False)
                err = float(np.sqrt(np.mean((est / scale) ** 2)))
                if not np.isfinite(err):
                    err = np.inf
                negative = bool(np.any(y_new < 0.0))
                if err <= 1.0 and not negative:
                    break
                if negative and err <= 1.0:
                    stats.rejected_negative += 1
                    self.h = 0.5 * h
                else:
                    stats.rejected_error += 1
                    self.h = h * max(0.2, 0.9 / np.sqrt(err)) if np.isfinite(err) else 0.1 * h
                if self.h < self.h_min:
                    raise IntegrationError(
                        f"step size fell below {self.h_min:g} d at t = {t:.6f} d"
                    )
            stats.accepted += 1
            t_new = t + h
            if on_step is not None:
                on_step(t, y, t_new, y_new)
            t, y = t_new, y_new
            growth = 2.0 if err == 0 else min(2.0, max(0.2, 0.9 / np.sqrt(err)))
            # do not let a step cut short by an event shrink the next one
            self.h = max(self.h, h * growth) if h < self.h else h * growth
        return y
