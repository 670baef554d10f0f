"""Pump head-flow curves.

Three forms, each giving the head the pump adds, H(Q) in m, and its slope dH/dQ:

* ``label``: what a small aquarium pump's box states, the maximum flow Q0 at zero head
  and the shut-off head H0, joined by ``H = H0 (1 - (Q/Q0)^2)`` (hobby pump labels;
  the shape of a centrifugal pump at constant speed, Karassik et al. 2008
  Pump Handbook, 4th ed., ch. 2).
* ``points`` with one or three points: EPANET's power function
  ``H = A - B Q^C`` (Rossman et al. 2020, EPANET 2.2 User Manual §3.1, "Pump curves"):
  one design point (Q1, H1) gives A = 4/3 H1, C = 2 and zero head at 2 Q1; three points
  (0, H0), (Q1, H1), (Q2, H2) are fitted exactly.
* ``points`` with two or more than three points: straight lines between the points
  (EPANET's multi-point curve), extended past the last point along the last segment.

A fixed head is a flat curve; a fixed flow is not a curve at all (the network takes the
flow as an injection at the pump outlet, see :class:`tankeco.hydraulics.network.Pump`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tankeco.errors import ScenarioError


@dataclass(frozen=True)
class PumpCurve:
    """H(Q) = a - b |Q|^c sign(Q) (power form) or piecewise linear through points."""

    a_m: float
    b: float
    c: float
    points_q_m3_s: tuple[float, ...] = ()
    points_h_m: tuple[float, ...] = ()

    @property
    def shutoff_head_m(self) -> float:
        """Head at zero flow."""
        return self.points_h_m[0] if self.points_q_m3_s else self.a_m

    def head_m(self, q_m3_s: float) -> tuple[float, float]:
        """(head added, dH/dQ) at flow ``q_m3_s``."""
        if self.points_q_m3_s:
            q = np.asarray(self.points_q_m3_s)
            h = np.asarray(self.points_h_m)
            i = int(np.clip(np.searchsorted(q, q_m3_s) - 1, 0, len(q) - 2))
            slope = (h[i + 1] - h[i]) / (q[i + 1] - q[i])
            return float(h[i] + slope * (q_m3_s - q[i])), float(slope)
        aq = abs(q_m3_s)
        if aq == 0.0:
            return self.a_m, (-self.b if self.c == 1.0 else 0.0)
        return (
            self.a_m - self.b * aq**self.c * math.copysign(1.0, q_m3_s),
            -self.b * self.c * aq ** (self.c - 1.0),
        )


def label_curve(max_flow_m3_s: float, shutoff_head_m: float) -> PumpCurve:
    """``H = H0 (1 - (Q/Q0)^2)`` from the label's maximum flow and shut-off head."""
    if not max_flow_m3_s > 0:
        raise ScenarioError("pump.max_flow_l_h", max_flow_m3_s * 3.6e6, "allowed more than 0")
    if not shutoff_head_m > 0:
        raise ScenarioError("pump.shutoff_head_m", shutoff_head_m, "allowed more than 0 m")
    return PumpCurve(shutoff_head_m, shutoff_head_m / max_flow_m3_s**2, 2.0)


def fixed_head(head_m: float) -> PumpCurve:
    """A pump that adds ``head_m`` at any flow (an idealised constant-pressure source)."""
    if not head_m > 0:
        raise ScenarioError("pump.head_m", head_m, "allowed more than 0 m")
    return PumpCurve(head_m, 0.0, 1.0)


def points_curve(q_m3_s: list[float], h_m: list[float]) -> PumpCurve:
    """A curve through measured points (flow ascending, head descending).

    One or three points use EPANET's power function; other counts are piecewise linear.
    """
    q = [float(v) for v in q_m3_s]
    h = [float(v) for v in h_m]
    shown = [[round(a * 3.6e6, 6), b] for a, b in zip(q, h, strict=True)]
    if any(b <= a for a, b in zip(q, q[1:], strict=False)) or any(v < 0 for v in q):
        raise ScenarioError("pump.curve", shown, "flows must be 0 or more and rise point by point")
    if any(b >= a for a, b in zip(h, h[1:], strict=False)):
        raise ScenarioError("pump.curve", shown, "heads must fall as the flow rises")
    if len(q) == 1:
        if not (q[0] > 0 and h[0] > 0):
            raise ScenarioError(
                "pump.curve", shown, "a single design point needs flow and head > 0"
            )
        a = 4.0 / 3.0 * h[0]
        return PumpCurve(a, (a - h[0]) / q[0] ** 2, 2.0)
    if len(q) == 3 and q[0] == 0.0:
        # EPANET 2.2 (curves.c / powercurve): C = ln((A-H1)/(A-H2)) / ln(Q1/Q2), B = (A-H1)/Q1^C
        a = h[0]
        c = math.log((a - h[1]) / (a - h[2])) / math.log(q[1] / q[2])
        if c > 0:
            return PumpCurve(a, (a - h[1]) / q[1] ** c, c)
    if q[0] != 0.0:
        raise ScenarioError(
            "pump.curve", shown, "start with the shut-off point (0 L/h, head) or give one point"
        )
    return PumpCurve(h[0], 0.0, 1.0, tuple(q), tuple(h))
