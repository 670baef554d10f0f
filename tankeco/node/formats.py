"""The node's plan as MQTT messages, in the format a real node of each family would send.

* ``native``: the tankeco schema (``tankeco/v1/...``): JSON with device time and a sequence
  number, retained ``meta`` per sensor, retained ``status`` that is also the last will.
* ``esphome``: bare numbers on ``<device>/sensor/<object_id>/state`` (retained, as
  ESPHome does by default), ``<device>/status`` online/offline.  No time, no unit: the
  bridge's mapping gives the unit and the receive time is used.
* ``tasmota``: one ``tele/<device>/SENSOR`` JSON per telemetry period with the DS18B20
  (by ``Id``) and the ADC counts of the pH and ammonia amplifiers in ``ANALOG``, local
  time without offset (the node runs on UTC); ``tele/<device>/LWT`` Online/Offline.

Feedings, water changes, dosing and kit readings have no ESPHome or Tasmota form; in every
format they go to the native ``events`` and ``manual`` topics, as a keeper's logging app
would send them.  :func:`bridge_mapping_toml` writes the mapping the bridge needs to file
ESPHome and Tasmota values under the same tank and sensor names as native ones.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tankeco.bridge import topics
from tankeco.node.reading_plan import NH3, PH, TEMP, KitEntry, NodePlan, TankEvent
from tankeco.node.sensors import DS18B20_STEP_C

FORMATS = ("native", "esphome", "tasmota")

#: pH amplifier on a 12-bit, 3.3 V ADC: ~2.5 V at pH 7 and −0.18 V per pH unit.
PH_COUNTS_AT_7 = 3102
PH_COUNTS_PER_PH = -223.0
#: Ammonia amplifier: 1 count per 0.001 mg/L NH3 (full scale 4.095 mg/L).
NH3_MG_L_PER_COUNT = 0.001
ADC_MAX_COUNTS = 4095

#: (quantity, unit, decimals the device prints, source kind, ESPHome object id) per sensor.
SENSOR_SPECS: dict[str, tuple[str, str, int, str, str]] = {
    TEMP: ("temperature", "°C", 4, "ds18b20", "water_temperature"),
    PH: ("ph", "pH", 2, "ph_probe", "ph"),
    NH3: ("nh3_n", "mg/L NH3", 3, "nh3_monitor", "free_ammonia"),
}


@dataclass(frozen=True)
class Outgoing:
    """One MQTT message and the simulated time (s from start) at which the node sends it."""

    t_s: float
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1


def iso_ms(ts_ms: int) -> str:
    """``2026-11-26T09:51:57.512Z`` — the native schema's timestamp."""
    dt = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ms % 1000:03d}Z"


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def device_name(plan: NodePlan) -> str:
    """ESPHome/Tasmota device name: lower case, letters, digits and ``-``."""
    s = plan.settings
    return f"{s.node}-{s.tank}".lower().replace("_", "-")


def ph_counts(ph: float) -> int:
    return int(np.clip(round(PH_COUNTS_AT_7 + PH_COUNTS_PER_PH * (ph - 7.0)), 0, ADC_MAX_COUNTS))


def nh3_counts(nh3_mg_l: float) -> int:
    return int(np.clip(round(nh3_mg_l / NH3_MG_L_PER_COUNT), 0, ADC_MAX_COUNTS))


def ph_from_counts(counts: float) -> float:
    """The mapping's linear calibration, inverse of :func:`ph_counts`."""
    return counts / PH_COUNTS_PER_PH + (7.0 - PH_COUNTS_AT_7 / PH_COUNTS_PER_PH)


class Encoder(ABC):
    """Shared part: kit readings and events on the native tree, whatever the format."""

    fmt = ""

    def __init__(self, plan: NodePlan) -> None:
        self.plan = plan
        self.s = plan.settings

    def native_topic(self, sensor: str | None, kind: str) -> str:
        return topics.build(self.s.site, self.s.tank, sensor, kind)

    def value(self, sensor: str, i: int) -> float | None:
        """The sensor's reading at tick ``i``, rounded as the device prints it."""
        raw = {TEMP: self.plan.temp_c, PH: self.plan.ph, NH3: self.plan.nh3_mg_l}[sensor][i]
        if np.isnan(raw):
            return None
        return round(float(raw), SENSOR_SPECS[sensor][2])

    def kit(self, e: KitEntry) -> list[Outgoing]:
        body = {"v": 1, "ts": iso_ms(e.ts_ms), "quantity": e.quantity, "value": e.value,
                "unit": e.unit, "kit": e.kit}  # fmt: skip
        return [Outgoing(e.t_s, self.native_topic(None, "manual"), _json(body))]

    def event(self, e: TankEvent) -> list[Outgoing]:
        body = {"v": 1, "ts": iso_ms(e.ts_ms), "kind": e.kind, "amount": e.amount,
                "unit": e.unit, "note": e.note}  # fmt: skip
        return [Outgoing(e.t_s, self.native_topic(None, "events"), _json(body))]

    # -- per format ------------------------------------------------------------------
    @abstractmethod
    def will(self) -> Outgoing:
        """The last will: what the broker publishes if the node vanishes."""

    @abstractmethod
    def birth(self, t_s: float = 0.0) -> list[Outgoing]:
        """What the node publishes on connecting (status, retained metadata)."""

    @abstractmethod
    def tick(self, i: int) -> list[Outgoing]:
        """The messages of reading tick ``i`` (none for a sensor not read at that tick)."""

    def goodbye(self, t_s: float) -> Outgoing:
        w = self.will()
        return Outgoing(t_s, w.topic, w.payload, retain=True)


class NativeEncoder(Encoder):
    fmt = "native"

    def __init__(self, plan: NodePlan) -> None:
        super().__init__(plan)
        self.seq = 0
        self.source_ids = {
            TEMP: plan.probes.ds18b20_rom,
            PH: f"{self.s.node}-ph",
            NH3: f"{self.s.node}-nh3",
        }

    def will(self) -> Outgoing:
        return Outgoing(0.0, self.native_topic(self.s.node, "status"), b"offline", retain=True)

    def _meta(self, sensor: str) -> bytes:
        quantity, unit, decimals, kind, _ = SENSOR_SPECS[sensor]
        resolution, value_range = {
            TEMP: (DS18B20_STEP_C, [-55.0, 125.0]),
            PH: (0.01, [0.0, 14.0]),
            NH3: (0.001, [0.0, 4.0]),
        }[sensor]
        calibrated = iso_ms(self.s.start_ms)[:10] if sensor == PH else None
        return _json({"v": 1, "quantity": quantity, "unit": unit, "resolution": resolution,
                      "range": value_range, "calibration_date": calibrated,
                      "source": {"kind": kind, "id": self.source_ids[sensor]}})  # fmt: skip

    def birth(self, t_s: float = 0.0) -> list[Outgoing]:
        out = [Outgoing(t_s, self.native_topic(self.s.node, "status"), b"online", retain=True)]
        for sensor in SENSOR_SPECS:
            out.append(
                Outgoing(t_s, self.native_topic(sensor, "meta"), self._meta(sensor), retain=True)
            )
        return out

    def tick(self, i: int) -> list[Outgoing]:
        t_s, ts = float(self.plan.t_s[i]), iso_ms(int(self.plan.ts_ms[i]))
        out = []
        for sensor, (quantity, unit, _, kind, _) in SENSOR_SPECS.items():
            value = self.value(sensor, i)
            if value is None:
                continue
            self.seq += 1
            body = {"v": 1, "ts": ts, "seq": self.seq, "quantity": quantity, "value": value,
                    "unit": unit, "quality": "ok",
                    "source": {"kind": kind, "id": self.source_ids[sensor]}}  # fmt: skip
            out.append(Outgoing(t_s, self.native_topic(sensor, "state"), _json(body)))
        return out


class EsphomeEncoder(Encoder):
    fmt = "esphome"

    def state_topic(self, sensor: str) -> str:
        return f"{device_name(self.plan)}/sensor/{SENSOR_SPECS[sensor][4]}/state"

    def will(self) -> Outgoing:
        return Outgoing(0.0, f"{device_name(self.plan)}/status", b"offline", retain=True)

    def birth(self, t_s: float = 0.0) -> list[Outgoing]:
        return [Outgoing(t_s, f"{device_name(self.plan)}/status", b"online", retain=True)]

    def tick(self, i: int) -> list[Outgoing]:
        t_s = float(self.plan.t_s[i])
        out = []
        for sensor, spec in SENSOR_SPECS.items():
            value = self.value(sensor, i)
            if value is not None:
                text = f"{value:.{spec[2]}f}".encode()
                out.append(Outgoing(t_s, self.state_topic(sensor), text, retain=True))
        return out


class TasmotaEncoder(Encoder):
    fmt = "tasmota"
    #: Tasmota ``TempRes 2``: temperatures printed with two decimals.
    temp_decimals = 2

    def __init__(self, plan: NodePlan) -> None:
        super().__init__(plan)
        if np.isnan(plan.nh3_mg_l).any():
            raise ValueError("tasmota reads every ADC channel each period: ammonia interval")
        self.ds_id = plan.probes.ds18b20_rom.removeprefix("28-").upper()

    @property
    def topic(self) -> str:
        return f"tele/{device_name(self.plan)}/SENSOR"

    def will(self) -> Outgoing:
        return Outgoing(0.0, f"tele/{device_name(self.plan)}/LWT", b"Offline", retain=True)

    def birth(self, t_s: float = 0.0) -> list[Outgoing]:
        return [Outgoing(t_s, f"tele/{device_name(self.plan)}/LWT", b"Online", retain=True)]

    def tick(self, i: int) -> list[Outgoing]:
        p = self.plan
        local = datetime.fromtimestamp(int(p.ts_ms[i]) // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body = {
            "Time": local,
            "DS18B20": {"Id": self.ds_id, "Temperature": round(float(p.temp_c[i]), 2)},
            "ANALOG": {"A0": ph_counts(float(p.ph[i])), "A1": nh3_counts(float(p.nh3_mg_l[i]))},
            "TempUnit": "C",
        }
        return [Outgoing(float(p.t_s[i]), self.topic, _json(body))]


ENCODERS: dict[str, type[Encoder]] = {
    "native": NativeEncoder,
    "esphome": EsphomeEncoder,
    "tasmota": TasmotaEncoder,
}


def make_encoder(plan: NodePlan, fmt: str) -> Encoder:
    if fmt not in ENCODERS:
        raise ValueError(f"format {fmt!r} (known: {', '.join(FORMATS)})")
    return ENCODERS[fmt](plan)


def messages(encoder: Encoder) -> Iterator[Outgoing]:
    """The run's messages in sending order: birth, then readings, kit entries and events.

    The goodbye (:meth:`Encoder.goodbye`) is left to the publisher, which sends it however
    the run ends.
    """
    yield from encoder.birth(0.0)
    for item in encoder.plan.items():
        if isinstance(item, KitEntry):
            yield from encoder.kit(item)
        elif isinstance(item, TankEvent):
            yield from encoder.event(item)
        else:
            yield from encoder.tick(item)


def bridge_mapping_toml(encoder: Encoder) -> str:
    """The bridge's ``--mapping`` file that files this node's values under its tank."""
    s, dev = encoder.s, device_name(encoder.plan)
    head = f'# mapping for the virtual node {s.node!r} ({encoder.fmt})\nsite = "{s.site}"\n'
    if isinstance(encoder, EsphomeEncoder):
        parts = [head]
        for sensor, (quantity, unit, _, _, _) in SENSOR_SPECS.items():
            parts.append(
                f'\n[[esphome]]\ntopic = "{encoder.state_topic(sensor)}"\ntank = "{s.tank}"\n'
                f'sensor = "{sensor}"\nquantity = "{quantity}"\nunit = "{unit}"\n'
            )
        return "".join(parts)
    if isinstance(encoder, TasmotaEncoder):
        ph_offset = 7.0 - PH_COUNTS_AT_7 / PH_COUNTS_PER_PH
        return head + (
            f'\n[[tasmota]]\ntopic = "tele/{dev}/SENSOR"\ntimezone = "UTC"\n'
            f'\n  [[tasmota.values]]\n  block = "DS18B20"\n  id = "{encoder.ds_id}"\n'
            f'  tank = "{s.tank}"\n  sensor = "{TEMP}"\n  quantity = "temperature"\n'
            f'\n  [[tasmota.values]]\n  block = "ANALOG"\n  field = "A0"\n  tank = "{s.tank}"\n'
            f'  sensor = "{PH}"\n  quantity = "ph"\n  unit = "pH"\n'
            f"  scale = {1.0 / PH_COUNTS_PER_PH!r}\n  offset = {ph_offset!r}\n"
            f'\n  [[tasmota.values]]\n  block = "ANALOG"\n  field = "A1"\n  tank = "{s.tank}"\n'
            f'  sensor = "{NH3}"\n  quantity = "nh3_n"\n  unit = "mg/L NH3"\n'
            f"  scale = {NH3_MG_L_PER_COUNT!r}\n"
        )
    return head + "# native messages need no mapping\n"
