"""Quantities with units, parsed once at the edge of the program.

A numeric scenario value may be written as a plain number, meaning the unit its key names
(``length_cm = 60``), or as text ``"<number> <unit>"`` (``length_cm = "24 in"``), which is
converted here to the key's unit.  Past this module every number is in the unit of its
name, so the model never sees a unit string.  The key's *suffix* picks the family of
accepted units, so the same rule covers every section and every future key of that shape.

Nitrogen species are "as N" inside the model (see docs/model.md).  Test kits report ions
(nitrate as NO3, ammonia as NH3 or NH4), so a basis written after the unit is converted
with the ratio of molar masses, and a basis that belongs to another species (nitrite for a
nitrate key) is refused rather than silently converted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tankeco.errors import ScenarioError
from tankeco.units import chemistry_units as chem_units

# --- conversion constants ---------------------------------------------------------------
# The chemistry's own constants, so the edge and the model can never disagree on a factor.
#: mg NO3 per mg NO3-N, mg NO2 per mg NO2-N, mg NH4 per mg NH4-N, mg NH3 per mg NH3-N.
NO3_PER_N = chem_units.NO3_PER_NO3_N
NO2_PER_N = chem_units.NO2_PER_NO2_N
NH4_PER_N = chem_units.NH4_PER_NH4_N
NH3_PER_N = chem_units.NH3_PER_NH3_N
#: mg/L CaCO3 per German degree of carbonate hardness (17.848).
CACO3_PER_DKH = chem_units.ALK_MG_CACO3_PER_DKH
#: mg/L CaCO3 per meq/L (or mmol/L of HCO3-) of alkalinity (50.04).
CACO3_PER_MEQ = chem_units.ALK_MG_CACO3_PER_MEQ
#: litres per US gallon.
L_PER_US_GAL = 3.785411784
#: grams per avoirdupois ounce.
G_PER_OZ = 28.349523125

#: The parts of a quantity string: a number, then (optionally spaced) the unit.
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class _Unit:
    """One unit of a family: ``value_in_base = value * scale + offset``."""

    label: str
    scale: float
    offset: float = 0.0
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Family:
    """Units that measure the same thing, convertible through a common base."""

    name: str
    units: tuple[_Unit, ...]

    def lookup(self, text: str) -> _Unit | None:
        key = _normalise(text)
        for unit in self.units:
            if key == _normalise(unit.label) or key in (_normalise(a) for a in unit.aliases):
                return unit
        return None

    def unit(self, label: str) -> _Unit:
        found = self.lookup(label)
        assert found is not None, label
        return found

    @property
    def labels(self) -> str:
        return ", ".join(u.label for u in self.units)


LENGTH = _Family(
    "length",
    (
        _Unit("mm", 1e-3),
        _Unit("cm", 1e-2),
        _Unit("m", 1.0),
        _Unit("in", 0.0254, aliases=("inch", "inches", '"')),
    ),
)
MASS = _Family(
    "mass",
    (
        _Unit("mg", 1e-3),
        _Unit("g", 1.0),
        _Unit("kg", 1e3),
        _Unit("oz", G_PER_OZ),
    ),
)
FLOW = _Family(
    "flow",
    (
        _Unit("L/h", 1.0, aliases=("lph", "L/hr")),
        _Unit("L/min", 60.0, aliases=("lpm",)),
        _Unit("m3/h", 1000.0, aliases=("m³/h",)),
        _Unit("gph", L_PER_US_GAL, aliases=("gal/h", "US gal/h")),
    ),
)
TEMPERATURE = _Family(
    "temperature",
    (
        _Unit("°C", 1.0, aliases=("C", "degC", "℃", "ºC")),
        _Unit("°F", 5.0 / 9.0, -32.0 * 5.0 / 9.0, aliases=("F", "degF", "℉", "ºF")),
        _Unit("K", 1.0, -chem_units.KELVIN_OFFSET),
    ),
)
DURATION = _Family(
    "duration",
    (
        _Unit("s", 1.0, aliases=("sec", "second", "seconds")),
        _Unit("min", 60.0, aliases=("minute", "minutes")),
        _Unit("h", 3600.0, aliases=("hr", "hour", "hours")),
        _Unit("d", 86400.0, aliases=("day", "days")),
        _Unit("wk", 604800.0, aliases=("week", "weeks")),
    ),
)
EVAPORATION = _Family(
    "evaporation",
    (
        _Unit("mm/d", 1.0, aliases=("mm/day",)),
        _Unit("cm/d", 10.0, aliases=("cm/day",)),
    ),
)
SPECIFIC_SURFACE = _Family(
    "specific surface",
    (
        _Unit("m2/m3", 1.0, aliases=("m²/m³",)),
        _Unit("m2/L", 1000.0, aliases=("m²/L",)),
    ),
)
N_RATE = _Family(
    "nitrogen uptake",
    (
        _Unit("mg N/d", 1.0, aliases=("mg/d", "mg N/day", "mg/day")),
        _Unit("g N/d", 1000.0, aliases=("g/d", "g N/day", "g/day")),
    ),
)
ALKALINITY = _Family(
    "alkalinity",
    (
        _Unit("mg/L CaCO3", 1.0, aliases=("mg/L", "mg CaCO3/L", "mg/L as CaCO3")),
        _Unit("ppm CaCO3", 1.0, aliases=("ppm", "ppm as CaCO3")),
        _Unit("dKH", CACO3_PER_DKH, aliases=("°dKH", "degKH", "ºdKH")),
        _Unit("meq/L", CACO3_PER_MEQ),
        _Unit("mmol/L", CACO3_PER_MEQ),
    ),
)


@dataclass(frozen=True)
class _Nitrogen:
    """A nitrogen-species key ("as N"): which species it holds, for basis checks."""

    species: str | None  # "tan", "no2", "no3"; None = any nitrogen, only as N


#: What each species is called in messages.
_SPECIES_NAME = {"tan": "total ammonia", "no2": "nitrite", "no3": "nitrate"}
#: Basis written after the unit (normalised: lower case, no '-') -> (species, ion per N).
_BASES: Mapping[str, tuple[str | None, float]] = {
    "": (None, 1.0),
    "n": (None, 1.0),
    "asn": (None, 1.0),
    "no3n": ("no3", 1.0),
    "no2n": ("no2", 1.0),
    "nh4n": ("tan", 1.0),
    "nh3n": ("tan", 1.0),
    "tan": ("tan", 1.0),
    "no3": ("no3", NO3_PER_N),
    "no2": ("no2", NO2_PER_N),
    "nh4": ("tan", NH4_PER_N),
    "nh3": ("tan", NH3_PER_N),
}
_N_ALLOWED = {
    None: "mg/L, ppm, mg/L N (all as N)",
    "tan": "mg/L, ppm, mg/L N (all as N), mg/L NH4, ppm NH4, mg/L NH3, ppm NH3",
    "no2": "mg/L, ppm, mg/L N, mg/L NO2-N (all as N), mg/L NO2, ppm NO2",
    "no3": "mg/L, ppm, mg/L N, mg/L NO3-N (all as N), mg/L NO3, ppm NO3",
}


class _Fraction:
    """A share 0..1, also written as a percentage."""


_FRACTION = _Fraction()
Quantity = _Family | _Nitrogen | _Fraction

#: Key suffix -> (family, the key's own unit); '_fraction' also matches the key 'fraction'.
#: Checked in order, so longer suffixes that
#: end like shorter ones (``_mm_d`` ends in ``_d``, ``_l_h`` in ``_h``) come first.
_SUFFIXES: tuple[tuple[str, Quantity, str], ...] = (
    ("_mg_l_caco3", ALKALINITY, "mg/L CaCO3"),
    ("_mg_n_d", N_RATE, "mg N/d"),
    ("_m2_m3", SPECIFIC_SURFACE, "m2/m3"),
    ("_mm_d", EVAPORATION, "mm/d"),
    ("_l_h", FLOW, "L/h"),
    ("_tan_mg_l", _Nitrogen("tan"), "mg N/L"),
    ("_no3_n_mg_l", _Nitrogen("no3"), "mg N/L"),
    ("_no2_n_mg_l", _Nitrogen("no2"), "mg N/L"),
    ("_n_mg_l", _Nitrogen(None), "mg N/L"),
    ("_mm", LENGTH, "mm"),
    ("_cm", LENGTH, "cm"),
    ("_m", LENGTH, "m"),
    ("_g", MASS, "g"),
    ("_c", TEMPERATURE, "°C"),
    ("_d", DURATION, "d"),
    ("_h", DURATION, "h"),
    ("_fraction", _FRACTION, ""),
    ("_porosity", _FRACTION, ""),
    ("_days", DURATION, "d"),
)


def _normalise(unit: str) -> str:
    """Lower case, no spaces around '/', single spaces elsewhere: 'mg / L  NO3' -> 'mg/l no3'."""
    text = re.sub(r"\s*/\s*", "/", unit.strip().lower())
    return re.sub(r"\s+", " ", text)


def _field_name(key: str) -> str:
    """The last part of a dotted key without an index: 'feeds[1].amount_g' -> 'amount_g'."""
    return re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])


def _quantity_of(key: str) -> tuple[Quantity, str] | None:
    name = _field_name(key)
    for suffix, quantity, unit in _SUFFIXES:
        if ("_" + name).endswith(suffix):
            return quantity, unit
    return None


def key_unit(key: str) -> str | None:
    """The unit a key's plain numbers are in ('cm', 'mg N/L', '' for fractions), or None.

    None means the key takes no unit strings (pH, counts, seeds, model parameters).
    """
    found = _quantity_of(key)
    return None if found is None else found[1]


def allowed_units(key: str) -> str:
    """The unit spellings a key accepts, for messages ('' if it takes plain numbers only)."""
    found = _quantity_of(key)
    if found is None:
        return ""
    quantity, _ = found
    if isinstance(quantity, _Family):
        return quantity.labels
    if isinstance(quantity, _Nitrogen):
        return _N_ALLOWED[quantity.species]
    return "%"


def expected(key: str) -> str:
    """What a key holds, as the end of 'expected ...': used for wrong-type messages."""
    found = _quantity_of(key)
    if found is None:
        return "a number"
    quantity, unit = found
    if isinstance(quantity, _Fraction):
        return "a number from 0 to 1 or a percentage such as '25%'"
    return f"a number in {unit}, or text such as '2 {unit}' (units: {allowed_units(key)})"


def parse_quantity(key: str, value: object) -> float:
    """``value`` converted to the unit named by ``key``.

    Plain numbers are taken to be in the key's unit already; text is ``"<number> <unit>"``
    (or just a number).  Raises :class:`ScenarioError` naming ``key`` and ``value`` for a
    wrong type, an unknown unit or a nitrogen basis that does not fit the key, so the
    caller's message says exactly what to write instead.
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
    match = _QUANTITY.match(value)
    if match is None:
        raise ScenarioError(key, value, f"expected {expected(key)}")
    number, unit_text = float(match.group(1)), match.group(2)
    if not unit_text:
        return number
    found = _quantity_of(key)
    if found is None:
        raise ScenarioError(key, value, "takes a plain number, without a unit")
    quantity, key_unit_label = found
    if isinstance(quantity, _Fraction):
        converted = _fraction(key, value, number, unit_text)
    elif isinstance(quantity, _Nitrogen):
        converted = _nitrogen(key, value, number, unit_text, quantity.species)
    else:
        converted = _convert(key, value, number, unit_text, quantity, key_unit_label)
    # Inputs are never known to 12 digits: round away the noise of the conversion factors
    # so '2 in' is 5.08 cm, not 5.080000000000001.
    return float(f"{converted:.12g}")


def _unknown(key: str, value: object, unit_text: str, allowed: str) -> ScenarioError:
    return ScenarioError(key, value, f"unknown unit '{unit_text}'; allowed: {allowed}")


def _convert(
    key: str, value: object, number: float, unit_text: str, family: _Family, target: str
) -> float:
    unit = family.lookup(unit_text)
    if unit is None:
        raise _unknown(key, value, unit_text, family.labels)
    to = family.unit(target)
    base = number * unit.scale + unit.offset
    return (base - to.offset) / to.scale


def _fraction(key: str, value: object, number: float, unit_text: str) -> float:
    if unit_text.strip() != "%":
        raise _unknown(key, value, unit_text, "% (or a plain number from 0 to 1)")
    return number / 100.0


def _nitrogen(key: str, value: object, number: float, unit_text: str, species: str | None) -> float:
    """Concentration of a nitrogen species as N, from mg/L or ppm of N or of the ion."""
    text = _normalise(unit_text)
    basis: str | None = None
    m = re.fullmatch(r"(?:mg/l|ppm)(?: (?:as )?(.+))?", text)
    if m is not None:
        basis = m.group(1) or ""
    else:
        m = re.fullmatch(r"mg (.+)/l", text)
        if m is not None:
            basis = m.group(1)
    allowed = _N_ALLOWED[species]
    if basis is None:
        raise _unknown(key, value, unit_text, allowed)
    found = _BASES.get(re.sub(r"[\s\-_]", "", basis))
    if found is None:
        raise _unknown(key, value, unit_text, allowed)
    basis_species, ion_per_n = found
    if basis_species is not None and basis_species != species:
        holds = _SPECIES_NAME[species] + " as N" if species else "nitrogen as N"
        raise ScenarioError(
            key,
            value,
            f"'{unit_text}' is {_SPECIES_NAME[basis_species]} but this key holds {holds}; "
            f"allowed: {allowed}",
        )
    return number / ion_per_n
