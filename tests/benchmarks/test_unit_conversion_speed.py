"""Unit conversion at the bridge: one reading's value to its canonical unit.

Run with ``python3 -m pytest tests/benchmarks --benchmark-only -s``.  Every reading the
bridge accepts goes through :func:`tankeco.units.quantities.to_canonical`, so its cost is
part of the bridge's per-message budget (5000 msg/s, i.e. 200 us each, in
``test_bridge_throughput``).  The unit text is resolved once per spelling and cached; the
target here is that a conversion stays a small share of that budget.
"""

from __future__ import annotations

import pytest

from tankeco.units.quantities import lookup, to_canonical
from tests.benchmarks.harness import target

#: What devices and keepers send: a probe in °C, a kit in mg/L NO3, pH, a TAN probe.
READINGS = (
    ("temperature", 25.1, "°C"),
    ("no3_n", 20.0, "mg/L NO3"),
    ("ph", 7.2, "pH"),
    ("tan_n", 0.1, "mg/L TAN-N"),
)
#: Share of the bridge's 200 us per message one conversion may take.
TARGET_US = 20.0


@pytest.mark.parametrize(("name", "value", "unit"), READINGS)
def test_to_canonical_speed(benchmark, name: str, value: float, unit: str) -> None:
    quantity = lookup(name)
    benchmark(to_canonical, quantity, value, unit)
    median_us = benchmark.stats.stats.median * 1e6  # the median: robust to a busy machine
    what = f"to_canonical({name}, {unit!r}): {median_us:.2f} us median (target < {TARGET_US:g})"
    print(f"\n{what}")
    target(median_us < TARGET_US, what)
