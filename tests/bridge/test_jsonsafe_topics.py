import pytest

from tankeco import reasons
from tankeco.bridge import topics
from tankeco.bridge.jsonsafe import decode_json_object, decode_text, loads_strict
from tankeco.reasons import Rejected


@pytest.mark.parametrize(
    "payload,reason",
    [
        (b'{"value": NaN}', reasons.JSON_NONFINITE),
        (b'{"value": Infinity}', reasons.JSON_NONFINITE),
        (b'{"value": -Infinity}', reasons.JSON_NONFINITE),
        (b'{"value": 1, "value": 2}', reasons.JSON_DUPLICATE_KEY),
        (b'{"a": {"b": 1, "b": 1}}', reasons.JSON_DUPLICATE_KEY),
        (b"\xff\xfe\x00", reasons.NOT_UTF8),
        (b'{"value": 1', reasons.INVALID_JSON),
        (b"[1, 2]", reasons.BAD_SCHEMA),
        (b"[" * 100_000, reasons.OVERSIZE),
        (b"[" * 10_000, reasons.INVALID_JSON),
    ],
)
def test_strict_json_rejections(payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as e:
        decode_json_object(payload)
    assert e.value.reason == reason


def test_plain_json_passes_and_big_numbers_stay_numbers() -> None:
    assert decode_json_object(b'{"v": 1, "value": 1e308}') == {"v": 1, "value": 1e308}
    assert loads_strict("1e999") == float("inf")  # overflow is caught later, as not_a_number


def test_size_limit_is_configurable() -> None:
    with pytest.raises(Rejected) as e:
        decode_text(b"x" * 11, max_bytes=10)
    assert e.value.reason == reasons.OVERSIZE
    assert decode_text(b"x" * 10, max_bytes=10) == "x" * 10


def test_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Rejected("because")


def test_native_topics_round_trip() -> None:
    t = topics.build("home", "main", "temp1", "state")
    assert t == "tankeco/v1/home/main/temp1/state"
    assert topics.parse(t) == topics.NativeTopic("home", "main", "temp1", "state")
    assert topics.parse("tankeco/v1/home/main/events").sensor is None
    assert topics.build("home", "main", None, "manual") == "tankeco/v1/home/main/manual"


@pytest.mark.parametrize(
    "topic",
    [
        "tankeco/v1/home/main/temp1/bogus",
        "tankeco/v1/home/main/state",
        "tankeco/v1/home/main/a/b/state",
        "tankeco/v1/ho me/main/t/state",
        "tankeco/v1//main/t/state",
        "other/home/main/t/state",
    ],
)
def test_bad_native_topics(topic: str) -> None:
    with pytest.raises(Rejected) as e:
        topics.parse(topic)
    assert e.value.reason == reasons.BAD_TOPIC


def test_build_refuses_wildcards() -> None:
    with pytest.raises(ValueError):
        topics.build("home", "#", "t", "state")
    with pytest.raises(ValueError):
        topics.build("home", "main", None, "state")
