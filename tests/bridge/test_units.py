import math

import pytest

from tankeco import reasons
from tankeco.reasons import Rejected
from tankeco.units.quantities import QUANTITIES, lookup, to_canonical


@pytest.mark.parametrize(
    "quantity,value,unit,expected",
    [
        ("temperature", 77.0, "°F", 25.0),
        ("temperature", 77.0, "F", 25.0),
        ("temperature", 298.15, "K", 25.0),
        ("temperature", 25.0, "°C", 25.0),
        ("ec", 1.2, "mS/cm", 1200.0),
        ("ec", 1200.0, "uS/cm", 1200.0),
        ("ec", 1200.0, "\u03bcS/cm", 1200.0),  # Greek mu
        ("tds", 300.0, "ppm", 300.0),
        ("no3_n", 20.0, "mg/L NO3", 20.0 / 4.427),
        ("no3_n", 20.0, "ppm NO3", 20.0 / 4.427),
        ("no3_n", 4.5, "mg/L NO3-N", 4.5),
        ("no3_n", 4.5, "mg/L as N", 4.5),
        ("no3_n", 4.5, "ppm NO3 as N", 4.5),
        ("no2_n", 1.0, "mg/L NO2", 1.0 / 3.284),
        ("tan_n", 1.0, "mg/L NH4", 1.0 / 1.288),
        ("tan_n", 1.0, "mg/L NH3", 1.0 / 1.216),
        ("tan_n", 1.0, "mg/L NH4-N", 1.0),
        ("nh3_n", 0.02, "mg/L NH3 (free)", 0.02 / 1.216),
        ("nh3_n", 0.02, "ppm NH3", 0.02 / 1.216),
    ],
)
def test_conversions(quantity: str, value: float, unit: str, expected: float) -> None:
    assert math.isclose(to_canonical(lookup(quantity), value, unit), expected, rel_tol=1e-12)


def test_kit_factors_agree_with_references() -> None:
    # Hach technical note TE387: NO3-N = NO3 / 4.427 (× 0.2259); NO2 × 0.3045, NH3 × 0.822,
    # NH4 × 0.776 are 14.007/46.005, 14.007/17.031, 14.007/18.039 worked by hand.
    for q, unit, factor in [
        ("no3_n", "mg/L NO3", 0.2259),
        ("no2_n", "mg/L NO2", 0.3045),
        ("tan_n", "mg/L NH3", 0.822),
        ("tan_n", "mg/L NH4", 0.776),
    ]:
        assert math.isclose(to_canonical(lookup(q), 1.0, unit), factor, rel_tol=1e-3)


@pytest.mark.parametrize("unit", ["mg/L", "ppm", ""])
def test_nitrogen_without_basis_is_refused_with_a_hint(unit: str) -> None:
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("nitrate"), 20.0, unit)
    assert e.value.reason == reasons.UNKNOWN_UNIT
    assert "basis" in e.value.detail


def test_free_ammonia_is_not_total_ammonia() -> None:
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("tan_n"), 0.02, "mg/L NH3 (free)")
    assert e.value.reason == reasons.UNKNOWN_UNIT and "free" in e.value.detail


def test_unknown_unit_and_quantity() -> None:
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("temperature"), 1.0, "furlongs")
    assert e.value.reason == reasons.UNKNOWN_UNIT
    with pytest.raises(Rejected) as e:
        lookup("salinity_of_tears")
    assert e.value.reason == reasons.UNKNOWN_QUANTITY
    assert lookup("Nitrate").name == "no3_n" and lookup("temp").name == "temperature"


def test_every_canonical_unit_converts_to_itself() -> None:
    for q in QUANTITIES.values():
        assert to_canonical(q, 1.5, q.unit) == 1.5


@pytest.mark.parametrize(
    ("quantity", "unit", "expected"),
    [
        ("no3_n", " ppm  NO3 ", 1 / 4.427),
        ("no3_n", "mg/l N-NO3", 1.0),
        ("no3_n", "mg NO3-N/L", 1.0),
        ("tan_n", "mg/L TAN-N", 1.0),
        ("nh3_n", "mg/L NH3-N (free)", 1.0),
        ("do", "mg/L", 1.0),
        ("tds", "g/L", 1000.0),
    ],
)
def test_unit_spellings(quantity: str, unit: str, expected: float) -> None:
    assert math.isclose(to_canonical(lookup(quantity), 1.0, unit), expected, rel_tol=1e-12)


def test_nitrogen_without_basis_offers_both_bases() -> None:
    """Issue 11 point 2: the bridge gives the same one-line advice as every other entry."""
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("nitrate"), 40.0, "ppm")
    assert e.value.detail == (
        "no3_n: nitrate needs its basis: write '40 ppm NO3' (as the ion, API cards) "
        "or '40 mg/L NO3-N' (as nitrogen)"
    )


def test_a_basis_of_another_species_is_refused() -> None:
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("no3_n"), 1.0, "mg/L NO2")
    assert e.value.reason == reasons.UNKNOWN_UNIT
    assert "nitrite but quantity no3_n holds nitrate as N" in e.value.detail
    with pytest.raises(Rejected) as e:
        to_canonical(lookup("nh3_n"), 1.0, "mg/L NH4")
    assert "free ammonia" in e.value.detail
