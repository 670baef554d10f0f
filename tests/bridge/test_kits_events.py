import pytest

from tankeco import reasons
from tankeco.bridge.event_messages import make_event, parse_amount
from tankeco.bridge.manual_entries import make_manual_entry
from tankeco.reasons import Rejected


def entry(quantity: str, value: float, unit: str | None = None, kit: str = "api"):
    return make_manual_entry(
        ts_ms=1, site="home", tank="main", quantity=quantity, value=value, unit=unit, kit=kit
    )


@pytest.mark.parametrize("value", [0, 5, 10, 20, 40, 80, 160])
def test_api_nitrate_card_steps_are_on_card(value: float) -> None:
    e = entry("nitrate", value, "mg/L NO3")
    assert not e.off_card and e.value_entered == value and e.unit == "mg/L NO3-N"


def test_off_card_value_is_flagged_not_rounded() -> None:
    e = entry("nitrate", 25, "mg/L NO3")
    assert e.off_card and e.value_entered == 25.0
    assert abs(e.value - 25 / 4.427) < 1e-12


def test_card_step_entered_as_n_is_recognised() -> None:
    e = entry("nitrate", 20 / 4.427, "mg/L NO3-N")
    assert not e.off_card


def test_unit_defaults_to_the_card_unit() -> None:
    e = entry("nitrite", 0.5)
    assert e.unit_entered == "mg/L NO2" and not e.off_card
    assert entry("ammonia", 0.3).off_card


def test_ph_card_and_no_kit() -> None:
    assert not entry("ph", 8.2).off_card and entry("ph", 8.1).off_card
    no_kit = entry("nitrate", 23, "mg/L NO3", kit="")
    assert not no_kit.off_card and no_kit.kit == ""


def test_errors() -> None:
    with pytest.raises(Rejected) as e:
        entry("nitrate", 20, kit="")
    assert e.value.reason == reasons.UNKNOWN_UNIT
    with pytest.raises(Rejected, match="no colour card"):
        entry("nitrate", 20, "mg/L NO3", kit="tetra-magic")
    with pytest.raises(Rejected) as e:
        entry("nitrate", 5000, "mg/L NO3")
    assert e.value.reason == reasons.OUT_OF_RANGE


@pytest.mark.parametrize(
    "text,expected",
    [("30%", (30.0, "%")), ("2g", (2.0, "g")), ("2.5 mL", (2.5, "mL")), ("10l", (10.0, "L"))],
)
def test_parse_amount(text: str, expected: tuple[float, str]) -> None:
    assert parse_amount(text) == expected


def test_events_check_kind_unit_and_amount() -> None:
    e = make_event(ts_ms=1, site="h", tank="t", kind="water-change", amount=30.0, unit="%")
    assert e.kind == "water_change"
    for kind, amount, unit, reason in [
        ("water_change", 30, "g", reasons.UNKNOWN_UNIT),
        ("water_change", 0, "%", reasons.OUT_OF_RANGE),
        ("feeding", float("nan"), "g", reasons.NOT_A_NUMBER),
        ("party", 1, "g", reasons.BAD_SCHEMA),
    ]:
        with pytest.raises(Rejected) as exc:
            make_event(ts_ms=1, site="h", tank="t", kind=kind, amount=amount, unit=unit)
        assert exc.value.reason == reason
    with pytest.raises(Rejected):
        parse_amount("lots")
