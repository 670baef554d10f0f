"""The mapping file: which device topic is which quantity of which tank.

ESPHome, Tasmota and Home Assistant name things after the device, not the tank.  The
keeper says once, in TOML, what each device value means::

    site = "home"

    [[esphome]]
    topic = "aquanode/sensor/water_temperature/state"
    tank = "main"
    sensor = "temp1"
    quantity = "temperature"
    unit = "°C"

    [[tasmota]]
    topic = "tele/tank-node/SENSOR"
    timezone = "Europe/Berlin"      # Tasmota's Time has no offset

      [[tasmota.values]]
      block = "DS18B20"             # JSON object in the telemetry
      id = "000008BD38BF"           # match the probe by its Id: numbering shifts
      tank = "main"
      sensor = "temp2"
      quantity = "temperature"      # unit from TempUnit

      [[tasmota.values]]
      block = "ANALOG"
      field = "A0"
      tank = "main"
      sensor = "ph1"
      quantity = "ph"
      unit = "pH"
      scale = -0.0057               # pH = counts * scale + offset (two-point calibration)
      offset = 12.1

    [[homeassistant]]
    discovery = "homeassistant/sensor/aquarium/ph/config"
    tank = "main"
    sensor = "ph2"
    quantity = "ph"                 # optional: from device_class when left out

Errors name the entry and the key (``tasmota[0].values[1].tank: missing``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tankeco.bridge import topics
from tankeco.errors import UserError
from tankeco.reasons import Rejected
from tankeco.units.quantities import lookup

_TOPIC = re.compile(r"^[^#+\x00]{1,512}$")


class MappingError(UserError):
    """The mapping file is wrong; the message names the entry, key and what is allowed."""


@dataclass(frozen=True)
class Target:
    """Where a device value goes: tank, sensor, quantity, and how to read it."""

    tank: str
    sensor: str
    quantity: str | None
    unit: str | None = None
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class TasmotaValue:
    block: str
    field: str
    id: str | None
    target: Target


@dataclass(frozen=True)
class TasmotaDevice:
    topic: str
    tz: tzinfo
    values: tuple[TasmotaValue, ...]


@dataclass(frozen=True)
class HomeAssistantEntity:
    discovery: str | None
    unique_id: str | None
    target: Target


@dataclass
class Mapping:
    site: str = "home"
    esphome: dict[str, Target] = field(default_factory=dict)
    tasmota: dict[str, TasmotaDevice] = field(default_factory=dict)
    homeassistant: list[HomeAssistantEntity] = field(default_factory=list)
    #: Filters for the native tree: all of it, or one worker's share (bridge.partition).
    native_filters: tuple[str, ...] = (topics.SUBSCRIPTION,)

    def subscriptions(self) -> list[str]:
        """Fixed topic filters the mapped devices need (HA state topics come later)."""
        subs = [*self.native_filters, *self.esphome, *self.tasmota]
        if self.homeassistant:
            prefixes = {
                (e.discovery.split("/", 1)[0] if e.discovery else "homeassistant")
                for e in self.homeassistant
            }
            for p in sorted(prefixes):
                subs += [f"{p}/+/+/config", f"{p}/+/+/+/config"]
        return subs


def _get(entry: dict[str, Any], key: str, where: str, kind: type, required: bool = True) -> Any:
    if key not in entry:
        if required:
            raise MappingError(f"{where}.{key}: missing")
        return None
    value = entry[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MappingError(f"{where}.{key} = {value!r}: must be a {kind.__name__}")
    return value


def _target(entry: dict[str, Any], where: str, quantity_required: bool = True) -> Target:
    tank = _get(entry, "tank", where, str)
    sensor = _get(entry, "sensor", where, str)
    for key, val in (("tank", tank), ("sensor", sensor)):
        if not topics.SEGMENT.match(val):
            raise MappingError(
                f"{where}.{key} = {val!r}: use letters, digits, _ and - (at most 64)"
            )
    quantity = _get(entry, "quantity", where, str, quantity_required)
    if quantity is not None:
        try:
            quantity = lookup(quantity).name
        except Rejected as exc:
            raise MappingError(f"{where}.quantity = {quantity!r}: {exc.detail}") from None
    scale = _get(entry, "scale", where, float, False)
    offset = _get(entry, "offset", where, float, False)
    return Target(
        tank,
        sensor,
        quantity,
        _get(entry, "unit", where, str, False),
        1.0 if scale is None else scale,
        0.0 if offset is None else offset,
    )


def _topic(entry: dict[str, Any], key: str, where: str, required: bool = True) -> str | None:
    t = _get(entry, key, where, str, required)
    if t is not None and not _TOPIC.match(t):
        raise MappingError(f"{where}.{key} = {t!r}: a concrete topic, no wildcards")
    return t


def _table_list(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MappingError(f"{where}{key}: must be an array of tables ([[{key}]])")
    return items


def parse_mapping(data: dict[str, Any]) -> Mapping:
    """Check a parsed TOML document and build the :class:`Mapping`."""
    known = {"site", "esphome", "tasmota", "homeassistant"}
    for key in data:
        if key not in known:
            raise MappingError(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    site = data.get("site", "home")
    if not isinstance(site, str) or not topics.SEGMENT.match(site):
        raise MappingError(f"site = {site!r}: use letters, digits, _ and -")
    m = Mapping(site=site)
    for i, e in enumerate(_table_list(data, "esphome", "")):
        where = f"esphome[{i}]"
        t = _topic(e, "topic", where)
        tgt = _target(e, where)
        if tgt.unit is None and tgt.quantity != "ph":
            raise MappingError(f"{where}.unit: missing (ESPHome sends bare numbers)")
        m.esphome[t] = tgt  # type: ignore[index]
    for i, e in enumerate(_table_list(data, "tasmota", "")):
        where = f"tasmota[{i}]"
        t = _topic(e, "topic", where)
        tz_name = _get(e, "timezone", where, str, False) or "UTC"
        try:
            tz: tzinfo = UTC if tz_name == "UTC" else ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"{where}.timezone = {tz_name!r}: not an IANA zone name") from None
        values = []
        for j, v in enumerate(_table_list(e, "values", where + ".")):
            w = f"{where}.values[{j}]"
            block = _get(v, "block", w, str)
            fld = _get(v, "field", w, str, False) or "Temperature"
            values.append(TasmotaValue(block, fld, _get(v, "id", w, str, False), _target(v, w)))
        if not values:
            raise MappingError(f"{where}.values: at least one [[tasmota.values]] is needed")
        m.tasmota[t] = TasmotaDevice(t, tz, tuple(values))  # type: ignore[index]
    for i, e in enumerate(_table_list(data, "homeassistant", "")):
        where = f"homeassistant[{i}]"
        disc = _topic(e, "discovery", where, False)
        uid = _get(e, "unique_id", where, str, False)
        if disc is None and uid is None:
            raise MappingError(f"{where}: give discovery (config topic) or unique_id")
        m.homeassistant.append(HomeAssistantEntity(disc, uid, _target(e, where, False)))
    return m


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (MappingError on any problem)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {str(p)!r} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {str(p)!r}: {exc}") from None
    return parse_mapping(data)
