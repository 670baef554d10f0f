"""The one parser of "<number> <unit> [basis]" text, for every way a number enters tankeco.

Scenario files, ``--set``, the command-line options (``plan --max-no3-n``, ``log --unit``)
and the bridge's validation all read units here, so "40 ppm NO3" means the same thing
everywhere and the conversion factors come from one table (:mod:`tankeco.units.molar`).

Two callers, one grammar:

* A scenario key names its unit in its suffix (``length_cm``, ``no3_n_mg_l``): a plain
  number is in that unit, text ``"24 in"`` is converted to it (:func:`parse_quantity`).
* A measured quantity of the store has a canonical unit (:mod:`tankeco.units.quantities`);
  a device's or a keeper's value and unit are converted to it there, with this module's
  :func:`convert`.

Nitrogen species are "as N" inside the model.  Test kits report ions (nitrate as NO3,
ammonia as NH3 or NH4), and the two bases differ by up to 4.4×, so the policy is the same
at every entry point: a nitrogen value needs its basis (``"40 ppm NO3"`` as the ion,
``"9 mg/L NO3-N"`` as nitrogen); a unit without one (``"40 ppm"``) is refused with a
message that offers both.  A plain number in a key named ``..._n_mg_l`` is "as N", because
the key names its basis.  A basis that belongs to another species (nitrite for a nitrate
key) is refused rather than silently converted.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tankeco.errors import ScenarioError, UserError
from tankeco.units import molar


class UnitError(UserError):
    """A unit that does not fit what is measured.

    ``problem`` is what is wrong and what is allowed (``unknown unit 'ft'; allowed: mm,
    cm, m, in``); the caller puts the thing and the value in front of it.
    """

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


#: The parts of a quantity string: a number, then (optionally spaced) the unit.
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def split_number(text: str) -> tuple[float, str] | None:
    """``"40 ppm NO3"`` -> ``(40.0, "ppm NO3")``; ``"7"`` -> ``(7.0, "")``; None if no number."""
    match = _QUANTITY.match(text)
    if match is None:
        return None
    return float(match.group(1)), match.group(2)


def normalise(unit: str) -> str:
    """One spelling for comparison: lower case, µ for micro, no spaces around '/'.

    ``'mg / L  NO3'`` -> ``'mg/l no3'``, ``'μS/cm'`` (Greek mu) -> ``'µs/cm'``.
    """
    text = unit.strip().replace("\u03bc", "\u00b5").replace("º", "°").replace("˚", "°")
    text = re.sub(r"\s*/\s*", "/", text.lower())
    return re.sub(r"\s+", " ", text)


@dataclass(frozen=True)
class Unit:
    """One unit of a dimension: ``value_in_base = value * scale + offset``."""

    label: str
    scale: float
    offset: float = 0.0
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Dimension:
    """Units that measure the same thing, convertible through a common base.

    Each dimension is one module-level object, compared and hashed by identity (cheap as
    a cache key, where hashing the whole unit table on every reading would not be).
    """

    name: str
    units: tuple[Unit, ...]

    @functools.cached_property
    def _spellings(self) -> dict[str, Unit]:
        """Every normalised label and alias -> its unit (built once, on first lookup)."""
        return {normalise(s): u for u in self.units for s in (u.label, *u.aliases)}

    def lookup(self, text: str) -> Unit | None:
        """The unit spelt ``text`` (any case, spacing or alias), or None."""
        return self._spellings.get(normalise(text))

    @property
    def labels(self) -> str:
        return ", ".join(u.label for u in self.units)


LENGTH = Dimension(
    "length",
    (
        Unit("mm", 1e-3),
        Unit("cm", 1e-2),
        Unit("m", 1.0),
        Unit("in", 0.0254, aliases=("inch", "inches", '"')),
    ),
)
MASS = Dimension(
    "mass",
    (Unit("mg", 1e-3), Unit("g", 1.0), Unit("kg", 1e3), Unit("oz", molar.G_PER_OZ)),
)
FLOW = Dimension(
    "flow",
    (
        Unit("L/h", 1.0, aliases=("lph", "L/hr")),
        Unit("L/min", 60.0, aliases=("lpm",)),
        Unit("m3/h", 1000.0, aliases=("m³/h",)),
        Unit("gph", molar.L_PER_US_GAL, aliases=("gal/h", "US gal/h")),
    ),
)
TEMPERATURE = Dimension(
    "temperature",
    (
        Unit("°C", 1.0, aliases=("C", "degC", "℃", "celsius")),
        Unit("°F", 5.0 / 9.0, -32.0 * 5.0 / 9.0, aliases=("F", "degF", "℉", "fahrenheit")),
        Unit("K", 1.0, -molar.KELVIN_OFFSET),
    ),
)
DURATION = Dimension(
    "duration",
    (
        Unit("s", 1.0, aliases=("sec", "second", "seconds")),
        Unit("min", 60.0, aliases=("minute", "minutes")),
        Unit("h", 3600.0, aliases=("hr", "hour", "hours")),
        Unit("d", 86400.0, aliases=("day", "days")),
        Unit("wk", 604800.0, aliases=("week", "weeks")),
    ),
)
EVAPORATION = Dimension(
    "evaporation",
    (Unit("mm/d", 1.0, aliases=("mm/day",)), Unit("cm/d", 10.0, aliases=("cm/day",))),
)
SPECIFIC_SURFACE = Dimension(
    "specific surface",
    (Unit("m2/m3", 1.0, aliases=("m²/m³",)), Unit("m2/L", 1000.0, aliases=("m²/L",))),
)
N_RATE = Dimension(
    "nitrogen uptake",
    (
        Unit("mg N/d", 1.0, aliases=("mg/d", "mg N/day", "mg/day")),
        Unit("g N/d", 1000.0, aliases=("g/d", "g N/day", "g/day")),
    ),
)
ALKALINITY = Dimension(
    "alkalinity",
    (
        Unit("mg/L CaCO3", 1.0, aliases=("mg/L", "mg CaCO3/L", "mg/L as CaCO3")),
        Unit("ppm CaCO3", 1.0, aliases=("ppm", "ppm as CaCO3")),
        Unit("dKH", molar.ALK_MG_CACO3_PER_DKH, aliases=("°dKH", "degKH")),
        Unit("meq/L", molar.ALK_MG_CACO3_PER_MEQ),
        Unit("mmol/L", molar.ALK_MG_CACO3_PER_MEQ),
    ),
)
#: General hardness (GH: calcium and magnesium) as CaCO3.  "mmol/L" here is mmol of the
#: divalent Ca + Mg (100.09 mg CaCO3), not the mmol of HCO3- that alkalinity's is (50.04);
#: "dH" (°dH, German degree of hardness) is the German spelling of dGH.  "ppm" and "mg/L"
#: are as CaCO3, as hobby hardness kits print them (and as alkalinity's are).
HARDNESS = Dimension(
    "general hardness",
    (
        Unit("mg/L CaCO3", 1.0, aliases=("mg/L", "mg CaCO3/L", "mg/L as CaCO3")),
        Unit("ppm CaCO3", 1.0, aliases=("ppm", "ppm as CaCO3")),
        Unit("dGH", molar.GH_MG_CACO3_PER_DGH, aliases=("°dGH", "degGH", "°dH", "dH")),
        Unit("meq/L", molar.ALK_MG_CACO3_PER_MEQ),
        Unit("mmol/L", molar.GH_MG_CACO3_PER_MMOL),
    ),
)
CONDUCTIVITY = Dimension(
    "conductivity",
    (
        Unit("µS/cm", 1.0, aliases=("uS/cm",)),
        Unit("mS/cm", 1000.0),
        Unit("S/m", 10_000.0),
        Unit("mS/m", 10.0),
        Unit("µS/m", 0.01, aliases=("uS/m",)),
    ),
)
DISSOLVED_SOLIDS = Dimension(
    "dissolved solids",
    (Unit("mg/L", 1.0, aliases=("ppm",)), Unit("g/L", 1000.0), Unit("ppt", 1000.0)),
)
OXYGEN = Dimension(
    "dissolved oxygen",
    (Unit("mg/L O2", 1.0, aliases=("mg/L", "ppm", "mg O2/L", "ppm O2")),),
)
PH = Dimension("pH", (Unit("pH", 1.0, aliases=("",)),))
#: What controllers such as the Neptune Apex log next to the water: redox potential,
#: salinity, and the current, power and voltage of the outlets (voltage is an electric
#: potential too).  Not modelled, but kept.
ELECTRIC_POTENTIAL = Dimension(
    "electric potential",
    (
        Unit("mV", 1e-3, aliases=("millivolt", "millivolts")),
        Unit("V", 1.0, aliases=("volt", "volts")),
    ),
)
SALINITY = Dimension("salinity", (Unit("ppt", 1.0, aliases=("‰", "g/kg")),))
ELECTRIC_CURRENT = Dimension(
    "electric current", (Unit("mA", 1e-3), Unit("A", 1.0, aliases=("amp", "amps")))
)
POWER = Dimension("power", (Unit("W", 1.0, aliases=("watt", "watts")), Unit("kW", 1e3)))


@dataclass(frozen=True)
class Nitrogen:
    """A nitrogen species held "as N", so values need their basis (ion or N).

    ``species`` is "tan" (total ammonia), "nh3" (free ammonia only), "no2", "no3", or None
    for nitrogen of no particular species (only "as N" then).
    """

    species: str | None


class Fraction:
    """A share 0..1, also written as a percentage."""


FRACTION = Fraction()
Kind = Dimension | Nitrogen | Fraction

#: What each species is called in messages.
_SPECIES_NAME = {
    "tan": "total ammonia",
    "nh3": "free ammonia",
    "no2": "nitrite",
    "no3": "nitrate",
    None: "nitrogen",
}
#: Basis written after the unit (lower case, no spaces, '-', '_' or brackets) ->
#: (what it is a basis of, mg of that per mg N).  None = plain "as N".
_BASES: Mapping[str, tuple[str | None, float]] = {
    "n": (None, 1.0),
    "asn": (None, 1.0),
    "no3n": ("NO3", 1.0),
    "nno3": ("NO3", 1.0),
    "no3asn": ("NO3", 1.0),
    "no3": ("NO3", molar.NO3_PER_NO3_N),
    "no2n": ("NO2", 1.0),
    "nno2": ("NO2", 1.0),
    "no2asn": ("NO2", 1.0),
    "no2": ("NO2", molar.NO2_PER_NO2_N),
    "nh4n": ("NH4", 1.0),
    "nnh4": ("NH4", 1.0),
    "nh4asn": ("NH4", 1.0),
    "nh4": ("NH4", molar.NH4_PER_NH4_N),
    "tan": ("TAN", 1.0),
    "tann": ("TAN", 1.0),
    "nh3n": ("NH3", 1.0),
    "nnh3": ("NH3", 1.0),
    "nh3asn": ("NH3", 1.0),
    "nh3": ("NH3", molar.NH3_PER_NH3_N),
}
#: The species each written basis may stand for.
_BASIS_OF = {
    None: {"tan", "nh3", "no2", "no3", None},
    "NO3": {"no3"},
    "NO2": {"no2"},
    "NH4": {"tan"},
    "TAN": {"tan"},
    "NH3": {"tan", "nh3"},
}
#: The species a basis names, for "'5 mg/L NO2' is nitrite but ..." messages.
_BASIS_SPECIES = {"NO3": "no3", "NO2": "no2", "NH4": "tan", "TAN": "tan", "NH3": "nh3"}
_N_ALLOWED = {
    None: "mg/L N, ppm N (as N)",
    "tan": "mg/L NH4-N, mg/L NH3-N, mg/L TAN, mg/L N (as N), mg/L NH4, ppm NH4, "
    "mg/L NH3, ppm NH3 (as NH4 or NH3)",
    "nh3": "mg/L NH3-N, mg/L N (as N), mg/L NH3, ppm NH3 (as NH3)",
    "no2": "mg/L NO2-N, mg/L N (as N), mg/L NO2, ppm NO2 (as the ion)",
    "no3": "mg/L NO3-N, mg/L N (as N), mg/L NO3, ppm NO3 (as the ion)",
}
#: The concentration written before a basis: "mg/L", "ppm", "mg l-1" (normalised).
_CONCENTRATION = re.compile(r"(?:mg/l|ppm|mg l-1|mg\*l-1|mg l\^-1)(?: (?:as )?(.+))?")
_CONCENTRATION_OF = re.compile(r"mg (.+)/l")


def needs_basis(species: str | None, number: float, unit_text: str) -> str:
    """The message for a nitrogen value without its basis, offering both bases."""
    n = f"{number:g}"
    unit = unit_text.strip() or "mg/L"
    name = _SPECIES_NAME[species]
    if species is None:
        return f"{name} needs its basis: write '{n} mg/L N' (as nitrogen)"
    if species == "tan":
        return (
            f"{name} needs its basis: write '{n} {unit} NH3' (as NH3, API cards), "
            f"'{n} {unit} NH4' (as the ion) or '{n} mg/L NH4-N' (as nitrogen)"
        )
    if species == "nh3":
        return (
            f"{name} needs its basis: write '{n} {unit} NH3' (as the molecule) "
            f"or '{n} mg/L NH3-N' (as nitrogen)"
        )
    ion = species.upper()
    return (
        f"{name} needs its basis: write '{n} {unit} {ion}' (as the ion, API cards) "
        f"or '{n} mg/L {ion}-N' (as nitrogen)"
    )


def allowed(kind: Kind) -> str:
    """The unit spellings ``kind`` accepts, for messages."""
    if isinstance(kind, Dimension):
        return kind.labels
    if isinstance(kind, Nitrogen):
        return _N_ALLOWED[kind.species]
    return "% (or a plain number from 0 to 1)"


def convert(
    number: float, unit_text: str, kind: Kind, target: str, holder: str = "this key"
) -> float:
    """``number`` in ``unit_text`` converted to the unit ``target`` of ``kind``.

    ``holder`` names what receives the value in the message for a basis of the wrong
    species ("this key", "quantity no3_n").  Raises :class:`UnitError`.
    """
    if isinstance(kind, Fraction):
        if unit_text.strip() != "%":
            raise UnitError(f"unknown unit '{unit_text}'; allowed: {allowed(kind)}")
        return number / 100.0
    if isinstance(kind, Nitrogen):
        try:
            return number / _ion_per_n(unit_text, kind.species, holder)
        except _MissingBasis as exc:
            raise UnitError(needs_basis(kind.species, number, exc.unit_text)) from None
    unit, to = _units(unit_text, kind, target)
    base = number * unit.scale + unit.offset
    return (base - to.offset) / to.scale


class _MissingBasis(UnitError):
    """A nitrogen unit without its basis; :func:`convert` words it with the number."""

    def __init__(self, unit_text: str) -> None:
        self.unit_text = unit_text
        super().__init__(f"'{unit_text}' has no basis")


# The bridge converts every reading: the unit text is resolved once per spelling (a
# device sends the same few), and the arithmetic stays that of the unit table.
@functools.lru_cache(maxsize=1024)
def _units(unit_text: str, kind: Dimension, target: str) -> tuple[Unit, Unit]:
    """(unit written, unit wanted) of a dimension, or UnitError naming the allowed ones."""
    unit = kind.lookup(unit_text)
    to = kind.lookup(target)
    if unit is None:
        raise UnitError(f"unknown unit '{unit_text}'; allowed: {kind.labels}")
    assert to is not None, target
    return unit, to


@functools.lru_cache(maxsize=1024)
def _ion_per_n(unit_text: str, species: str | None, holder: str) -> float:
    """mg per mg N of the basis written in ``unit_text`` (1 for "as N"), checked against
    the species; :class:`_MissingBasis` without a basis, UnitError for the wrong one."""
    text = normalise(unit_text)
    free = text.endswith("(free)")
    text = text.removesuffix("(free)").strip()
    if text == "":
        raise _MissingBasis("")
    match = _CONCENTRATION.fullmatch(text)
    if match is not None:
        basis = match.group(1) or ""
    else:
        match = _CONCENTRATION_OF.fullmatch(text)
        if match is None:
            raise UnitError(f"unknown unit '{unit_text}'; allowed: {_N_ALLOWED[species]}")
        basis = match.group(1)
    if basis == "":
        raise _MissingBasis(unit_text.removesuffix("(free)"))
    found = _BASES.get(re.sub(r"[\s\-_()]", "", basis))
    if found is None:
        raise UnitError(f"unknown unit '{unit_text}'; allowed: {_N_ALLOWED[species]}")
    of, ion_per_n = found
    holds = f"{_SPECIES_NAME[species]} as N"
    if free and species != "nh3":
        raise UnitError(
            f"'{unit_text}' is free ammonia but {holder} holds {holds}; free and total "
            "ammonia are different quantities (use nh3_n for free ammonia)"
        )
    if species not in _BASIS_OF[of]:
        raise UnitError(
            f"'{unit_text}' is {_SPECIES_NAME[_BASIS_SPECIES[of]] if of else 'nitrogen'} "
            f"but {holder} holds {holds}; allowed: {_N_ALLOWED[species]}"
        )
    return ion_per_n


# --- scenario keys: the suffix names the unit ---------------------------------------

#: Key suffix -> (kind, the key's own unit); '_fraction' also matches the key 'fraction'.
#: Checked in order, so longer suffixes that end like shorter ones (``_mm_d`` ends in
#: ``_d``, ``_nh3_n_mg_l`` in ``_n_mg_l``) come first.
_SUFFIXES: tuple[tuple[str, Kind, str], ...] = (
    ("_mg_l_caco3", ALKALINITY, "mg/L CaCO3"),
    ("_mg_n_d", N_RATE, "mg N/d"),
    ("_m2_m3", SPECIFIC_SURFACE, "m2/m3"),
    ("_mm_d", EVAPORATION, "mm/d"),
    ("_l_h", FLOW, "L/h"),
    ("_tan_mg_l", Nitrogen("tan"), "mg N/L"),
    ("_nh3_n_mg_l", Nitrogen("nh3"), "mg N/L"),
    ("_no3_n_mg_l", Nitrogen("no3"), "mg N/L"),
    ("_no2_n_mg_l", Nitrogen("no2"), "mg N/L"),
    ("_n_mg_l", Nitrogen(None), "mg N/L"),
    ("_mm", LENGTH, "mm"),
    ("_cm", LENGTH, "cm"),
    ("_m", LENGTH, "m"),
    ("_g", MASS, "g"),
    ("_c", TEMPERATURE, "°C"),
    ("_d", DURATION, "d"),
    ("_h", DURATION, "h"),
    ("_fraction", FRACTION, ""),
    ("_porosity", FRACTION, ""),
    ("_days", DURATION, "d"),
)


def _field_name(key: str) -> str:
    """The last part of a dotted key without an index: 'feeds[1].amount_g' -> 'amount_g'."""
    return re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])


def _kind_of(key: str) -> tuple[Kind, str] | None:
    name = _field_name(key)
    for suffix, kind, unit in _SUFFIXES:
        if ("_" + name).endswith(suffix):
            return kind, unit
    return None


def key_unit(key: str) -> str | None:
    """The unit a key's plain numbers are in ('cm', 'mg N/L', '' for fractions), or None.

    None means the key takes no unit strings (pH, counts, seeds, model parameters).
    """
    found = _kind_of(key)
    return None if found is None else found[1]


def allowed_units(key: str) -> str:
    """The unit spellings a key accepts, for messages ('' if it takes plain numbers only)."""
    found = _kind_of(key)
    if found is None:
        return ""
    kind, _ = found
    return "%" if isinstance(kind, Fraction) else allowed(kind)


def expected(key: str) -> str:
    """What a key holds, as the end of 'expected ...': used for wrong-type messages."""
    found = _kind_of(key)
    if found is None:
        return "a number"
    kind, unit = found
    if isinstance(kind, Fraction):
        return "a number from 0 to 1 or a percentage such as '25%'"
    return f"a number in {unit}, or text such as '2 {unit}' (units: {allowed_units(key)})"


def parse_quantity(key: str, value: object) -> float:
    """``value`` converted to the unit named by ``key``.

    Plain numbers are taken to be in the key's unit already; text is ``"<number> <unit>"``
    (or just a number).  Raises :class:`ScenarioError` naming ``key`` and ``value`` for a
    wrong type, an unknown unit, a nitrogen unit without its basis or a basis that does
    not fit the key, so the caller's message says exactly what to write instead.
    """
    if isinstance(value, bool):
        raise ScenarioError(key, value, f"expected {expected(key)}")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise ScenarioError(key, value, f"expected a finite number; {expected(key)}")
        return number
    if not isinstance(value, str):
        raise ScenarioError(key, value, f"expected {expected(key)}")
    parts = split_number(value)
    if parts is None:
        raise ScenarioError(key, value, f"expected {expected(key)}")
    number, unit_text = parts
    if not unit_text:
        return number
    found = _kind_of(key)
    if found is None:
        raise ScenarioError(key, value, "takes a plain number, without a unit")
    kind, target = found
    try:
        converted = convert(number, unit_text, kind, target)
    except UnitError as exc:
        raise ScenarioError(key, value, exc.problem) from None
    # Inputs are never known to 12 digits: round away the noise of the conversion factors
    # so '2 in' is 5.08 cm, not 5.080000000000001.
    return float(f"{converted:.12g}")
