"""The quantity registry: everything tankeco knows about each measured quantity, once.

One row per quantity of the readings store: its canonical unit (nitrogen species carry
their basis in the name, ``no3_n`` is nitrate *as N*, so a stored number never needs its
unit guessed), the units it may arrive in, the plausibility limits the bridge checks, the
model column it is compared with, the title figures give it, the water-quality threshold
drawn and alerted on (with its source), and the typical noise of a hobby sensor.

The bridge, the comparison with the model, the forecast, the figures and the dashboard
all read this table; nothing else lists quantities.

Ranges are what water in an aquarium can physically show, not comfort zones: their job
is to catch broken sensors and wrong units, not to alarm.  Sensor noise (1 sigma,
canonical units) is what probes sold for aquaria achieve: pH ±0.05-0.1 after calibration,
DS18B20 ±0.5 °C absolute but ~0.1 °C between readings, optical DO ±0.2 mg/L,
ion-selective N probes ~5-10 % of reading with a floor, automatic KH titrators ~0.2 dKH
(3.6 mg/L CaCO3).  These are estimates (makers'
data sheets); a sensor's ``meta`` resolution overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tankeco import reasons
from tankeco.reasons import Rejected
from tankeco.units import molar
from tankeco.units.parse import (
    ALKALINITY,
    CONDUCTIVITY,
    DISSOLVED_SOLIDS,
    ELECTRIC_CURRENT,
    ELECTRIC_POTENTIAL,
    FLOW,
    HARDNESS,
    OXYGEN,
    PH,
    POWER,
    SALINITY,
    TEMPERATURE,
    Kind,
    Nitrogen,
    UnitError,
    convert,
)


@dataclass(frozen=True)
class Threshold:
    """A water-quality limit: ``kind`` "max" means above is bad, "min" below is bad."""

    value: float
    kind: Literal["max", "min"]
    source: str


@dataclass(frozen=True)
class Quantity:
    """One measured quantity, in its canonical unit."""

    name: str
    unit: str
    kind: Kind
    title: str
    low: float
    high: float
    #: Largest believable change per minute between two readings of one sensor.
    max_change_per_min: float
    #: Column of the model's time series it is compared with (None: not modelled).
    model_column: str | None = None
    threshold: Threshold | None = None
    #: Typical accuracy of a hobby sensor, 1 sigma in the canonical unit.
    sensor_sigma: float | None = None


#: Free (un-ionised) ammonia, mg NH3-N/L: 0.02 mg NH3/L is the long-standing chronic limit
#: for fish culture, expressed as N with the molar masses (0.02 x 14.007 / 17.031).
FREE_NH3 = Threshold(
    0.02 * molar.MOLAR_MASS_N_G_MOL / molar.MOLAR_MASS_NH3_G_MOL,
    "max",
    "EIFAC (1970) Water quality criteria for European freshwater fish, Tech. Pap. 11: "
    "0.02 mg NH3/L; Timmons & Ebeling (2010)",
)
#: Total ammonia, mg TAN-N/L, chronic criterion at pH 7 and 20 °C.
TAN_CHRONIC = Threshold(1.9, "max", "US EPA (2013) EPA-822-R-13-001: 1.9 mg TAN/L at pH 7, 20 °C")
#: Nitrite, mg NO2-N/L: warm-water fish should be kept below 1 mg/L; keepers aim for zero.
NITRITE = Threshold(
    1.0, "max", "Timmons & Ebeling (2010) Recirculating Aquaculture, Table 2.1: < 1 mg NO2-N/L"
)
#: Nitrate, mg NO3-N/L: long-term effects from 10 mg N/L; 2 mg N/L protects the most
#: sensitive species.
NITRATE = Threshold(
    10.0, "max", "Camargo, Alonso & Salamanca (2005) Chemosphere 58:1255: 10 mg NO3-N/L"
)
#: Alkalinity (KH) floor, mg/L as CaCO3: nitrification uses 7.14 mg CaCO3 per mg N and
#: below ~2 dKH (36 mg/L) the pH of a stocked tank starts to slide; recirculating systems
#: are kept at 50-150 mg/L.  40 mg/L is the floor the planner defaults to.
ALK_MIN = Threshold(
    40.0, "min", "Timmons & Ebeling (2010) Recirculating Aquaculture: 50-150 mg/L as CaCO3"
)
#: Dissolved oxygen below which fish are stressed, mg O2/L.
OXYGEN_MIN = Threshold(5.0, "min", "Boyd (2015) Water Quality, 2nd ed.: 5 mg O2/L")


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity(
            "tan_n", "mg/L TAN-N", Nitrogen("tan"), "total ammonia (mg N/L)", 0.0, 100.0, 5.0,
            model_column="tan_mg_l", threshold=TAN_CHRONIC, sensor_sigma=0.05,
        ),
        Quantity(
            "nh3_n", "mg/L NH3-N (free)", Nitrogen("nh3"), "free ammonia NH3 (mg N/L)",
            0.0, 10.0, 1.0, model_column="nh3_mg_l", threshold=FREE_NH3, sensor_sigma=0.005,
        ),
        Quantity(
            "no2_n", "mg/L NO2-N", Nitrogen("no2"), "nitrite (mg N/L)", 0.0, 50.0, 5.0,
            model_column="no2_n_mg_l", threshold=NITRITE, sensor_sigma=0.05,
        ),
        Quantity(
            "no3_n", "mg/L NO3-N", Nitrogen("no3"), "nitrate (mg N/L)", 0.0, 500.0, 50.0,
            model_column="no3_n_mg_l", threshold=NITRATE, sensor_sigma=0.5,
        ),
        Quantity(
            "do", "mg/L O2", OXYGEN, "dissolved oxygen (mg/L)", 0.0, 25.0, 5.0,
            model_column="do_mg_l", threshold=OXYGEN_MIN, sensor_sigma=0.2,
        ),
        Quantity(
            "temperature", "°C", TEMPERATURE, "temperature (°C)", 0.0, 45.0, 2.0,
            model_column="temp_c", sensor_sigma=0.1,
        ),
        Quantity(
            "ph", "pH", PH, "pH", 0.0, 14.0, 1.0, model_column="ph", sensor_sigma=0.05
        ),
        Quantity(
            "alk", "mg/L CaCO3", ALKALINITY, "alkalinity, KH (mg/L CaCO3)", 0.0, 1000.0, 100.0,
            model_column="alk_mg_l_caco3", threshold=ALK_MIN, sensor_sigma=3.6,
        ),
        Quantity("gh", "mg/L CaCO3", HARDNESS, "general hardness, GH (mg/L CaCO3)",
                 0.0, 1000.0, 100.0),
        Quantity("ec", "µS/cm", CONDUCTIVITY, "conductivity (µS/cm)", 0.0, 100_000.0, 5_000.0),
        Quantity(
            "tds", "mg/L", DISSOLVED_SOLIDS, "dissolved solids (mg/L)", 0.0, 60_000.0, 2_500.0
        ),
        # Not modelled; logged by aquarium controllers (Neptune Apex) and kept so a keeper's
        # imported history is complete.  ORP probes read +-2000 mV at most; salinity up to
        # twice sea water (35 ppt); the electrical ones are an outlet's (a 16 A, 230 V
        # circuit with margin) and switch in an instant, so their jump limit is their range.
        Quantity(
            "orp", "mV", ELECTRIC_POTENTIAL, "redox potential ORP (mV)", -2000.0, 2000.0, 500.0
        ),
        Quantity("salinity", "ppt", SALINITY, "salinity (ppt)", 0.0, 70.0, 5.0),
        Quantity("current", "A", ELECTRIC_CURRENT, "current (A)", 0.0, 100.0, 100.0),
        Quantity("power", "W", POWER, "power (W)", 0.0, 25_000.0, 25_000.0),
        Quantity("voltage", "V", ELECTRIC_POTENTIAL, "voltage (V)", 0.0, 500.0, 500.0),
        Quantity("flow", "L/h", FLOW, "flow (L/h)", 0.0, 100_000.0, 100_000.0),
    )
}  # fmt: skip

#: Names devices and people use for the same quantities.
ALIASES: dict[str, str] = {
    "temp": "temperature",
    "water_temperature": "temperature",
    "conductivity": "ec",
    "nitrate": "no3_n",
    "nitrite": "no2_n",
    "ammonia": "tan_n",
    "total_ammonia": "tan_n",
    "tan": "tan_n",
    "free_ammonia": "nh3_n",
    "nh3": "nh3_n",
    "oxygen": "do",
    "dissolved_oxygen": "do",
    "redox": "orp",
    "amps": "current",
    "pwr": "power",
    "volts": "voltage",
    "kh": "alk",
    "alkalinity": "alk",
    "carbonate_hardness": "alk",
    "general_hardness": "gh",
    "hardness": "gh",
    "total_hardness": "gh",
}

#: The quantities the model predicts, in registry order: store quantity -> model column.
MODEL_COLUMN: dict[str, str] = {
    q.name: q.model_column for q in QUANTITIES.values() if q.model_column is not None
}

#: Typical accuracy of a hobby sensor per modelled quantity (1 sigma, canonical unit);
#: a sensor's ``meta`` resolution overrides it.
SENSOR_SIGMA: dict[str, float] = {
    q.name: q.sensor_sigma
    for q in QUANTITIES.values()
    if q.model_column is not None and q.sensor_sigma is not None
}


def lookup(name: object) -> Quantity:
    """The quantity a device calls ``name``, or Rejected(unknown_quantity)."""
    if not isinstance(name, str):
        raise Rejected(reasons.BAD_SCHEMA, f"quantity must be a string, got {name!r:.60}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in QUANTITIES:
        allowed = ", ".join(sorted(QUANTITIES))
        raise Rejected(reasons.UNKNOWN_QUANTITY, f"{name!r:.60} (known: {allowed})")
    return QUANTITIES[key]


def to_canonical(quantity: Quantity, value: float, unit: str | None) -> float:
    """``value`` in ``unit`` converted to the quantity's canonical unit, or Rejected.

    The conversion is :func:`tankeco.units.parse.convert`, the same as for scenario files
    and command-line options, so a bare "mg/L" nitrate is refused here too (unknown_unit).
    """
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        raise Rejected(reasons.BAD_SCHEMA, f"unit must be a string, got {unit!r:.60}")
    try:
        return convert(value, unit, quantity.kind, quantity.unit, f"quantity {quantity.name}")
    except UnitError as exc:
        raise Rejected(reasons.UNKNOWN_UNIT, f"{quantity.name}: {exc.problem}") from None
