"""Sizes a keeper can buy: standard drill bits and standard pipe bores.

``layout tune`` searches continuous ranges; what it prescribes must be drillable and
buyable, so every candidate's hole diameter is taken to the nearest drill of a series
and its pipe bores to the nearest inner diameter of a pipe series before it is solved.

Drill series
------------
* ``metric``: 1.0 to 10.0 mm in 0.5 mm steps, the sizes of the common 19-piece
  DIN 338 (ISO 235 jobber length) twist-drill set; ISO 235 itself lists jobber drills
  in 0.1 mm steps, so every size here is a standard one.
* ``inch``: fractional drills, 1/16 to 1/2 in in 1/64 in steps (the fractional series of
  ASME B94.11M, twist drills).

Pipe series (inner diameters)
-----------------------------
* ``metric``: PVC-U pressure pipe to ISO 1452-2 (EN 1452-2) of outer diameter 12, 16,
  20, 25, 32 and 40 mm in class PN 16 (SDR 13.6): wall e = d / 13.6 rounded up to
  0.1 mm, bore d - 2e, i.e. 10.2, 13.6, 17.0, 21.2, 27.2 and 34.0 mm.
* ``inch``: PVC schedule 40 pipe to ASTM D1785, 1/4 to 1 1/4 in nominal, bores as
  tabulated by :mod:`fluids.piping` (schedule ``40D1785``): 9.25, 12.52, 15.80, 20.93,
  26.64 and 35.05 mm.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from fluids.piping import schedule_lookup

from tankeco.errors import ScenarioError

Series = Literal["metric", "inch"]
SERIES: tuple[str, ...] = ("metric", "inch")

#: ISO 1452-2 PVC-U outer diameters (mm) and the PN 16 standard dimension ratio
PVC_U_OUTER_MM = (12.0, 16.0, 20.0, 25.0, 32.0, 40.0)
PVC_U_PN16_SDR = 13.6

#: ASTM D1785 schedule 40 nominal sizes used (in)
SCHEDULE_40_NPS = (0.25, 0.375, 0.5, 0.75, 1.0, 1.25)


def drill_sizes_mm(series: Series) -> np.ndarray:
    """The drill diameters of a series, mm, ascending."""
    if series == "metric":
        return np.round(np.arange(1.0, 10.0 + 1e-9, 0.5), 3)
    if series == "inch":
        return np.arange(4, 33) / 64 * 25.4
    raise ScenarioError("--series", series, "allowed: " + ", ".join(SERIES))


def pipe_bores_mm(series: Series) -> np.ndarray:
    """Inner diameters (mm) of the pipe series, ascending."""
    if series == "metric":
        walls = [math.ceil(d / PVC_U_PN16_SDR * 10 - 1e-9) / 10 for d in PVC_U_OUTER_MM]
        return np.array([d - 2 * e for d, e in zip(PVC_U_OUTER_MM, walls, strict=True)])
    if series == "inch":
        nps, di_mm, _, _ = schedule_lookup["40D1785"]
        table = dict(zip(nps, di_mm, strict=True))
        return np.array([table[n] for n in SCHEDULE_40_NPS])
    raise ScenarioError("--series", series, "allowed: " + ", ".join(SERIES))


def pipe_name(series: Series, bore_mm: float) -> str:
    """A shop name for a bore of the series, e.g. ``PVC-U 20 mm PN16`` or ``1/2 in sch 40``."""
    bores = pipe_bores_mm(series)
    i = int(np.argmin(np.abs(bores - bore_mm)))
    if series == "metric":
        return f"PVC-U d{PVC_U_OUTER_MM[i]:g} PN16 (bore {bores[i]:.1f} mm)"
    nps = SCHEDULE_40_NPS[i]
    whole, frac = int(nps), nps - int(nps)
    text = (f"{whole} " if whole else "") + (_fraction(frac) if frac else "")
    return f"{text.strip()} in sch 40 PVC (bore {bores[i]:.1f} mm)"


def drill_name(series: Series, diameter_mm: float) -> str:
    """``4.5 mm`` or ``11/64 in (4.37 mm)``."""
    if series == "metric":
        return f"{diameter_mm:g} mm drill"
    sixty_fourths = round(diameter_mm / 25.4 * 64)
    return f"{_fraction(sixty_fourths / 64)} in drill ({diameter_mm:.2f} mm)"


def _fraction(value: float) -> str:
    n, d = round(value * 64), 64
    while n % 2 == 0 and d > 1:
        n, d = n // 2, d // 2
    return f"{n}/{d}"


def nearest(sizes: np.ndarray, value: float) -> float:
    """The size of ``sizes`` closest to ``value``."""
    return float(sizes[int(np.argmin(np.abs(sizes - value)))])
