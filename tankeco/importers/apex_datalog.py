"""Neptune Apex ``datalog.xml``: the probe log an Apex controller serves and keepers save.

The file is ``<datalog>`` with ``<hostname>``, ``<serial>`` and ``<timezone>`` (the
controller's offset from UTC in hours, ``-8.00``), then one ``<record>`` per logging
interval with a ``<date>`` in local time, ``MM/DD/YYYY HH:MM:SS``, and ``<probe>`` s, each
``<name>``, ``<type>`` and ``<value>``.  Times are turned into UTC with the file's own
offset, not the importing computer's zone.

The file does not say in which unit temperatures are: the Apex shows °F or °C as set on
the controller.  Aquarium water in °C lies below 32 and in °F above 45 (45 °C is the
registry's upper limit for water), so the values say which, and the keeper is told which
was chosen (``--temp-unit`` overrides it).  The conductivity probe (``Cond``) reads
salinity in ppt in its default mode and µS/cm in freshwater mode; values above 70 (twice
sea water) are µS/cm.

Probe types tankeco does not model (ORP, outlet current, power, voltage, flow) are stored
as readings of their registry quantity; a type with no quantity at all is quarantined as
``unknown_quantity``, so it is kept and shown, never dropped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.topics import SEGMENT
from tankeco.errors import UserError
from tankeco.importers.sink import ImportSink
from tankeco.reasons import Rejected

#: Apex probe type (lower case) -> (registry quantity, unit of the value); None: inferred.
PROBE_TYPES: dict[str, tuple[str, str | None]] = {
    "temp": ("temperature", None),
    "ph": ("ph", "pH"),
    "orp": ("orp", "mV"),
    "cond": ("salinity", None),
    "amps": ("current", "A"),
    "pwr": ("power", "W"),
    "volts": ("voltage", "V"),
    "gph": ("flow", "gph"),
}
#: Below this a temperature is °C (it would be frozen in °F); above ``F_ABOVE`` it is °F.
C_BELOW = 32.0
F_ABOVE = 45.0
#: Conductivity-probe values above this are µS/cm, at or below it salinity in ppt.
SALINITY_MAX_PPT = 70.0
DATE_FORMAT = "%m/%d/%Y %H:%M:%S"
TEMP_UNITS = {"C": "°C", "F": "°F"}


class BrokenXML(UserError):
    """The file stops being XML (cut off, or garbage) after some records."""


@dataclass(frozen=True)
class Probe:
    name: str
    type: str
    value: str


@dataclass(frozen=True)
class Record:
    """One logging interval: its index in the file, its date as written, its probes."""

    index: int
    date: str
    probes: tuple[Probe, ...]


@dataclass
class Header:
    hostname: str = ""
    serial: str = ""
    utc_offset_h: float | None = None


def _offset_hours(text: str, path: Path) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not -12.0 <= hours <= 14.0:
        raise UserError(
            f"{path.name}: <timezone> {text!r} is not an offset in hours from UTC"
            " (e.g. -8.00, 1.00, 5.50)"
        )
    return hours


def iter_records(path: Path, header: Header) -> Iterator[Record]:
    """The file's records in order, read as a stream; ``header`` is filled in on the way.

    Each finished ``<record>`` is cleared from the tree once read, so memory does not grow
    with the file.  A file that ends early or is not XML raises UserError after the
    records read so far have been yielded.
    """
    root: ET.Element | None = None
    depth = 0
    index = 0
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem
                    if elem.tag != "datalog":
                        raise UserError(
                            f"{path.name}: the root element is <{elem.tag}>, not <datalog>;"
                            " is this an Apex datalog.xml?"
                        )
                continue
            depth -= 1
            if depth != 1:
                continue
            tag = elem.tag
            if tag == "hostname":
                header.hostname = (elem.text or "").strip()
            elif tag == "serial":
                header.serial = (elem.text or "").strip()
            elif tag == "timezone":
                header.utc_offset_h = _offset_hours((elem.text or "").strip(), path)
            elif tag == "record":
                index += 1
                probes = tuple(
                    Probe(
                        (p.findtext("name") or "").strip(),
                        (p.findtext("type") or "").strip(),
                        (p.findtext("value") or "").strip(),
                    )
                    for p in elem.iterfind("probe")
                )
                record = Record(index, (elem.findtext("date") or "").strip(), probes)
                assert root is not None
                root.clear()  # the record (and the header before it) are read: let them go
                yield record
    except ET.ParseError as exc:
        raise BrokenXML(
            f"{path.name}: not a complete XML file ({exc}) after record {index};"
            " the records before it were read"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None


@dataclass(frozen=True)
class Units:
    """The units the file's values are in, where the file does not say."""

    temperature: str
    conductivity: tuple[str, str]  # (quantity, unit)
    notices: tuple[str, ...]


def infer_units(path: Path, temp_unit: str | None) -> Units:
    """Read the file once for the temperature and conductivity units (see the module doc).

    Counts values that can only be °C (below 32) or only °F (above 45) and takes the
    majority, so one broken reading cannot flip a whole file.
    """
    n_c = n_f = n_temp = n_us = n_ppt = 0
    header = Header()
    try:
        for record in iter_records(path, header):
            for p in record.probes:
                kind = p.type.lower()
                if kind not in ("temp", "cond"):
                    continue
                try:
                    v = float(p.value)
                except ValueError:
                    continue
                if kind == "temp":
                    n_temp += 1
                    n_c += v < C_BELOW
                    n_f += F_ABOVE < v
                else:
                    n_us += v > SALINITY_MAX_PPT
                    n_ppt += 0.0 <= v <= SALINITY_MAX_PPT
    except BrokenXML:
        pass  # the import itself reads up to the break, stores that, then reports it
    notices = []
    if temp_unit is not None:
        temperature = TEMP_UNITS[temp_unit]
    elif n_f > n_c:
        temperature = "°F"
        notices.append(
            f"{path.name}: temperatures have no unit in the file; {n_f} of {n_temp} are above"
            f" {F_ABOVE:g}, so read as °F (give --temp-unit C if the Apex shows °C)"
        )
    elif n_c > 0:
        temperature = "°C"
        notices.append(
            f"{path.name}: temperatures have no unit in the file; {n_c} of {n_temp} are below"
            f" {C_BELOW:g}, so read as °C (give --temp-unit F if the Apex shows °F)"
        )
    elif n_temp:
        raise UserError(
            f"{path.name}: cannot tell whether the {n_temp} temperatures are °C or °F (all"
            f" between {C_BELOW:g} and {F_ABOVE:g}); give --temp-unit C or --temp-unit F"
        )
    else:
        temperature = "°C"
    if n_us > n_ppt:
        conductivity = ("ec", "µS/cm")
        notices.append(f"{path.name}: Cond probe values above {SALINITY_MAX_PPT:g}: read as µS/cm")
    else:
        conductivity = ("salinity", "ppt")
        if n_ppt:
            notices.append(
                f"{path.name}: Cond probe values at most {SALINITY_MAX_PPT:g}: read as salinity"
                " in ppt (the probe's default mode)"
            )
    return Units(temperature, conductivity, tuple(notices))


def parse_map(pairs: list[str]) -> dict[str, str]:
    """``--map PROBE=SENSOR`` options as a dict, or a one-line error."""
    out: dict[str, str] = {}
    for pair in pairs:
        probe, sep, sensor = pair.partition("=")
        if not sep or not probe.strip() or not SEGMENT.match(sensor.strip()):
            raise UserError(
                f"--map {pair!r}: use PROBE=SENSOR, the sensor name 1 to 64 letters, digits,"
                " _ or - (e.g. --map Tmp=tank_temp)"
            )
        out[probe.strip()] = sensor.strip()
    return out


def import_file(
    path: Path,
    sink: ImportSink,
    *,
    site: str,
    tank: str,
    sensor_of: dict[str, str],
    temp_unit: str | None,
) -> Header:
    """Read one datalog into ``sink``; return its header (hostname, serial, offset)."""
    units = infer_units(path, temp_unit)
    for notice in units.notices:
        sink.notice(notice)
    header = Header()
    zone: timezone | None = None
    unmatched = set(sensor_of)
    for record in iter_records(path, header):
        if zone is None:
            if header.utc_offset_h is None:
                raise UserError(
                    f"{path.name}: no <timezone> before the first <record>; the times cannot"
                    " be placed (an Apex datalog gives its offset, e.g. <timezone>-8.00)"
                )
            zone = timezone(timedelta(hours=header.utc_offset_h))
        try:
            local = datetime.strptime(record.date, DATE_FORMAT)
        except ValueError:
            raise UserError(
                f"{path.name} record {record.index}: <date> {record.date!r} is not"
                " MM/DD/YYYY HH:MM:SS"
            ) from None
        ts_ms = int(local.replace(tzinfo=zone).timestamp() * 1000)
        for p in record.probes:
            unmatched.discard(p.name)
            sensor = sensor_of.get(p.name, p.name)
            if not SEGMENT.match(sensor):
                raise UserError(
                    f"{path.name} record {record.index}: probe name {p.name!r} cannot be a"
                    f" sensor name; give one with --map '{p.name}=SENSOR'"
                )
            where = f"record {record.index} ({record.date})"
            raw = f"<probe> name={p.name} type={p.type} value={p.value}"
            kind = p.type.lower()
            if kind not in PROBE_TYPES:
                known = ", ".join(sorted(PROBE_TYPES))
                sink.reject(
                    sensor, p.type, where, raw,
                    Rejected(
                        reasons.UNKNOWN_QUANTITY,
                        f"Apex probe type {p.type!r} has no tankeco quantity (known: {known})",
                    ),
                )  # fmt: skip
                continue
            quantity, unit = PROBE_TYPES[kind]
            if kind == "temp":
                unit = units.temperature
            elif kind == "cond":
                quantity, unit = units.conductivity
            sink.reading(
                Candidate(
                    site=site, tank=tank, sensor=sensor, quantity=quantity, value=p.value,
                    unit=unit, ts=ts_ms, source=f"apex:{header.serial or header.hostname}",
                ),
                where,
                raw,
            )  # fmt: skip
    for probe in sorted(unmatched):
        sink.notice(f"{path.name}: no probe named {probe!r} for --map {probe}={sensor_of[probe]}")
    return header
