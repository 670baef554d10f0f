"""The same tank integrated by scipy's ``solve_ivp`` (BDF or another method), as a yardstick.

It shares everything with the engine (model, right-hand side, events, ledger, outputs)
except the integrator between events, so differences measure the integrator alone.  Used
by the accuracy tests, the benchmark, and ``tankeco simulate --integrator bdf``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from tankeco.sim.engine import IntegrationError, Tank


class ReferenceTank(Tank):
    """A :class:`Tank` whose chemistry is advanced by ``scipy.integrate.solve_ivp``.

    ``use_jacobian`` hands solve_ivp the model's analytic Jacobian (otherwise it builds
    one by finite differences, as solve_ivp does by default).
    """

    def __init__(
        self,
        *args,
        method: str = "BDF",
        atol_scale: float = 1.0,
        use_jacobian: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.method = method
        self.atol_scale = atol_scale
        self.use_jacobian = use_jacobian
        self.nfev = 0
        self.njev = 0

    def advance_to(self, t_end: float) -> None:
        if t_end <= self.t:
            return
        model, forcing, shape = self.model, self.forcing, self.m.shape

        def fun(_t, y):
            return model.rhs(y.reshape(shape), forcing).ravel()

        def jac(_t, y):
            return model.jacobian_dense(y.reshape(shape), forcing)

        k0 = self.k_out
        k1 = int(np.searchsorted(self.out_t, t_end + 1e-9 * max(1.0, t_end), side="right"))
        t_eval = self.out_t[k0:k1]
        if t_eval.size == 0 or t_eval[-1] < t_end:
            t_eval = np.append(t_eval, t_end)
        sol = solve_ivp(
            fun,
            (self.t, t_end),
            self.m.ravel(),
            method=self.method,
            rtol=self.rtol,
            atol=(self.atol * self.atol_scale).ravel(),
            jac=jac if self.use_jacobian else None,
            t_eval=t_eval,
        )
        if not sol.success:
            raise IntegrationError(
                f"solve_ivp ({self.method}) failed at day {self.t:.4f}: {sol.message}"
            )
        self.nfev += sol.nfev
        self.njev += sol.njev
        if k1 > k0:
            self.out_m[k0:k1] = sol.y[:, : k1 - k0].T.reshape((k1 - k0, *shape))
            self.out_flags[k0:k1] = self._flags()
            self.k_out = k1
        self.m = sol.y[:, -1].reshape(shape).copy()
        self._after_advance(t_end)
