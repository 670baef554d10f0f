"""The sensor models on their own: quantisation, error codes, drift, noise, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from tankeco.node.sensors import (
    DS18B20_DISCONNECTED_C,
    DS18B20_POWER_ON_C,
    DS18B20_STEP_C,
    ClockSkew,
    Dropouts,
    Ds18b20,
    FreeAmmoniaMonitor,
    PhProbe,
    in_gaps,
    is_ds18b20_sentinel,
    read_colour_card,
)
from tankeco.units.kits import KITS


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_ds18b20_reports_sixteenth_degree_steps_near_the_truth() -> None:
    true_c = np.linspace(20.0, 30.0, 5000)
    probe = Ds18b20(offset_c=0.1, sentinel_rate=0.0)
    v = probe.read(true_c, rng())
    assert np.allclose(v / DS18B20_STEP_C, np.round(v / DS18B20_STEP_C), atol=1e-12)
    err = v - true_c - 0.1
    assert np.abs(err).max() <= DS18B20_STEP_C / 2 + 5 * probe.noise_sd_c
    assert abs(err.mean()) < 0.01


def test_ds18b20_error_codes_come_at_the_seeded_rate() -> None:
    n, rate = 200_000, 0.01
    v = Ds18b20(sentinel_rate=rate).read(np.full(n, 25.0), rng(7))
    codes = is_ds18b20_sentinel(v)
    expected, sd = n * rate, np.sqrt(n * rate * (1 - rate))
    assert abs(codes.sum() - expected) < 4 * sd
    disconnected = (v == DS18B20_DISCONNECTED_C).sum() / codes.sum()
    assert 0.25 < disconnected < 0.35
    assert set(np.unique(v[codes])) == {DS18B20_POWER_ON_C, DS18B20_DISCONNECTED_C}
    assert np.all(np.abs(v[~codes] - 25.0) < 1.0)


def test_ds18b20_is_reproducible_with_its_seed() -> None:
    true_c = np.full(10_000, 24.3)
    a = Ds18b20(sentinel_rate=0.01).read(true_c, rng(3))
    b = Ds18b20(sentinel_rate=0.01).read(true_c, rng(3))
    c = Ds18b20(sentinel_rate=0.01).read(true_c, rng(4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert Ds18b20.draw(rng(5)) == Ds18b20.draw(rng(5))
    assert abs(Ds18b20.draw(rng(6)).offset_c) <= 0.25


def test_ph_drift_stays_within_its_bound_even_for_a_wild_probe() -> None:
    t_d = np.linspace(0.0, 365.0, 365 * 24 * 4)
    probe = PhProbe(drift_rate_ph_per_d=0.01, walk_sd_ph_per_sqrt_d=0.05, max_drift_ph=0.15)
    for seed in range(5):
        drift = probe.drift_ph(t_d, rng(seed))
        assert np.abs(drift).max() <= 0.15 + 1e-12
        assert np.abs(drift).max() > 0.1  # it does drift, up to the bound
    assert probe.drift_ph(t_d, rng(1))[0] == pytest.approx(0.0, abs=1e-12)


def test_ph_trend_without_walk_is_linear_and_noise_has_its_spread() -> None:
    t_d = np.linspace(0.0, 10.0, 20_001)
    probe = PhProbe(noise_sd_ph=0.02, drift_rate_ph_per_d=0.003, walk_sd_ph_per_sqrt_d=0.0)
    assert np.allclose(probe.drift_ph(t_d, rng()), 0.003 * t_d)
    v = probe.read(t_d, np.full(t_d.size, 7.5), rng(2))
    resid = v - 7.5 - 0.003 * t_d
    assert abs(resid.std() - 0.02) < 0.001
    assert np.array_equal(v, probe.read(t_d, np.full(t_d.size, 7.5), rng(2)))


def test_free_ammonia_monitor_reports_ion_basis_never_negative() -> None:
    true_n = np.full(50_000, 0.02)  # mg/L NH3-N
    v = FreeAmmoniaMonitor().read(true_n, rng(1))
    assert v.min() >= 0.0
    assert np.allclose(v * 1000, np.round(v * 1000), atol=1e-9)
    assert v.mean() == pytest.approx(0.02 * 1.216, rel=0.01)
    zero = FreeAmmoniaMonitor().read(np.zeros(1000), rng(1))
    assert zero.min() == 0.0 and (zero > 0).any()


def test_colour_card_reading_is_always_a_step_and_usually_the_right_one() -> None:
    steps = KITS[("api", "no3_n")].steps
    g = rng(9)
    reads = [read_colour_card(30.0, steps, g) for _ in range(2000)]
    assert set(reads) <= set(steps)
    assert set(reads) <= {10, 20, 40, 80}
    assert reads.count(20) + reads.count(40) > 1800
    assert read_colour_card(40.0, steps, g, eye_sd_log=0.0) == 40
    assert read_colour_card(0.0, steps, g, eye_sd_log=0.0) == 0
    assert read_colour_card(1000.0, steps, g, eye_sd_log=0.0) == 160


def test_dropouts_make_gaps_inside_the_run_at_their_rate() -> None:
    gaps = Dropouts(rate_per_d=2.0, mean_duration_min=30).gaps_d(500.0, rng(4))
    assert abs(len(gaps) - 1000) < 4 * np.sqrt(1000)
    assert np.all(gaps[:, 0] >= 0) and np.all(gaps[:, 0] <= 500) and np.all(gaps[:, 1] > gaps[:, 0])
    assert np.mean(gaps[:, 1] - gaps[:, 0]) * 1440 == pytest.approx(30, rel=0.1)
    t = np.array([gaps[0, 0], (gaps[0, 0] + gaps[0, 1]) / 2, gaps[0, 1] + 1e-9])
    assert in_gaps(t, gaps[:1]).tolist() == [True, True, False]
    assert len(Dropouts(rate_per_d=0.0).gaps_d(100.0, rng())) == 0


def test_clock_skew_is_a_few_seconds_and_seeded() -> None:
    skews = [ClockSkew.draw(rng(s), max_offset_s=5.0) for s in range(50)]
    assert all(abs(c.offset_s) <= 5.0 for c in skews)
    assert len({c.offset_s for c in skews}) == 50
    clock = ClockSkew(offset_s=3.0, jitter_sd_ms=20.0)
    stamps = clock.stamp_ms(1_800_000_000_000, np.arange(0, 6000, 60.0), rng(1))
    expected = 1_800_000_000_000 + np.arange(0, 6000, 60.0) * 1000 + 3000
    assert np.abs(stamps - expected).max() < 100
    assert stamps.dtype == np.int64 and np.all(np.diff(stamps) > 0)
