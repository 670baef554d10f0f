"""The biofilm panel's log axis labels every line (issue 11, point 9).

Before: ticks at 1-2-5 only, so a seed-tank run with nitrifiers between 10 and 45 mg VSS
had the labels 10 and 20 and none near the ammonia oxidisers' line at 40-45.
"""

from __future__ import annotations

import numpy as np

from tankeco.io.report import log_locator


def _ticks_inside(lo: float, hi: float) -> list[float]:
    ticks = log_locator(np.array([lo, hi])).tick_values(lo, hi)
    return [float(t) for t in ticks if lo <= t <= hi]


def test_less_than_a_decade_gets_a_label_every_step() -> None:
    ticks = _ticks_inside(10.0, 45.0)
    assert ticks == [10.0, 15.0, 20.0, 30.0]  # 30 sits next to the line at 40-45


def test_many_decades_stay_readable() -> None:
    assert _ticks_inside(0.02, 100.0) == [0.1, 1.0, 10.0, 100.0]  # fishless cycling
    assert len(_ticks_inside(1.0, 100.0)) <= 7
