"""Integrators: advance a tank's masses between two events, behind one interface.

Two implementations of :class:`Integrator`:

* :class:`Ros2`, the engine's own: the second-order Rosenbrock method ROS2 of Verwer,
  Spee, Blom & Hundsdorfer (1999, SIAM J. Sci. Comput. 20(4):1456), compiled in
  :mod:`tankeco.sim.ros2_kernel`;
* :class:`SolveIvp`, scipy's ``solve_ivp`` (BDF, LSODA, Radau) on the same right-hand
  side, optionally given the model's analytic Jacobian: a yardstick for the accuracy
  tests and the benchmarks, so differences between the two measure the integrator alone.

An integrator reads the model (:class:`tankeco.sim.model.TankModel`) and the forcing,
changes ``state.m`` and writes the output samples that fall in the interval; it keeps
nothing but its own step-size memory and counters.  The clock, evaporation and events are
the driver's (:mod:`tankeco.sim.driver`).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from tankeco.errors import ConvergenceError
from tankeco.sim import ros2_kernel as kernel
from tankeco.sim.model import TankModel
from tankeco.sim.state import Samples, TankState


class IntegrationError(ConvergenceError):
    """The step size collapsed: the model could not be advanced (a bug, not bad input)."""


class Tolerances(NamedTuple):
    """Error tolerances of one tank: scalar rtol as asked, and per cell."""

    rtol: float
    rtol_cells: np.ndarray  # (compartment, component)
    atol: np.ndarray  # (compartment, component), mg
    weight: np.ndarray  # 1 for a cell that is state, 0 for one that does not exist


class Integrator(Protocol):
    """What the driver needs from an integrator."""

    def advance(self, model: TankModel, state: TankState, samples: Samples, t_end: float) -> None:
        """Integrate ``state.m`` from ``state.t`` to ``t_end`` under ``state.forcing``
        (constant over the interval); write the samples in (state.t, t_end] and advance
        ``samples.k_out``.  Does not move ``state.t`` (the driver does)."""

    def solver_summary(self) -> dict:
        """Method, tolerance and work counters for ``summary.json``."""


class Ros2:
    """ROS2 with error control and dense output, compiled (:func:`ros2_kernel.advance`)."""

    def __init__(self, tol: Tolerances) -> None:
        self.tol = tol
        self.control = kernel.StepControl(tol.rtol_cells, tol.atol, tol.weight, kernel.H_MAX_D)
        self.h = kernel.H_START_D
        self.stats = np.zeros(kernel.N_STATS, dtype=np.int64)

    def advance(self, model: TankModel, state: TankState, samples: Samples, t_end: float) -> None:
        state.m, self.h, samples.k_out, ok = kernel.advance(
            state.m,
            state.t,
            t_end,
            self.h,
            samples.k_out,
            self.control,
            model.conditions(state.forcing),
            model.tables(),
            kernel.Record(samples.out_t, samples.out_m, self.stats, state.clipped),
        )
        if not ok:
            raise IntegrationError(
                f"the integrator's step size collapsed at day {state.t:.4f}; please report "
                "this scenario"
            )

    def solver_summary(self) -> dict:
        st = self.stats
        return {
            "method": "ROS2 (Verwer et al. 1999)",
            "rtol": self.tol.rtol,
            "steps": int(st[kernel.STAT_ACCEPTED]),
            "rejected_error": int(st[kernel.STAT_REJECTED_ERROR]),
            "rejected_negative": int(st[kernel.STAT_REJECTED_NEGATIVE]),
            "rhs_calls": int(st[kernel.STAT_RHS_EVALUATIONS]),
        }


class SolveIvp:
    """scipy's ``solve_ivp`` between events (a yardstick, not the engine).

    ``method`` is one of :data:`METHODS`; ``use_jacobian`` hands solve_ivp the model's
    analytic Jacobian (otherwise it builds one by finite differences, its default).
    """

    METHODS = ("BDF", "LSODA", "Radau")

    def __init__(self, tol: Tolerances, method: str = "BDF", use_jacobian: bool = False) -> None:
        if method not in self.METHODS:
            raise ValueError(f"solve_ivp method {method!r}; allowed: {', '.join(self.METHODS)}")
        self.tol = tol
        self.method = method
        self.use_jacobian = use_jacobian
        self.nfev = 0
        self.njev = 0
        self.steps = 0

    def advance(self, model: TankModel, state: TankState, samples: Samples, t_end: float) -> None:
        forcing, shape = state.forcing, state.m.shape

        def fun(_t, y):
            return model.rhs(y.reshape(shape), forcing).ravel()

        def jac(_t, y):
            return model.jacobian_dense(y.reshape(shape), forcing)

        # imported here, not at the top: scipy.integrate costs about half a second of
        # start-up (scipy.special, scipy.optimize) that the engine's own ROS2 never needs
        from scipy.integrate import solve_ivp

        k0 = samples.k_out
        k1 = int(np.searchsorted(samples.out_t, t_end + 1e-9 * max(1.0, t_end), side="right"))
        t_eval = samples.out_t[k0:k1]
        if t_eval.size == 0 or t_eval[-1] < t_end:
            t_eval = np.append(t_eval, t_end)
        sol = solve_ivp(
            fun,
            (state.t, t_end),
            state.m.ravel(),
            method=self.method,
            rtol=self.tol.rtol,
            atol=self.tol.atol.ravel(),
            jac=jac if self.use_jacobian else None,
            t_eval=t_eval,
        )
        if not sol.success:
            raise IntegrationError(
                f"solve_ivp ({self.method}) failed at day {state.t:.4f}: {sol.message}"
            )
        self.nfev += sol.nfev
        self.njev += sol.njev
        if k1 > k0:
            samples.out_m[k0:k1] = sol.y[:, : k1 - k0].T.reshape((k1 - k0, *shape))
            samples.k_out = k1
        state.m = sol.y[:, -1].reshape(shape).copy()

    def solver_summary(self) -> dict:
        return {
            "method": f"scipy solve_ivp {self.method}"
            + (" (analytic Jacobian)" if self.use_jacobian else ""),
            "rtol": self.tol.rtol,
            "rhs_calls": int(self.nfev),
            "jacobian_calls": int(self.njev),
        }


#: names ``simulate(..., integrator=...)`` accepts
INTEGRATORS = ("ros2", "bdf", "bdf+jac", "lsoda", "radau")


def make_integrator(name: str, tol: Tolerances) -> Integrator:
    """The integrator called ``name`` (one of :data:`INTEGRATORS`)."""
    if name == "ros2":
        return Ros2(tol)
    if name in INTEGRATORS:
        method = {"bdf": "BDF", "lsoda": "LSODA", "radau": "Radau"}[name.split("+")[0]]
        return SolveIvp(tol, method=method, use_jacobian=name.endswith("+jac"))
    raise ValueError(f"unknown integrator {name!r}; allowed: {', '.join(INTEGRATORS)}")
