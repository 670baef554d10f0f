"""The summary also reads ammonia, nitrite and nitrate in the API kit's card units.

Issue 11, point 10: the summary gave only mg N/L, while the API cards read total ammonia
"as NH3", nitrite "as NO2" and nitrate "as NO3".  Expected values from the molar masses
(IUPAC 2021 standard atomic weights: N 14.007, H 1.008, O 15.999), computed here by hand:
NH3/N = 17.031/14.007, NO2/N = 46.005/14.007, NO3/N = 62.004/14.007.
"""

from __future__ import annotations

import pytest

from tankeco.io.summary_table import on_kit


@pytest.mark.parametrize(
    ("quantity", "value_n", "expected", "unit"),
    [
        ("tan_n", 1.0, 17.031 / 14.007, "mg/L NH3"),
        ("no2_n", 1.0, 46.005 / 14.007, "mg/L NO2"),
        ("no3_n", 10.0, 10 * 62.004 / 14.007, "mg/L NO3"),
    ],
)
def test_value_as_n_on_the_api_card(quantity: str, value_n: float, expected: float, unit: str):
    text = on_kit(quantity, value_n)
    number = float(text.split()[1])
    assert number == pytest.approx(expected, rel=5e-3)  # printed to 3 significant digits
    assert f"{unit} on the api card" in text
