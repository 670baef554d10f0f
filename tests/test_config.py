"""Scenario files: the shipped TOMLs, overrides, units at the edge, and one-line errors.

Every bad input a keeper is likely to type gets its own test that the message is one
line naming the key, the value and what is allowed: that message is all he will see.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tankeco.errors import ScenarioError, UserError
from tankeco.scenario import params as model_params
from tankeco.scenario.loading import (
    apply_overrides,
    default_scenario_text,
    load_scenario,
    parse_scenario,
    validate_scenario,
)
from tankeco.scenario.schema import Scenario
from tankeco.units.parse import parse_quantity

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sims" / "seed_tank.toml"
FISHLESS = ROOT / "sims" / "fishless_cycling.toml"
EMBEDDED = ROOT / "tankeco" / "data" / "seed_tank.toml"


def one_line_error(exc: UserError, *fragments: str) -> str:
    """The message, checked to be one line containing every fragment."""
    message = str(exc)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def set_error(*overrides: str) -> ScenarioError:
    """The error the seed tank gives with these overrides."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, overrides)
    return info.value


def toml_error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    return info.value


# --- the shipped scenarios ------------------------------------------------------------


def test_embedded_default_is_the_seed_tank():
    s = load_scenario()
    assert s == load_scenario(SEED)
    assert s.scenario.name == "seed tank"
    assert (s.tank.length_cm, s.tank.width_cm, s.tank.water_depth_cm) == (60, 40, 25)
    assert (s.bed.depth_cm, s.bed.grain_min_mm, s.bed.grain_max_mm) == (8, 5, 15)
    turtle, fish = s.animals
    assert (turtle.kind, turtle.count, turtle.body_mass_g) == ("turtle", 1, 300)
    assert (fish.kind, fish.count, fish.body_mass_g) == ("fish", 6, 5)
    pellets, flakes = s.feeds
    assert pellets.amount_g == pytest.approx(2.0) and pellets.interval_d == 2
    assert flakes.amount_g == pytest.approx(0.01 * 6 * 5) and flakes.interval_d == 1
    assert s.tap.no3_n_mg_l == 2.0 and s.tap.alk_mg_l_caco3 == 150
    assert s.water_changes.fraction == 0.25 and s.water_changes.interval_d == 7
    assert s.start.state == "mature" and s.pump.flow_l_h == 1000
    assert default_scenario_text() == SEED.read_text(encoding="utf-8")


def test_shipped_seed_tank_files_are_identical():
    assert EMBEDDED.read_bytes() == SEED.read_bytes()


def test_fishless_cycling_loads():
    s = load_scenario(FISHLESS)
    assert s.start.state == "new"
    assert s.animals == [] and s.feeds == []
    assert s.dosing.enabled and s.dosing.target_tan_mg_l == 2.0
    assert s.dosing.threshold_tan_mg_l == 0.25 and s.dosing.interval_d == 1
    assert not s.water_changes.enabled


def test_derived_volumes_of_the_seed_tank():
    s = load_scenario()
    assert s.bed_area_m2 == pytest.approx(0.24)
    assert s.water_volume_l == pytest.approx(60.0)
    assert s.bed_volume_l == pytest.approx(19.2)
    assert s.pore_volume_l == pytest.approx(19.2 * 0.45)
    assert s.total_water_l == pytest.approx(60.0 + 19.2 * 0.45)
    # geometric 6(1 - eps)/d with d = 10 mm
    assert s.bed.specific_surface_effective_m2_m3 == pytest.approx(6 * 0.55 / 0.010)
    given_area = load_scenario(None, ["bed.specific_surface_m2_m3=0.5 m2/L"])
    assert given_area.bed.specific_surface_effective_m2_m3 == pytest.approx(500.0)


def test_an_empty_file_is_the_schema_defaults():
    s = parse_scenario("")
    assert s == Scenario()
    assert s.animals == [] and s.params == {}


def test_scenario_is_frozen():
    s = load_scenario()
    with pytest.raises(ValueError):
        s.tank.length_cm = 80  # type: ignore[misc]


# --- overrides ------------------------------------------------------------------------


def test_overrides_set_fields_params_and_list_items():
    s = load_scenario(
        None,
        [
            "tank.length_cm=80",
            "animals[1].count=2",
            "feeds[1].amount_g=3",
            "params.mu_max_aob_d=1.2",
            "simulation.days = 30",
            "scenario.name=2024",  # a text field keeps the text, not the integer
            "animals[0].name=Shelly the turtle",
            "tap.no3_n_mg_l=40 ppm NO3",  # units need no quotes on the command line
        ],
    )
    assert s.tank.length_cm == 80
    assert s.animals[1].count == 2 and s.feeds[1].amount_g == 3
    assert s.params == {"mu_max_aob_d": 1.2}
    assert s.parameters["mu_max_aob_d"] == 1.2
    assert s.parameters["k_min_d"] == model_params.defaults()["k_min_d"]
    assert s.simulation.days == 30
    assert s.scenario.name == "2024" and s.animals[0].name == "Shelly the turtle"
    assert s.tap.no3_n_mg_l == pytest.approx(40 / 4.427)


def test_overrides_create_tables_and_replace_lists():
    s = load_scenario(
        FISHLESS,
        [
            "pump.random_outages={mtbf_d=30, mttr_h=4}",
            "pump.outages=[{start_d=10, duration_h=6}]",
            "pump.outages[0].duration_h=8",
            'animals=[{kind="fish", count=3, body_mass_g=2}]',
        ],
    )
    assert s.pump.random_outages is not None and s.pump.random_outages.mtbf_d == 30
    assert s.pump.outages[0].start_d == 10 and s.pump.outages[0].duration_h == 8
    assert s.animals[0].count == 3


def test_apply_overrides_returns_a_new_scenario():
    base = load_scenario()
    changed = apply_overrides(base, ["water_changes.fraction=10%", "params.k_min_d=0.3"])
    assert changed.water_changes.fraction == pytest.approx(0.1)
    assert changed.params == {"k_min_d": 0.3}
    assert base.water_changes.fraction == 0.25 and base.params == {}
    assert apply_overrides(base, []) == base


# --- units at the edge ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("tap.no3_n_mg_l", "40 ppm NO3", 9.04),
        ("tap.no3_n_mg_l", "9 mg/L NO3-N", 9.0),
        ("tap.no3_n_mg_l", "2 mg N/L", 2.0),
        ("tap.no2_n_mg_l", "1 mg/L NO2", 1 / 3.284),
        ("tap.tan_mg_l", "1.288 mg/L NH4", 1.0),
        ("dosing.target_tan_mg_l", "2 ppm NH3", 2 / 1.216),
        ("tap.alk_mg_l_caco3", "6 dKH", 6 * 17.848),
        ("tap.alk_mg_l_caco3", "2 meq/L", 100.08),
        ("temperature.setpoint_c", "77 °F", 25.0),
        ("temperature.setpoint_c", "298.15 K", 25.0),
        ("water_changes.fraction", "25%", 0.25),
        ("bed.porosity", "45 %", 0.45),
        ("tank.length_cm", "24 in", 60.96),
        ("bed.grain_max_mm", "1.5 cm", 15.0),
        ("animals[0].body_mass_g", "0.3 kg", 300.0),
        ("pump.flow_l_h", "100 gph", 378.54),
        ("pump.flow_l_h", "1 m3/h", 1000.0),
        ("water_changes.interval_d", "1 wk", 7.0),
        ("pump.outages[0].duration_h", "90 min", 1.5),
        ("simulation.days", "12 wk", 84.0),
        ("tank.evaporation_mm_d", "0.2 cm/d", 2.0),
    ],
)
def test_unit_conversion(key: str, text: str, expected: float):
    assert parse_quantity(key, text) == pytest.approx(expected, abs=0.005)


def test_plain_numbers_are_in_the_unit_of_the_key():
    assert parse_quantity("tank.length_cm", 60) == 60.0
    assert parse_quantity("water_changes.fraction", 0.25) == 0.25
    assert parse_quantity("tank.length_cm", "60") == 60.0


def test_units_in_a_scenario_file():
    s = parse_scenario(
        """
        [tap]
        no3_n_mg_l = "40 ppm NO3"
        alk_mg_l_caco3 = "6 dKH"
        [temperature]
        setpoint_c = "77 °F"
        [water_changes]
        fraction = "25%"
        """
    )
    assert s.tap.no3_n_mg_l == pytest.approx(9.04, abs=0.005)
    assert s.tap.alk_mg_l_caco3 == pytest.approx(107.088)
    assert s.temperature.setpoint_c == pytest.approx(25.0)
    assert s.water_changes.fraction == 0.25


# --- one test per bad input -----------------------------------------------------------


def test_unknown_key():
    exc = toml_error("[tank]\nlenght_cm = 70\n")
    assert exc.key == "tank.lenght_cm" and exc.value == 70
    one_line_error(
        exc, "tank.lenght_cm = 70", "unknown key", "did you mean 'length_cm'", "allowed: length_cm"
    )


def test_unknown_section_in_a_file():
    exc = toml_error("[tanks]\nlength_cm = 70\n")
    one_line_error(exc, "tanks = ", "unknown section", "allowed: scenario, tank, bed")


def test_unknown_key_in_an_override():
    exc = set_error("tank.lenght_cm=70")
    one_line_error(exc, "tank.lenght_cm = '70'", "unknown key", "allowed: length_cm, width_cm")


def test_wrong_type():
    exc = toml_error('[tank]\nlength_cm = "sixty"\n')
    one_line_error(exc, "tank.length_cm = 'sixty'", "expected a number in cm")


def test_wrong_type_for_a_switch():
    exc = set_error("water_changes.enabled=yes")
    one_line_error(exc, "water_changes.enabled = 'yes'", "expected true or false")


def test_wrong_literal():
    exc = set_error("animals[0].kind=dog")
    one_line_error(exc, "animals[0].kind = 'dog'", "one of 'turtle', 'fish'")


def test_missing_required_key():
    exc = toml_error("[[animals]]\ncount = 1\nbody_mass_g = 5\n")
    assert exc.key == "animals[0].kind"
    one_line_error(exc, "animals[0].kind = (not given)", "required", "'turtle', 'fish'")


def test_negative_value():
    exc = set_error("tank.width_cm=-40")
    assert exc.key == "tank.width_cm" and exc.value == -40
    one_line_error(exc, "tank.width_cm = -40", "allowed more than 0 cm")


def test_negative_value_with_a_unit_shows_what_it_was_converted_to():
    exc = set_error("tank.width_cm=-2 in")
    one_line_error(exc, "tank.width_cm = '-2 in'", "allowed more than 0 cm", "got -5.08 cm")


def test_negative_count():
    exc = set_error("animals[1].count=-1")
    one_line_error(exc, "animals[1].count = -1", "allowed 0 or more")


def test_fractional_count():
    exc = set_error("animals[1].count=1.5")
    one_line_error(exc, "animals[1].count = 1.5", "expected a whole number")


def test_water_deeper_than_the_tank():
    exc = set_error("tank.water_depth_cm=35")
    assert exc.key == "tank.water_depth_cm"
    one_line_error(exc, "tank.water_depth_cm = 35", "at most 32 cm above the 8 cm bed")


def test_bed_deeper_than_the_tank():
    exc = set_error("bed.depth_cm=45")
    one_line_error(exc, "bed.depth_cm = 45", "less than tank.height_cm (40 cm)")


def test_fraction_above_one():
    exc = set_error("water_changes.fraction=1.5")
    one_line_error(exc, "water_changes.fraction = 1.5", "up to 1", "'25%'")


def test_value_out_of_a_closed_range():
    exc = set_error("temperature.setpoint_c=45")
    one_line_error(exc, "temperature.setpoint_c = 45", "allowed 0 to 40 °C")


def test_time_of_day_24_is_tomorrow():
    exc = set_error("lights.on_h=24")
    one_line_error(exc, "lights.on_h = 24", "allowed 0 to less than 24 h")


def test_lights_on_equals_off():
    exc = set_error("lights.off_h=8")
    one_line_error(exc, "lights.off_h = 8", "on_h (8 h)")


def test_dosing_threshold_not_below_target():
    exc = set_error("dosing.threshold_tan_mg_l=2")
    one_line_error(exc, "dosing.threshold_tan_mg_l = 2", "less than target_tan_mg_l (2 mg N/L)")


def test_grain_range_reversed():
    exc = set_error("bed.grain_max_mm=4")
    one_line_error(exc, "bed.grain_max_mm = 4", "at least grain_min_mm (5 mm)")


def test_unknown_unit():
    exc = set_error("tank.length_cm=2 ft")
    assert exc.key == "tank.length_cm" and exc.value == "2 ft"
    one_line_error(exc, "tank.length_cm = '2 ft'", "unknown unit 'ft'; allowed: mm, cm, m, in")


def test_unit_on_a_unitless_key():
    exc = set_error("tap.ph=7 pH")
    one_line_error(exc, "tap.ph = '7 pH'", "plain number")


def test_basis_mismatch():
    exc = set_error("tap.no3_n_mg_l=5 mg/L NO2")
    one_line_error(
        exc, "tap.no3_n_mg_l = '5 mg/L NO2'", "nitrite", "nitrate as N", "allowed:", "mg/L NO3"
    )


def test_missing_file(tmp_path: Path):
    path = tmp_path / "no_such.toml"
    with pytest.raises(UserError) as info:
        load_scenario(path)
    one_line_error(info.value, str(path), "no such scenario file")


def test_directory_instead_of_file(tmp_path: Path):
    with pytest.raises(UserError) as info:
        load_scenario(tmp_path)
    one_line_error(info.value, str(tmp_path), "is a directory")


def test_unreadable_toml(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text("[tank\nlength_cm = 60\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_scenario(path)
    one_line_error(info.value, f"{path}: not valid TOML: ", "line 1")


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[scenario]\nname = "Aquarium für Schildkröte"\n'.encode("latin-1"))
    with pytest.raises(UserError) as info:
        load_scenario(path)
    one_line_error(info.value, f"{path}: not valid TOML: not UTF-8")


def test_unknown_param():
    exc = set_error("params.mu_max_aob_dd=1")
    assert exc.key == "params.mu_max_aob_dd"
    one_line_error(
        exc,
        "params.mu_max_aob_dd = 1",
        "unknown parameter",
        "did you mean 'mu_max_aob_d'",
        "'tankeco params' lists them",
    )


def test_out_of_range_param():
    exc = toml_error("[params]\nmu_max_aob_d = 99\n")
    assert exc.key == "params.mu_max_aob_d" and exc.value == 99
    one_line_error(exc, "params.mu_max_aob_d = 99", "allowed 0.1 to 3 1/d")


def test_param_not_a_number():
    exc = set_error("params.k_min_d=fast")
    one_line_error(exc, "params.k_min_d = 'fast'", "expected a number in 1/d")


@pytest.mark.parametrize("text", ["tank.length_cm", "=60", "tank..length_cm=60", "tank[x].a=1"])
def test_bad_set_syntax(text: str):
    exc = set_error(text)
    one_line_error(exc, f"--set = {text!r}", "expected SECTION.KEY=VALUE")


def test_override_index_out_of_range():
    exc = set_error("animals[5].count=2")
    one_line_error(exc, "animals[5].count = '2'", "no item 5", "indices 0 to 1")


def test_override_into_a_value():
    exc = set_error("tank.length_cm.x=2")
    one_line_error(exc, "tank.length_cm.x", "is a value, not a table")


def test_several_problems_report_the_first_and_count_the_rest():
    exc = set_error("tank.length_cm=-1", "tank.width_cm=-1")
    one_line_error(exc, "tank.length_cm = -1", "and 1 more problem")


def test_validate_scenario_reports_plain_data_the_same_way():
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"feeds": [{"name": "x", "eaten_by": "cat"}]})
    one_line_error(info.value, "feeds[0].eaten_by = 'cat'", "'turtle', 'fish'")


# --- writing ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SEED, FISHLESS])
def test_to_toml_round_trip_of_shipped_files(path: Path):
    s = load_scenario(path)
    assert parse_scenario(s.to_toml()) == s


def test_to_toml_round_trip_of_every_kind_of_value():
    s = load_scenario(
        None,
        [
            'scenario.description="quotes \\" and \\\\ backslash\\nand a new line\\ttab"',
            "start.tan_mg_l=0.1",
            "bed.specific_surface_m2_m3=1e-3",
            "pump.outages=[{start_d=1.25, duration_h=0.1}, {start_d=3, duration_h=12}]",
            "pump.random_outages={mtbf_d=30, mttr_h=4, seed=7}",
            "params.mu_max_aob_d=0.3333333333333333",
            "params.d_o2_m2_s=2.5e-9",
            "simulation.seed=42",
            "water_changes.enabled=false",
        ],
    )
    assert parse_scenario(s.to_toml()) == s


@settings(max_examples=50, deadline=None)
@given(name=st.text(max_size=30), description=st.text(max_size=60))
def test_to_toml_round_trips_any_text(name: str, description: str):
    s = Scenario.model_validate({"scenario": {"name": name, "description": description}})
    assert parse_scenario(s.to_toml()) == s
