from datetime import UTC, datetime, timedelta, timezone

import pytest

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.validate import (
    RECEIVE_TIME,
    JumpGuard,
    Validator,
    parse_number,
    parse_timestamp,
)
from tankeco.reasons import Rejected
from tankeco.units.quantities import lookup
from tests.bridge.helpers import NOW_MS, iso


def cand(value: object = 25.0, ts: object = None, **kw: object) -> Candidate:
    base: dict[str, object] = dict(
        site="home", tank="main", sensor="t1", quantity="temperature", value=value, unit="°C", ts=ts
    )
    base.update(kw)
    return Candidate(**base)  # type: ignore[arg-type]


def reason_of(c: Candidate, validator: Validator | None = None) -> str:
    with pytest.raises(Rejected) as e:
        (validator or Validator()).validate(c, NOW_MS)
    return e.value.reason


@pytest.mark.parametrize("raw", [None, "nan", "NaN", "None", "unavailable", "", "inf", 1e999])
def test_not_a_number(raw: object) -> None:
    assert reason_of(cand(raw)) == reasons.NOT_A_NUMBER


@pytest.mark.parametrize("raw", [True, [1], {"a": 1}])
def test_wrong_value_types(raw: object) -> None:
    assert reason_of(cand(raw)) == reasons.BAD_SCHEMA


def test_numeric_strings_are_numbers() -> None:
    assert parse_number(" 24.5 ") == 24.5
    assert parse_number(7) == 7.0


@pytest.mark.parametrize("raw,unit", [(85.0, "°C"), (-127.0, "°C"), ("85.00", "°C"), (185.0, "°F")])
def test_ds18b20_sentinels(raw: object, unit: str) -> None:
    assert reason_of(cand(raw, unit=unit)) == reasons.SENTINEL


def test_85_fahrenheit_is_a_real_temperature() -> None:
    r = Validator().validate(cand(85.0, unit="°F"), NOW_MS)
    assert abs(r.value - 29.444) < 1e-3 and r.unit == "°C"


@pytest.mark.parametrize(
    "quantity,value,unit",
    [
        ("temperature", 60.0, "°C"),
        ("ph", 14.5, "pH"),
        ("ec", -1.0, "µS/cm"),
        ("no3_n", 600, "mg/L N"),
    ],
)
def test_out_of_range(quantity: str, value: float, unit: str) -> None:
    assert reason_of(cand(value, quantity=quantity, unit=unit)) == reasons.OUT_OF_RANGE


def test_wrong_unit_shows_as_out_of_range_after_conversion() -> None:
    # 1200 mS/cm would be 1.2 million µS/cm: the device meant µS/cm.
    assert reason_of(cand(1200.0, quantity="ec", unit="mS/cm")) == reasons.OUT_OF_RANGE


def test_missing_timestamp_uses_receive_time_and_flags_it() -> None:
    r = Validator().validate(cand(25.0), NOW_MS)
    assert r.ts_ms == NOW_MS and RECEIVE_TIME in r.quality


@pytest.mark.parametrize(
    "ts,reason",
    [
        ("1970-01-01T00:00:05Z", reasons.TS_TOO_OLD),
        (5, reasons.TS_TOO_OLD),
        ("2000-01-01T00:00:00Z", reasons.TS_TOO_OLD),
        (iso(NOW_MS + 3_600_000), reasons.TS_FUTURE),
        ("yesterday", reasons.TS_INVALID),
        (float("nan"), reasons.TS_INVALID),
        ([2026], reasons.TS_INVALID),
        ("0001-01-01T00:00:00+01:00", reasons.TS_TOO_OLD),
        ("2026-13-01T00:00:00Z", reasons.TS_INVALID),
    ],
)
def test_bad_timestamps(ts: object, reason: str) -> None:
    assert reason_of(cand(25.0, ts=ts)) == reason


def test_timestamp_forms() -> None:
    assert parse_timestamp(iso(NOW_MS)) == NOW_MS
    assert parse_timestamp(NOW_MS / 1000) == NOW_MS
    assert parse_timestamp(NOW_MS) == NOW_MS
    berlin = timezone(timedelta(hours=1))
    assert parse_timestamp("2026-11-26T10:52:00", berlin) == NOW_MS
    assert parse_timestamp("2026-11-26T09:52:00") == NOW_MS


def test_small_clock_skew_is_tolerated() -> None:
    r = Validator().validate(cand(25.0, ts=iso(NOW_MS + 60_000)), NOW_MS)
    assert r.ts_ms == NOW_MS + 60_000


def test_impossible_jump_is_refused_and_the_next_good_value_accepted() -> None:
    v = Validator()
    t0 = NOW_MS - 600_000
    v.validate(cand(25.0, ts=iso(t0)), NOW_MS)
    assert reason_of(cand(35.0, ts=iso(t0 + 60_000)), v) == reasons.JUMP
    ok = v.validate(cand(25.3, ts=iso(t0 + 120_000)), NOW_MS)
    assert ok.value == 25.3


def test_slow_change_over_long_time_is_fine() -> None:
    v = Validator()
    t0 = NOW_MS - 600_000
    v.validate(cand(25.0, ts=iso(t0)), NOW_MS)
    assert v.validate(cand(30.0, ts=iso(t0 + 5 * 60_000)), NOW_MS).value == 30.0


def test_a_real_step_is_accepted_after_three_agreeing_readings() -> None:
    guard = JumpGuard(accept_after=3)
    q = lookup("ph")
    key = ("home", "main", "ph1", "ph")
    guard.check(key, q, 0, 7.0)
    for i in (1, 2):
        with pytest.raises(Rejected):
            guard.check(key, q, i * 10_000, 8.6)
    guard.check(key, q, 30_000, 8.6)  # third agreeing value: new baseline
    guard.check(key, q, 40_000, 8.65)
    with pytest.raises(Rejected):
        guard.check(key, q, 50_000, 7.0)


def test_jump_check_skipped_after_silence_and_for_backfill() -> None:
    guard = JumpGuard(stale_after_ms=1_800_000)
    q = lookup("temperature")
    key = ("home", "main", "t1", "temperature")
    guard.check(key, q, 0, 25.0)
    guard.check(key, q, 3_600_000, 15.0)  # an hour later: anything goes
    guard.check(key, q, 3_000_000, 40.0)  # older than last: buffered backlog, not compared


def test_jumps_are_tracked_per_sensor() -> None:
    v = Validator()
    t0 = NOW_MS - 600_000
    v.validate(cand(25.0, ts=iso(t0)), NOW_MS)
    assert v.validate(cand(15.0, ts=iso(t0 + 1000), sensor="t2"), NOW_MS).value == 15.0


def test_reading_fields() -> None:
    r = Validator().validate(
        cand("77", unit="°F", ts=iso(NOW_MS - 5000), seq=9, source="x:y"), NOW_MS
    )
    assert (r.ts_ms, r.value, r.unit, r.seq, r.source, r.quality) == (
        NOW_MS - 5000,
        25.0,
        "°C",
        9,
        "x:y",
        "ok",
    )
    assert r.received_ms == NOW_MS
    assert datetime.fromtimestamp(r.ts_ms / 1000, UTC).year == 2026


def test_unknown_quality_is_refused() -> None:
    assert reason_of(cand(25.0, quality="great")) == reasons.BAD_SCHEMA


def test_linear_calibration_applies_before_range() -> None:
    r = Validator().validate(cand(1000, quantity="ph", unit="pH", scale=0.007, offset=0.0), NOW_MS)
    assert abs(r.value - 7.0) < 1e-12


def test_receive_times_stay_unique_per_sensor() -> None:
    v = Validator()
    a = v.validate(cand(25.0), NOW_MS)
    b = v.validate(cand(25.0), NOW_MS)
    c = v.validate(cand(25.0, sensor="t2"), NOW_MS)
    assert (a.ts_ms, b.ts_ms, c.ts_ms) == (NOW_MS, NOW_MS + 1, NOW_MS)
