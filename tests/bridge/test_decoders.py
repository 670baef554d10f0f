import hashlib
import json
import tomllib

import pytest

from tankeco import reasons
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.bridge.mapping import parse_mapping
from tankeco.store import QUARANTINE_KEEP_BYTES, Batch
from tests.bridge.helpers import NOW_MS, TOPIC, iso, native
from tests.bridge.test_mapping import EXAMPLE


def ingest(ing: Ingestor, topic: str, payload: bytes, retain: bool = False) -> Batch:
    b = Batch()
    ing.ingest(Message(topic, payload, NOW_MS, retain), b)
    return b


@pytest.fixture
def ing() -> Ingestor:
    return Ingestor(parse_mapping(tomllib.loads(EXAMPLE)))


def test_native_state(ing: Ingestor) -> None:
    b = ingest(ing, TOPIC, native(25.06, seq=1234))
    (r,) = b.readings
    assert (r.site, r.tank, r.sensor, r.quantity, r.value, r.seq) == (
        "home", "main", "temp1", "temperature", 25.06, 1234
    )  # fmt: skip
    assert r.source == "ds18b20:28-000008bd38bf" and r.ts_ms == NOW_MS - 1000
    assert b.counters["messages"] == 1 and not b.quarantine


@pytest.mark.parametrize(
    "payload,reason",
    [
        (native(v=2), reasons.BAD_SCHEMA),
        (json.dumps({"v": 1, "value": 1}).encode(), reasons.BAD_SCHEMA),
        (native(seq=-5), reasons.BAD_SCHEMA),
        (native(seq="7"), reasons.BAD_SCHEMA),
        (native(source="ds"), reasons.BAD_SCHEMA),
        (native(85.0), reasons.SENTINEL),
        (native(None), reasons.NOT_A_NUMBER),
        (native(ts_ms=5000), reasons.TS_TOO_OLD),
        (native(unit="furlong"), reasons.UNKNOWN_UNIT),
        (native(quantity="mood"), reasons.UNKNOWN_QUANTITY),
        (b'{"v":1,"quantity":"temperature","value":NaN,"unit":"C"}', reasons.JSON_NONFINITE),
        (b'{"v":1,"v":1}', reasons.JSON_DUPLICATE_KEY),
        (b"\xc3\x28", reasons.NOT_UTF8),
        (b" " * 20_000, reasons.OVERSIZE),
    ],
)
def test_native_state_rejections_keep_topic_and_raw_bytes(
    ing: Ingestor, payload: bytes, reason: str
) -> None:
    b = ingest(ing, TOPIC, payload)
    assert not b.readings
    (q,) = b.quarantine
    kept = payload[:QUARANTINE_KEEP_BYTES]  # the whole payload when it is small
    assert (q.reason, q.topic, q.payload, q.received_ms) == (reason, TOPIC, kept, NOW_MS)
    assert (q.payload_size, q.payload_sha256) == (len(payload), hashlib.sha256(payload).hexdigest())


def test_native_meta_status_manual_events(ing: Ingestor) -> None:
    meta = ingest(
        ing, "tankeco/v1/home/main/temp1/meta", b'{"unit":"\\u00b0C","resolution":0.0625}'
    )
    assert json.loads(meta.sensor_states[0].meta_json or "")["resolution"] == 0.0625
    st = ingest(ing, "tankeco/v1/home/main/temp1/status", b"offline")
    assert st.sensor_states[0].status == "offline"
    assert ingest(ing, "tankeco/v1/home/main/temp1/status", b"sleepy").quarantine[0].reason == (
        reasons.BAD_SCHEMA
    )
    man = ingest(
        ing,
        "tankeco/v1/home/main/manual",
        json.dumps(
            {"v": 1, "quantity": "nitrate", "value": 25, "unit": "mg/L NO3", "kit": "api"}
        ).encode(),
    )
    (m,) = man.manual
    assert m.off_card and m.value_entered == 25 and abs(m.value - 25 / 4.427) < 1e-12
    assert m.ts_ms == NOW_MS
    ev = ingest(
        ing,
        "tankeco/v1/home/main/events",
        json.dumps(
            {"v": 1, "ts": iso(NOW_MS - 60_000), "kind": "water_change", "amount": 30, "unit": "%"}
        ).encode(),
    )
    (e,) = ev.events
    assert (e.kind, e.amount, e.unit, e.ts_ms) == ("water_change", 30.0, "%", NOW_MS - 60_000)
    bad = ingest(
        ing,
        "tankeco/v1/home/main/events",
        json.dumps({"v": 1, "kind": "water_change", "amount": 130, "unit": "%"}).encode(),
    )
    assert bad.quarantine[0].reason == reasons.OUT_OF_RANGE


def test_esphome_bare_numbers_and_nan(ing: Ingestor) -> None:
    t = "aquanode/sensor/water_temperature/state"
    (r,) = ingest(ing, t, b"24.8125").readings
    assert r.value == 24.8125 and r.sensor == "temp1" and "time_from_receiver" in r.quality
    assert r.ts_ms == NOW_MS and r.source == f"esphome:{t}"
    assert ingest(ing, t, b"nan").quarantine[0].reason == reasons.NOT_A_NUMBER


def test_retained_values_without_time_are_skipped(ing: Ingestor) -> None:
    b = ingest(ing, "aquanode/sensor/water_temperature/state", b"24.8", retain=True)
    assert not b.readings and not b.quarantine and b.counters["skipped_retained"] == 1


TASMOTA = {
    "Time": "2026-11-26T10:51:00",
    "DS18B20-1": {"Id": "0000AAAAAAAA", "Temperature": 30.1},
    "DS18B20-2": {"Id": "000008BD38BF", "Temperature": 77.0},
    "ANALOG": {"A0": 1250},
    "TempUnit": "F",
}


def test_tasmota_keys_probe_by_id_uses_tempunit_and_local_time(ing: Ingestor) -> None:
    b = ingest(ing, "tele/tank-node/SENSOR", json.dumps(TASMOTA).encode())
    temp, ph = b.readings
    assert temp.sensor == "temp2" and temp.value == 25.0 and temp.unit == "°C"
    assert temp.ts_ms == NOW_MS - 60_000  # 10:51 Berlin (UTC+1) is 09:51 UTC
    assert ph.sensor == "ph1" and abs(ph.value - (1250 * -0.0057 + 12)) < 1e-12
    assert ph.source == "tasmota:tele/tank-node/SENSOR:ANALOG:A0"


def test_tasmota_missing_probe_quarantined_others_kept(ing: Ingestor) -> None:
    msg = {k: v for k, v in TASMOTA.items() if k != "DS18B20-2"}
    b = ingest(ing, "tele/tank-node/SENSOR", json.dumps(msg).encode())
    assert [r.sensor for r in b.readings] == ["ph1"]
    (q,) = b.quarantine
    assert q.reason == reasons.BAD_SCHEMA and "000008BD38BF" in q.detail


def test_tasmota_bad_tempunit(ing: Ingestor) -> None:
    msg = dict(TASMOTA, TempUnit="K")
    assert ingest(ing, "tele/tank-node/SENSOR", json.dumps(msg).encode()).quarantine[0].reason == (
        reasons.UNKNOWN_UNIT
    )


def test_home_assistant_discovery_then_state(ing: Ingestor) -> None:
    cfg = {
        "name": "Aquarium pH",
        "~": "aquarium/ph",
        "stat_t": "~/state",
        "unit_of_meas": "pH",
        "dev_cla": "ph",
        "val_tpl": "{{ value_json.ph | float }}",
        "uniq_id": "aq-ph-1",
    }
    b = Batch()
    new = ing.ingest(
        Message("homeassistant/sensor/aquarium/ph/config", json.dumps(cfg).encode(), NOW_MS, True),
        b,
    )
    assert new == ["aquarium/ph/state"] and not b.quarantine
    assert "aquarium/ph/state" in ing.subscriptions()
    (r,) = ingest(ing, "aquarium/ph/state", b'{"ph": 7.42}').readings
    assert (r.sensor, r.quantity, r.value, r.unit) == ("ph2", "ph", 7.42, "pH")
    assert r.source == "homeassistant:aq-ph-1"
    assert (
        ingest(ing, "aquarium/ph/state", b'{"pH": 7.4}').quarantine[0].reason == reasons.BAD_SCHEMA
    )
    # Unclaimed configs are ignored, an empty config forgets the entity.
    assert (
        ingest(ing, "homeassistant/sensor/other/x/config", json.dumps(cfg).encode()).quarantine
        == []
    )
    ingest(ing, "homeassistant/sensor/aquarium/ph/config", b"")
    assert ingest(ing, "aquarium/ph/state", b"7.4").quarantine[0].reason == reasons.UNMAPPED


@pytest.mark.parametrize(
    "template",
    [
        "{{ value_json.ph * 2 }}",
        "{% for x in range(10) %}{% endfor %}",
        "{{ value_json.__class__.__mro__ }}x",
        "{{ states('sensor.x') }}",
    ],
)
def test_home_assistant_templates_are_never_evaluated(ing: Ingestor, template: str) -> None:
    cfg = {"stat_t": "aq/ph", "val_tpl": template, "dev_cla": "ph"}
    b = ingest(ing, "homeassistant/sensor/aquarium/ph/config", json.dumps(cfg).encode())
    assert b.quarantine[0].reason == reasons.UNSUPPORTED_TEMPLATE


def test_home_assistant_template_forms() -> None:
    from tankeco.bridge.decoders.homeassistant import parse_template

    assert parse_template(None) == (False, ())
    assert parse_template("{{ value }}") == (False, ())
    assert parse_template("{{value_json['a'].b[0]}}") == (True, ("a", "b", 0))


def test_unmapped_topic_is_quarantined(ing: Ingestor) -> None:
    assert ingest(ing, "random/topic", b"1").quarantine[0].reason == reasons.UNMAPPED


def test_one_bad_message_does_not_affect_its_neighbours(ing: Ingestor) -> None:
    b = Batch()
    for i, payload in enumerate([native(25.0, seq=1), native(85.0, seq=2), native(25.1, seq=3)]):
        ing.ingest(Message(TOPIC, payload, NOW_MS + i), b)
    assert [r.seq for r in b.readings] == [1, 3]
    assert [q.reason for q in b.quarantine] == [reasons.SENTINEL]
