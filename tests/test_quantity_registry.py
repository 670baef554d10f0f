"""The quantity registry (tankeco.units.quantities): one row per measured quantity."""

from __future__ import annotations

import re

import pytest

from tankeco.scenario import thresholds
from tankeco.units.parse import Nitrogen
from tankeco.units.quantities import MODEL_COLUMN, QUANTITIES, SENSOR_SIGMA, to_canonical


def test_free_ammonia_limit_is_eifac_0_02_mg_nh3_as_n() -> None:
    """EIFAC (1970) Tech. Pap. 11: 0.02 mg NH3/L; as N by hand: 0.02 x 14.007/17.031."""
    assert QUANTITIES["nh3_n"].threshold is not None
    assert QUANTITIES["nh3_n"].threshold.value == pytest.approx(0.016449, abs=5e-7)
    assert thresholds.FREE_NH3_N_MG_L == QUANTITIES["nh3_n"].threshold.value


def test_every_threshold_names_a_published_source_with_its_year() -> None:
    for q in QUANTITIES.values():
        if q.threshold is not None:
            assert re.search(r"\((19|20)\d\d\)", q.threshold.source), q.name
            assert q.low <= q.threshold.value <= q.high, q.name


def test_nitrogen_quantities_are_as_n_and_say_so_in_their_unit() -> None:
    for q in QUANTITIES.values():
        if isinstance(q.kind, Nitrogen):
            assert q.name.endswith("_n") and "-N" in q.unit, q.name
            assert to_canonical(q, 2.0, q.unit) == 2.0


def test_every_modelled_quantity_has_a_sensor_noise() -> None:
    assert set(SENSOR_SIGMA) == set(MODEL_COLUMN)
    assert all(s > 0 for s in SENSOR_SIGMA.values())
