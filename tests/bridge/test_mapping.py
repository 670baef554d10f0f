from pathlib import Path

import pytest

from tankeco.bridge.mapping import MappingError, load_mapping, parse_mapping

EXAMPLE = """
site = "home"

[[esphome]]
topic = "aquanode/sensor/water_temperature/state"
tank = "main"
sensor = "temp1"
quantity = "temperature"
unit = "°C"

[[tasmota]]
topic = "tele/tank-node/SENSOR"
timezone = "Europe/Berlin"

  [[tasmota.values]]
  block = "DS18B20"
  id = "000008BD38BF"
  tank = "main"
  sensor = "temp2"
  quantity = "temperature"

  [[tasmota.values]]
  block = "ANALOG"
  field = "A0"
  tank = "main"
  sensor = "ph1"
  quantity = "ph"
  unit = "pH"
  scale = -0.0057
  offset = 12

[[homeassistant]]
discovery = "homeassistant/sensor/aquarium/ph/config"
tank = "main"
sensor = "ph2"
"""


def test_example_mapping_loads(tmp_path: Path) -> None:
    f = tmp_path / "m.toml"
    f.write_text(EXAMPLE, encoding="utf-8")
    m = load_mapping(f)
    assert m.site == "home"
    assert m.esphome["aquanode/sensor/water_temperature/state"].sensor == "temp1"
    dev = m.tasmota["tele/tank-node/SENSOR"]
    assert str(dev.tz) == "Europe/Berlin"
    assert dev.values[0].field == "Temperature" and dev.values[0].id == "000008BD38BF"
    assert dev.values[1].target.scale == -0.0057 and dev.values[1].target.offset == 12.0
    assert m.homeassistant[0].target.quantity is None
    subs = m.subscriptions()
    assert "tankeco/v1/#" in subs and "tele/tank-node/SENSOR" in subs
    assert "homeassistant/+/+/config" in subs and "homeassistant/+/+/+/config" in subs


@pytest.mark.parametrize(
    "doc,message",
    [
        ('[[esphome]]\ntopic="a/b"\nsensor="s"\nquantity="ph"', "esphome[0].tank: missing"),
        ('[[esphome]]\ntopic="a/#"\ntank="t"\nsensor="s"\nquantity="ph"', "no wildcards"),
        ('[[esphome]]\ntopic="a/b"\ntank="t"\nsensor="s"\nquantity="temperature"', "unit: missing"),
        ('[[esphome]]\ntopic="a/b"\ntank="t"\nsensor="s"\nquantity="salt"', "quantity = 'salt'"),
        ('[[esphome]]\ntopic="a/b"\ntank="t t"\nsensor="s"\nquantity="ph"', "tank = 't t'"),
        ('[[tasmota]]\ntopic="tele/x/SENSOR"', "values: at least one"),
        (
            '[[tasmota]]\ntopic="t"\ntimezone="Mars/Olympus"\n[[tasmota.values]]\nblock="A"\n'
            'tank="t"\nsensor="s"\nquantity="ph"',
            "not an IANA zone",
        ),
        ('[[homeassistant]]\ntank="t"\nsensor="s"', "discovery (config topic) or unique_id"),
        ('sight = "home"', "sight: unknown key"),
        ("esphome = 3", "array of tables"),
        ('[[esphome]]\ntopic=5\ntank="t"\nsensor="s"\nquantity="ph"', "must be a str"),
    ],
)
def test_mapping_errors_name_the_key(doc: str, message: str) -> None:
    import tomllib

    with pytest.raises(MappingError) as e:
        parse_mapping(tomllib.loads(doc))
    assert message in str(e.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("site = ", encoding="utf-8")
    with pytest.raises(MappingError, match="bad.toml"):
        load_mapping(bad)
