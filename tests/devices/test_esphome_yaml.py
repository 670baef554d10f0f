"""The ESPHome configuration for the same node: well-formed and consistent with the bridge."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tankeco.bridge.ingest import Ingestor, Message
from tankeco.bridge.mapping import parse_mapping
from tankeco.store import Batch
from tests.bridge.helpers import NOW_MS

YAML_FILE = Path(__file__).resolve().parents[2] / "firmware/esphome/tankeco-node.yaml"


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!secret", lambda loader, node: f"<secret {loader.construct_scalar(node)}>")


def load() -> dict[str, Any]:
    return yaml.load(YAML_FILE.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506


def object_id(name: str) -> str:
    """ESPHome's object id: lower case, anything but a-z0-9 becomes _."""
    return re.sub(r"[^a-z0-9]", "_", name.lower())


def test_secrets_are_not_in_the_file_and_mqtt_has_birth_and_will() -> None:
    cfg = load()
    assert cfg["wifi"]["password"].startswith("<secret") and cfg["mqtt"]["password"].startswith(
        "<secret"
    )
    will, birth = cfg["mqtt"]["will_message"], cfg["mqtt"]["birth_message"]
    assert (will["payload"], will["retain"], birth["payload"]) == ("offline", True, "online")
    assert any(t["platform"] == "sntp" for t in cfg["time"])


def test_sensors_drop_sentinels_calibrate_ph_and_compensate_ec() -> None:
    sensors = {s.get("id"): s for s in load()["sensor"]}
    temp = sensors["water_temperature"]
    assert temp["platform"] == "dallas_temp" and temp["resolution"] == 12
    flt = temp["filters"][0]["lambda"]
    assert "85.0f" in flt and "-127.0f" in flt and "return {}" in flt
    cal = [f for f in sensors["ph"]["filters"] if "calibrate_linear" in f][0]["calibrate_linear"]
    assert len(cal) == 2 and {p.split("->")[1].strip() for p in cal} == {"7.0", "4.0"}
    ec = sensors["conductivity"]
    assert ec["unit_of_measurement"] == "µS/cm" and "0.02f" in ec["lambda"]


def test_the_mapping_example_in_the_comments_maps_this_node() -> None:
    text = YAML_FILE.read_text(encoding="utf-8")
    toml_lines = [ln[4:] for ln in text.splitlines() if ln.startswith("#   ")]
    mapping = parse_mapping(tomllib.loads("\n".join(toml_lines)))
    cfg = load()
    prefix = cfg["mqtt"]["topic_prefix"]
    temp = [s for s in cfg["sensor"] if s.get("id") == "water_temperature"][0]
    topic = f"{prefix}/sensor/{object_id(temp['name'])}/state"
    assert topic in mapping.esphome
    batch = Batch()
    Ingestor(mapping).ingest(Message(topic, b"24.5625", NOW_MS), batch)
    assert batch.readings[0].value == 24.5625 and not batch.quarantine
