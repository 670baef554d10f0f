"""One short simulation of the seed tank, shared by the virtual-node tests (~1 s)."""

from __future__ import annotations

import pytest

from tankeco.scenario.loading import load_scenario
from tankeco.sim.engine import simulate
from tankeco.sim.results import Results

#: Simulated days: long enough for a weekly kit reading and a water change (day 7.42).
DAYS = 8.0


@pytest.fixture(scope="session")
def seed_results() -> Results:
    return simulate(load_scenario(None, []), DAYS)
