r"""A momentum-dominated perforated pipe against a closed-form solution.

Derivation.  A dead-ended pipe of cross-section A and length L, fed at x = 0 with
negligible friction and ideal pressure regain, keeps its total head along the pipe:
``h(x) + V(x)^2 / 2g = H0``.  N holes of area a and discharge coefficient Cd, spread
evenly, let out per unit length ``-A dV/dx = (N Cd a / L) sqrt(2 g h)``
``= (N Cd a / L) sqrt(2 g H0 - V^2)``.  Put ``V = sqrt(2 g H0) sin(theta)`` and s = x/L:
``-A sqrt(2gH0) cos(theta) dtheta/ds = N Cd a sqrt(2gH0) cos(theta)``, so
``dtheta/ds = -M`` with ``M = Cd N a / A`` (the area ratio of Bajura & Jones 1976).  The dead
end has V(1) = 0, hence ``theta(s) = M (1 - s)`` and

    V(s) = sqrt(2 g H0) sin(M (1 - s)),      Q_in = A sqrt(2 g H0) sin(M).

The hole centred at s_k = (k - 1/2)/N drains the stretch s_k +- 1/(2N):

    q_k / Q_in = 2 cos(M (1 - s_k)) sin(M / 2N) / sin(M),

so the first hole gets cos(M) of the last one's flow (the first hole gets *less*: the
static head rises along the pipe as the velocity falls).  The discrete network approaches
this as N grows (hole spacing and the small Crane run losses of each hole vanish as 1/N).
"""

from __future__ import annotations

import numpy as np
import pytest

from tankeco.hydraulics.solver import SolveOptions, Solver

from .helpers import straight_header

#: the derivation's port law: a constant Cd on the static head (not Rawn's, which
#: lowers Cd with the header's velocity head; see test_kernel for that law)
STATIC_HEAD = SolveOptions(port="constant")


def _closed_form(n: int, m: float) -> np.ndarray:
    s = (np.arange(n) + 0.5) / n
    return 2 * np.cos(m * (1 - s)) * np.sin(m / (2 * n)) / np.sin(m)


def _momentum_pipe(n: int, m: float, pipe_d_m: float = 0.02):
    area = np.pi / 4 * pipe_d_m**2
    hole_area = m * area / (0.61 * n)
    hole_d = np.sqrt(4 * hole_area / np.pi)
    # 1 nm segments: friction negligible, only momentum shapes the distribution
    return straight_header(n, pipe_d_m, hole_d, segment_m=1e-9, roughness_m=0.0)


@pytest.mark.parametrize("m", [0.6, 1.0])
def test_hole_shares_match_closed_form(m):
    n = 64
    sol = Solver(_momentum_pipe(n, m), STATIC_HEAD).solve()
    q = sol.hole_flow_m3_s
    share = q / q.sum()
    assert np.max(np.abs(share / _closed_form(n, m) - 1)) < 0.005
    assert q[0] / q[-1] == pytest.approx(np.cos(m), rel=0.03)
    assert np.all(np.diff(q) > 0)  # every hole gets more than the one before


def test_error_shrinks_like_one_over_n():
    errs = []
    for n in (16, 64):
        q = Solver(_momentum_pipe(n, 1.0), STATIC_HEAD).solve().hole_flow_m3_s
        errs.append(np.max(np.abs(q / q.sum() / _closed_form(n, 1.0) - 1)))
    assert errs[1] < errs[0] / 3


def test_friction_only_mode_misses_the_regain():
    net = _momentum_pipe(32, 1.0)
    q = Solver(net, SolveOptions(mode="friction")).solve().hole_flow_m3_s
    # no velocity head, no friction: every hole sees the same head
    assert np.ptp(q) / q.mean() < 1e-6
