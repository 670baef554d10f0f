"""Samples the state on the output grid from the integrator's accepted steps.

The recorder interpolates linearly inside each accepted step, which keeps every sampled
concentration non-negative (a convex combination of two non-negative states) and lets the
integrator take steps longer than the output interval.
"""

from __future__ import annotations

import numpy as np


class Recorder:
    """Collects (time, state, pump, light, volume) at t = 0, step, 2 step, ..."""

    def __init__(self, model, step_d: float):
        self.model = model
        self.step_d = float(step_d)
        self.times: list[float] = []
        self.states: list[np.ndarray] = []
        self.flags: list[tuple[bool, bool, float]] = []
        self._next_k = 0

    def _grid(self, k: int) -> float:
        return k * self.step_d

    def record(self, t: float, y: np.ndarray, forcing) -> None:
        self.times.append(t)
        self.states.append(np.array(y, copy=True))
        self.flags.append((forcing.pump_on, forcing.light_on, forcing.water_volume_l))
        self._next_k += 1

    def on_step(self, t0: float, y0: np.ndarray, t1: float, y1: np.ndarray, forcing) -> None:
        """Record every grid time in (t0, t1] by linear interpolation."""
        tol = 1e-9 * max(1.0, t1)
        while self._grid(self._next_k) <= t1 + tol:
            t = self._grid(self._next_k)
            w = 0.0 if t1 == t0 else min(1.0, max(0.0, (t - t0) / (t1 - t0)))
            self.record(t, (1.0 - w) * y0 + w * y1, forcing)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """times (n,), states (n, nstate), flags (n, 3) as arrays."""
        return (np.asarray(self.times), np.vstack(self.states), np.asarray(self.flags, dtype=float))
