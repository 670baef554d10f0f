"""Thousands of generated malformed payloads: no crash, and the right quarantine reason."""

from __future__ import annotations

import json
import math
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tankeco import reasons
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.bridge.mapping import parse_mapping
from tankeco.store import Batch
from tankeco.store.sqlite import SQLiteStore
from tests.bridge.helpers import NOW_MS, TOPIC, iso
from tests.bridge.test_mapping import EXAMPLE

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INGESTOR = Ingestor(parse_mapping(tomllib.loads(EXAMPLE)))
TOPICS = [
    TOPIC,
    "tankeco/v1/home/main/temp1/meta",
    "tankeco/v1/home/main/manual",
    "tankeco/v1/home/main/events",
    "tankeco/v1/home/main/temp1/status",
    "aquanode/sensor/water_temperature/state",
    "tele/tank-node/SENSOR",
    "homeassistant/sensor/aquarium/ph/config",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)


def one(topic: str, payload: bytes) -> Batch:
    b = Batch()
    ing = Ingestor(INGESTOR.mapping)  # fresh jump state per example
    ing.ingest(Message(topic, payload, NOW_MS), b)
    return b


def rows(b: Batch) -> int:
    return len(b.readings) + len(b.events) + len(b.manual) + len(b.sensor_states)


@FAST
@given(st.sampled_from(TOPICS), st.binary(max_size=300))
def test_any_bytes_never_crash_and_always_end_somewhere(topic: str, payload: bytes) -> None:
    b = one(topic, payload)
    assert b.counters["messages"] == 1
    if topic.endswith("/config"):
        return  # an unclaimed or malformed discovery config may be ignored or quarantined
    assert rows(b) + len(b.quarantine) >= 1
    for q in b.quarantine:
        assert q.reason in reasons.ALL and q.payload == payload


@FAST
@given(st.sampled_from(TOPICS), json_values)
def test_any_json_never_crashes(topic: str, doc: object) -> None:
    b = one(topic, json.dumps(doc).encode())
    for r in b.readings:
        assert math.isfinite(r.value)


@FAST
@given(st.binary(min_size=1, max_size=200).filter(lambda b: not _is_utf8(b)))
def test_non_utf8_is_quarantined_as_such(payload: bytes) -> None:
    (q,) = one(TOPIC, payload).quarantine
    assert q.reason == reasons.NOT_UTF8


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FAST
@given(
    st.sampled_from(["NaN", "Infinity", "-Infinity"]), st.sampled_from(["value", "seq", "extra"])
)
def test_nan_infinity_anywhere(constant: str, key: str) -> None:
    body = {"v": 1, "quantity": "temperature", "value": 25.0, "unit": "°C", key: "__C__"}
    payload = json.dumps(body).replace('"__C__"', constant).encode()
    (q,) = one(TOPIC, payload).quarantine
    assert q.reason == reasons.JSON_NONFINITE


@FAST
@given(st.sampled_from(["v", "value", "quantity", "unit", "ts"]), json_values)
def test_duplicate_keys(key: str, second: object) -> None:
    payload = b'{"v":1,"quantity":"temperature","value":25.0,"unit":"C","ts":"x",' + (
        f'"{key}":{json.dumps(second)}}}'.encode()
    )
    (q,) = one(TOPIC, payload).quarantine
    assert q.reason == reasons.JSON_DUPLICATE_KEY


def _state(value: object, **kw: object) -> bytes:
    body = {
        "v": 1,
        "ts": iso(NOW_MS - 1000),
        "seq": 1,
        "quantity": "temperature",
        "value": value,
        "unit": "°C",
    }
    body.update(kw)
    return json.dumps(body).encode()


@FAST
@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda v: not 0 <= v <= 45 and v not in (85, -127)
    )
)
def test_out_of_range_temperatures(value: float) -> None:
    (q,) = one(TOPIC, _state(value)).quarantine
    assert q.reason == reasons.OUT_OF_RANGE


@FAST
@given(st.sampled_from([85.0, -127.0, "85.0", "-127"]))
def test_sentinels(value: object) -> None:
    (q,) = one(TOPIC, _state(value)).quarantine
    assert q.reason == reasons.SENTINEL


@FAST
@given(st.integers(min_value=-(10**12), max_value=1_577_836_799))
def test_timestamps_before_2020(epoch_s: int) -> None:
    (q,) = one(TOPIC, _state(25.0, ts=epoch_s)).quarantine
    assert q.reason == reasons.TS_TOO_OLD


@FAST
@given(st.integers(min_value=NOW_MS + 301_000, max_value=10**15))
def test_timestamps_in_the_future(ts_ms: int) -> None:
    (q,) = one(TOPIC, _state(25.0, ts=ts_ms)).quarantine
    assert q.reason == reasons.TS_FUTURE


@FAST
@given(st.integers(min_value=16_385, max_value=100_000))
def test_oversize(size: int) -> None:
    (q,) = one(TOPIC, _state(25.0, pad="x" * size)).quarantine
    assert q.reason == reasons.OVERSIZE


@FAST
@given(st.floats(min_value=0, max_value=45).filter(lambda v: v not in (85.0, -127.0)))
def test_good_values_pass(value: float) -> None:
    b = one(TOPIC, _state(value))
    assert not b.quarantine and b.readings[0].value == value


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=60), min_size=1, max_size=40))
def test_generated_batches_land_in_the_store_quarantine(payloads: list[bytes]) -> None:
    store = SQLiteStore(":memory:")
    b = Batch()
    ing = Ingestor()
    for i, p in enumerate(payloads):
        ing.ingest(Message(TOPIC, p, NOW_MS + i), b)
    store.write(b)
    stored = store.quarantined()
    assert [(q.payload, q.reason) for q in stored] == [(q.payload, q.reason) for q in b.quarantine]
    assert store.counters()["quarantined"] == len(b.quarantine)
    store.close()
