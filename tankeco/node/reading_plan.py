"""From a simulation's outputs to what the node will report, and when.

The simulator writes hourly rows; a node reads every minute or so.  Values between rows
are interpolated linearly (the chemistry moves slowly; a water change sits on an hourly
row in the seed tank).  Everything random is drawn here, once, from one seed split into
independent streams (:class:`numpy.random.SeedSequence`), so adding a sensor or changing
a cadence does not reshuffle the others, and the same seed gives the same plan.

Nothing here touches a network or a clock: the plan is data, and the formats and the
publisher only read it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tankeco.node.sensors import (
    ClockSkew,
    Dropouts,
    Ds18b20,
    FreeAmmoniaMonitor,
    PhProbe,
    in_gaps,
    read_colour_card,
)
from tankeco.units.kits import KITS
from tankeco.units.molar import MOLAR_MASS_N_G_MOL, MOLAR_MASS_NH4CL_G_MOL, NO3_PER_NO3_N

SECONDS_PER_DAY = 86_400.0
#: Sensor names on the node (the ``<sensor>`` topic segment of the native schema).
TEMP, PH, NH3 = "temp", "ph", "nh3"

#: mg N per mL of 10 % (w/w) household ammonia, density 0.958 g/mL: 95.8 mg NH3 × 14.007/17.031.
AMMONIA_SOLUTION_MG_N_PER_ML = 78.8
#: g NH4Cl per mg N: M(NH4Cl) / M(N) / 1000.
AMMONIUM_CHLORIDE_G_PER_MG_N = MOLAR_MASS_NH4CL_G_MOL / MOLAR_MASS_N_G_MOL / 1000.0

_FEED_GRAMS = re.compile(r"^(?P<name>.*):\s*(?P<g>[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?)\s*g$")
_BAKING_SODA_GRAMS = re.compile(r"^(?P<g>[0-9]+(?:\.[0-9]+)?) g baking soda")


@dataclass(frozen=True)
class NodeSettings:
    """What the node is and how it behaves; every number has its unit in the name."""

    start_ms: int
    days: float
    #: device-clock ms per simulated ms: 1 when the device clock follows simulated time;
    #: 1/speed for a live demo whose readings are stamped with the wall clock as sent
    clock_scale: float = 1.0
    site: str = "home"
    tank: str = "main"
    node: str = "vnode"
    seed: int = 0
    interval_s: float = 60.0
    #: The free-ammonia monitor measures much less often than a probe is read.
    ammonia_interval_s: float = 1800.0
    kit_first_d: float = 6.0 + 19.0 / 24.0
    kit_interval_d: float = 7.0
    sentinel_rate: float = 0.001
    dropout_rate_per_d: float = 0.5
    dropout_mean_min: float = 15.0
    max_clock_offset_s: float = 5.0
    #: What the scenario doses with, so a dose can be written in what a keeper measures out.
    dosing_chemical: str = "ammonia_solution"

    def __post_init__(self) -> None:
        if not 1.0 <= self.interval_s <= 3600.0:
            raise ValueError(f"interval {self.interval_s:g} s: allowed 1 to 3600 s")
        ratio = self.ammonia_interval_s / self.interval_s
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(
                f"ammonia interval {self.ammonia_interval_s:g} s must be a whole multiple of"
                f" the reading interval {self.interval_s:g} s"
            )
        if self.days <= 0:
            raise ValueError(f"days {self.days:g}: must be above 0")


@dataclass(frozen=True)
class Probes:
    """The node's physical sensors and clock, drawn once from the seed."""

    temp: Ds18b20
    ph: PhProbe
    nh3: FreeAmmoniaMonitor
    clock: ClockSkew
    dropouts: Dropouts
    #: DS18B20 ROM code (family 0x28), as Linux ``w1`` spells it and Tasmota shows its Id.
    ds18b20_rom: str


@dataclass(frozen=True)
class KitEntry:
    """A weekly nitrate test read from the API colour card (in the card's unit)."""

    t_s: float
    ts_ms: int
    quantity: str
    value: float
    unit: str
    kit: str


@dataclass(frozen=True)
class TankEvent:
    """A feeding, water change or dose, in the units a keeper logs it."""

    t_s: float
    ts_ms: int
    kind: str
    amount: float
    unit: str
    note: str


@dataclass
class NodePlan:
    """Everything the node will report: reading ticks (arrays), kit entries, events.

    ``ph`` and ``nh3_mg_l`` are continuous (the format rounds them like the device);
    ``nh3_mg_l`` is NaN on ticks where the monitor does not measure.  Ticks inside a
    dropout are already removed.
    """

    settings: NodeSettings
    probes: Probes
    t_s: np.ndarray
    ts_ms: np.ndarray
    temp_c: np.ndarray
    ph: np.ndarray
    nh3_mg_l: np.ndarray
    kit_entries: list[KitEntry] = field(default_factory=list)
    events: list[TankEvent] = field(default_factory=list)
    gaps_d: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    def items(self) -> Iterator[int | KitEntry | TankEvent]:
        """Everything in time order: tick indices (int), kit entries and events."""
        others = sorted([*self.kit_entries, *self.events], key=lambda e: e.t_s)
        j = 0
        for i, t in enumerate(self.t_s):
            while j < len(others) and others[j].t_s <= t:
                yield others[j]
                j += 1
            yield i
        yield from others[j:]


def draw_probes(settings: NodeSettings, rng: np.random.Generator) -> Probes:
    rom = "28-" + "".join(f"{b:02x}" for b in rng.integers(0, 256, 6))
    return Probes(
        temp=Ds18b20.draw(rng, settings.sentinel_rate),
        ph=PhProbe.draw(rng),
        nh3=FreeAmmoniaMonitor(),
        clock=ClockSkew.draw(rng, settings.max_clock_offset_s),
        dropouts=Dropouts(settings.dropout_rate_per_d, settings.dropout_mean_min),
        ds18b20_rom=rom,
    )


def _interp(ts: pd.DataFrame, column: str, t_d: np.ndarray) -> np.ndarray:
    return np.interp(t_d, ts["time_d"].to_numpy(), ts[column].to_numpy(dtype=float))


def _events(events: pd.DataFrame, settings: NodeSettings, days: float) -> list[TankEvent]:
    """Sim events → keeper events; top-ups, lights and pump switching are not logged."""
    out: list[TankEvent] = []
    last_ms: dict[str, int] = {}
    for row in events.itertuples(index=False):
        t_d = float(row.time_d)
        if t_d > days:
            continue
        kind, detail = str(row.event), str(row.detail)
        if kind == "feeding":
            m = _FEED_GRAMS.match(detail)
            if not m:
                raise ValueError(f"feeding detail {detail!r}: expected 'NAME: AMOUNT g'")
            amount, unit, note = float(m.group("g")), "g", m.group("name")
        elif kind == "water_change":
            amount, unit, note = float(row.volume_l), "L", detail
        elif kind == "dosing":
            n_mg = float(row.n_mg)
            if settings.dosing_chemical == "ammonium_chloride":
                amount, unit = n_mg * AMMONIUM_CHLORIDE_G_PER_MG_N, "g"
                note = f"ammonium chloride, {n_mg:.0f} mg N"
            else:
                amount, unit = n_mg / AMMONIA_SOLUTION_MG_N_PER_ML, "mL"
                note = f"10 % ammonia solution, {n_mg:.0f} mg N"
        elif kind == "buffer":
            m = _BAKING_SODA_GRAMS.match(detail)
            if not m:
                raise ValueError(f"buffer detail {detail!r}: expected 'AMOUNT g baking soda'")
            kind, amount, unit, note = "dosing", float(m.group("g")), "g", "baking soda"
        else:
            continue
        amount = round(amount, 2)
        if amount <= 0:
            continue
        sim_ms = round(t_d * SECONDS_PER_DAY * 1000)
        # The store keeps one event of a kind per instant: a keeper feeding turtle and
        # fish "at 9:00" does it a minute apart.
        while last_ms.get(kind, -1) >= sim_ms:
            sim_ms += 60_000
        last_ms[kind] = sim_ms
        ts_ms = settings.start_ms + round(sim_ms * settings.clock_scale)
        out.append(TankEvent(sim_ms / 1000.0, ts_ms, kind, amount, unit, note))
    return out


def _kit_entries(
    ts: pd.DataFrame, settings: NodeSettings, days: float, rng: np.random.Generator
) -> list[KitEntry]:
    card = KITS[("api", "no3_n")]
    out = []
    k = 0
    while (t_d := settings.kit_first_d + k * settings.kit_interval_d) <= days:
        no3_mg_l = float(_interp(ts, "no3_n_mg_l", np.array([t_d]))[0]) * NO3_PER_NO3_N
        value = read_colour_card(no3_mg_l, card.steps, rng)
        ts_ms = settings.start_ms + round(t_d * SECONDS_PER_DAY * 1000 * settings.clock_scale)
        out.append(KitEntry(t_d * SECONDS_PER_DAY, ts_ms, "nitrate", value, card.unit, "api"))
        k += 1
    return out


def build_plan(timeseries: pd.DataFrame, events: pd.DataFrame, settings: NodeSettings) -> NodePlan:
    """Draw the node's probes and every reading it will report over ``settings.days``."""
    seeds = np.random.SeedSequence(settings.seed).spawn(8)
    rng = [np.random.default_rng(s) for s in seeds]
    probes = draw_probes(settings, rng[0])
    days = min(settings.days, float(timeseries["time_d"].iloc[-1]))
    n_ticks = int(math.floor(days * SECONDS_PER_DAY / settings.interval_s + 1e-9)) + 1
    t_s_all = np.arange(n_ticks) * settings.interval_s
    t_d_all = t_s_all / SECONDS_PER_DAY
    gaps_d = probes.dropouts.gaps_d(days, rng[1])
    # Draw for every tick, then drop the outages: the draws do not depend on the gaps.
    temp_c = probes.temp.read(_interp(timeseries, "temp_c", t_d_all), rng[2])
    ph = probes.ph.read(t_d_all, _interp(timeseries, "ph", t_d_all), rng[3])
    nh3 = probes.nh3.read(_interp(timeseries, "nh3_mg_l", t_d_all), rng[4])
    every = round(settings.ammonia_interval_s / settings.interval_s)
    nh3[np.arange(n_ticks) % every != 0] = np.nan
    ts_ms = probes.clock.stamp_ms(settings.start_ms, t_s_all * settings.clock_scale, rng[5])
    keep = ~in_gaps(t_d_all, gaps_d)
    return NodePlan(
        settings=settings,
        probes=probes,
        t_s=t_s_all[keep],
        ts_ms=ts_ms[keep],
        temp_c=temp_c[keep],
        ph=ph[keep],
        nh3_mg_l=nh3[keep],
        kit_entries=_kit_entries(timeseries, settings, days, rng[6]),
        events=_events(events, settings, days),
        gaps_d=gaps_d,
    )
