"""How real aquarium sensors distort the true value: pure functions of a seeded numpy RNG.

Each model takes arrays of true values (and times) and a :class:`numpy.random.Generator`
and returns what the sensor would report, so the same seed always gives the same stream
and a test can check each behaviour (quantisation, error codes, drift) on its own.
Values and parameters carry their units in their names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tankeco.units.molar import NH3_PER_NH3_N

#: DS18B20 at 12-bit resolution reports multiples of 1/16 °C.
DS18B20_STEP_C = 0.0625
#: Power-on value of the scratchpad, reported when a conversion was not waited for.
DS18B20_POWER_ON_C = 85.0
#: What the common drivers report when the probe does not answer (loose wire).
DS18B20_DISCONNECTED_C = -127.0


@dataclass(frozen=True)
class Ds18b20:
    """A DS18B20 probe: a fixed calibration offset, a little noise, 1/16 °C steps, and now and
    then one of its two error codes instead of a temperature.

    The datasheet allows ±0.5 °C; real probes in water are usually within ±0.2 °C of each
    other, so the offset is drawn small (:meth:`draw`).
    """

    offset_c: float = 0.0
    noise_sd_c: float = 0.02
    #: Probability that one reading is an error code instead of a temperature.
    sentinel_rate: float = 0.001
    #: Share of the error codes that are −127 (disconnected) rather than 85.0 (power-on).
    disconnected_share: float = 0.3

    @classmethod
    def draw(cls, rng: np.random.Generator, sentinel_rate: float = 0.001) -> Ds18b20:
        """One probe with its own calibration offset (N(0, 0.1 °C), within ±0.25 °C)."""
        offset_c = float(np.clip(rng.normal(0.0, 0.1), -0.25, 0.25))
        return cls(offset_c=offset_c, sentinel_rate=sentinel_rate)

    def read(self, true_c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Reported temperatures (°C) for the true ones; error codes included."""
        true_c = np.asarray(true_c, dtype=float)
        n = true_c.size
        measured_c = true_c + self.offset_c + rng.normal(0.0, self.noise_sd_c, n)
        measured_c = np.round(measured_c / DS18B20_STEP_C) * DS18B20_STEP_C
        error = rng.random(n) < self.sentinel_rate
        disconnected = rng.random(n) < self.disconnected_share
        measured_c[error] = np.where(
            disconnected[error], DS18B20_DISCONNECTED_C, DS18B20_POWER_ON_C
        )
        return measured_c


def is_ds18b20_sentinel(value_c: np.ndarray) -> np.ndarray:
    """True where a reported temperature is one of the DS18B20 error codes."""
    v = np.asarray(value_c, dtype=float)
    return (v == DS18B20_POWER_ON_C) | (v == DS18B20_DISCONNECTED_C)


@dataclass(frozen=True)
class PhProbe:
    """A glass pH electrode after a two-point calibration: noise, and a slow drift.

    The drift is a steady trend (the reference junction ageing) plus a random walk (the
    gel and the junction potential wandering), held within ±``max_drift_ph`` — beyond that
    a keeper recalibrates, and a probe that far off is what the comparison with the
    model should show, not hide.  Values are continuous; the format rounds them as the
    device would (display decimals, or ADC counts).
    """

    noise_sd_ph: float = 0.015
    drift_rate_ph_per_d: float = 0.0
    walk_sd_ph_per_sqrt_d: float = 0.01
    max_drift_ph: float = 0.15

    @classmethod
    def draw(cls, rng: np.random.Generator) -> PhProbe:
        """A probe with its own drift trend, up to ±0.004 pH/day (≈ 0.1 pH a month)."""
        return cls(drift_rate_ph_per_d=float(rng.uniform(-0.004, 0.004)))

    def drift_ph(self, t_d: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Calibration drift at the (ascending) times ``t_d`` since calibration, bounded."""
        t_d = np.asarray(t_d, dtype=float)
        if t_d.size == 0:
            return np.zeros(0)
        dt_d = np.diff(t_d, prepend=t_d[0])
        walk_ph = np.cumsum(rng.normal(0.0, 1.0, t_d.size) * self.walk_sd_ph_per_sqrt_d
                            * np.sqrt(np.maximum(dt_d, 0.0)))  # fmt: skip
        drift = self.drift_rate_ph_per_d * t_d + walk_ph
        return np.clip(drift, -self.max_drift_ph, self.max_drift_ph)

    def read(self, t_d: np.ndarray, true_ph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Reported pH at ascending times ``t_d`` (days since calibration)."""
        true_ph = np.asarray(true_ph, dtype=float)
        drift = self.drift_ph(t_d, rng)
        return true_ph + drift + rng.normal(0.0, self.noise_sd_ph, true_ph.size)


@dataclass(frozen=True)
class FreeAmmoniaMonitor:
    """A Seneye-like free-ammonia monitor: reports free NH3 as ion (mg/L NH3), 0.001 steps.

    It sees only the un-ionised NH3, which at pH 7.5 is about 1 % of the total ammonia
    the kits measure — the bridge keeps it as its own quantity (``nh3_n``).  Noise is an
    absolute floor plus a relative part; it never reports a negative value.
    """

    noise_floor_mg_l_nh3: float = 0.001
    noise_rel: float = 0.05
    resolution_mg_l_nh3: float = 0.001

    def read(self, true_nh3_n_mg_l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Reported free ammonia, mg/L NH3 (as ion), from the true value as N."""
        nh3_mg_l = np.asarray(true_nh3_n_mg_l, dtype=float) * NH3_PER_NH3_N
        sd = np.hypot(self.noise_floor_mg_l_nh3, self.noise_rel * nh3_mg_l)
        measured = nh3_mg_l + rng.normal(0.0, 1.0, nh3_mg_l.size) * sd
        measured = np.round(measured / self.resolution_mg_l_nh3) * self.resolution_mg_l_nh3
        return np.maximum(measured, 0.0)


def read_colour_card(
    true_value: float,
    steps: tuple[float, ...],
    rng: np.random.Generator,
    eye_sd_log: float = 0.2,
) -> float:
    """The card step a keeper picks for a test-kit tube whose true value is ``true_value``.

    Colour changes roughly with the logarithm of concentration, so the eye misjudges by a
    factor (log-normal, ``eye_sd_log``) and matches the nearest step on a log scale
    (offset by half the first non-zero step, so 0 is a colour like any other).  The
    answer is always one of ``steps`` (in the card's own unit, like ``true_value``).
    """
    positive = [s for s in steps if s > 0]
    c0 = 0.5 * min(positive) if positive else 1.0
    seen = max(true_value, 0.0) * float(np.exp(rng.normal(0.0, eye_sd_log)))
    card = np.asarray(steps, dtype=float)
    return float(card[np.argmin(np.abs(np.log(seen + c0) - np.log(card + c0)))])


@dataclass(frozen=True)
class Dropouts:
    """Times the node is off the network (Wi-Fi lost, brown-out): nothing is published.

    Outages start as a Poisson process (``rate_per_d``) and last an exponential time
    (mean ``mean_duration_min``); readings that fall inside are simply not there, which
    is what a node without an offline buffer leaves in the store.
    """

    rate_per_d: float = 0.5
    mean_duration_min: float = 15.0

    def gaps_d(self, days: float, rng: np.random.Generator) -> np.ndarray:
        """(k, 2) array of [start, end) outage intervals within ``days``, in days."""
        if self.rate_per_d <= 0 or days <= 0:
            return np.zeros((0, 2))
        n = rng.poisson(self.rate_per_d * days)
        starts = np.sort(rng.uniform(0.0, days, n))
        durations = rng.exponential(self.mean_duration_min / 1440.0, n)
        return np.column_stack([starts, starts + durations])


def in_gaps(t_d: np.ndarray, gaps_d: np.ndarray) -> np.ndarray:
    """True where a time falls inside one of the outage intervals."""
    t_d = np.asarray(t_d, dtype=float)
    mask = np.zeros(t_d.shape, dtype=bool)
    for start, end in gaps_d:
        mask |= (t_d >= start) & (t_d < end)
    return mask


@dataclass(frozen=True)
class ClockSkew:
    """The node's clock: NTP-set but a few seconds off, with a little jitter per reading.

    The offset is what makes de-duplication on the device's own timestamp (not the
    receive time) matter; it must stay well inside the bridge's 5-minute future limit.
    """

    offset_s: float = 0.0
    jitter_sd_ms: float = 20.0

    @classmethod
    def draw(cls, rng: np.random.Generator, max_offset_s: float = 5.0) -> ClockSkew:
        return cls(offset_s=float(rng.uniform(-max_offset_s, max_offset_s)))

    def stamp_ms(self, start_ms: int, t_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Device timestamps (epoch ms) for true times ``t_s`` seconds after ``start_ms``."""
        t_s = np.asarray(t_s, dtype=float)
        jitter_ms = rng.normal(0.0, self.jitter_sd_ms, t_s.size)
        return np.round(start_ms + (t_s + self.offset_s) * 1000.0 + jitter_ms).astype(np.int64)
