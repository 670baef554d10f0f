"""Tasmota telemetry: ``tele/<topic>/SENSOR`` JSON, one object per sensor.

Several DS18B20 probes appear as ``DS18B20-1``, ``DS18B20-2``… in an order that shifts when
a probe drops out, so a mapped probe is found by its ``Id``.  ``Time`` is local time
without an offset (the mapping gives the zone); ``TempUnit`` says C or F.
"""

from __future__ import annotations

from typing import Any

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome
from tankeco.bridge.jsonsafe import MAX_PAYLOAD_BYTES, decode_json_object
from tankeco.bridge.mapping import TasmotaDevice, TasmotaValue
from tankeco.reasons import Rejected


def _find_block(data: dict[str, Any], v: TasmotaValue) -> dict[str, Any] | None:
    if v.id is None:
        block = data.get(v.block)
        return block if isinstance(block, dict) else None
    want = v.id.strip().upper()
    for name, block in data.items():
        if (name == v.block or name.startswith(v.block + "-")) and isinstance(block, dict):
            if str(block.get("Id", "")).strip().upper() == want:
                return block
    return None


def decode(
    topic: str, payload: bytes, site: str, device: TasmotaDevice, max_bytes: int = MAX_PAYLOAD_BYTES
) -> list[Outcome]:
    data = decode_json_object(payload, max_bytes)
    temp_unit = data.get("TempUnit", "C")
    if temp_unit not in ("C", "F"):
        raise Rejected(reasons.UNKNOWN_UNIT, f"TempUnit {temp_unit!r:.20} (known: C, F)")
    ts = data.get("Time")
    out: list[Outcome] = []
    for v in device.values:
        label = f"{v.block}" + (f" Id {v.id}" if v.id else "") + f" {v.field}"
        block = _find_block(data, v)
        if block is None or v.field not in block:
            out.append(Rejected(reasons.BAD_SCHEMA, f"{label} not in the message"))
            continue
        t = v.target
        unit = t.unit
        if unit is None:
            unit = f"°{temp_unit}" if t.quantity == "temperature" else "pH"
        source = f"tasmota:{topic}:{v.block}" + (f":{v.id}" if v.id else f":{v.field}")
        out.append(
            Candidate(
                site=site,
                tank=t.tank,
                sensor=t.sensor,
                quantity=t.quantity,
                value=block[v.field],
                unit=unit,
                ts=ts,
                source=source[:200],
                tz=device.tz,
                scale=t.scale,
                offset=t.offset,
            )
        )
    return out
