"""The native JSON schema under ``tankeco/v1/...`` (see :mod:`tankeco.bridge.topics`).

State payload::

    {"v":1,"ts":"2026-11-26T09:51:57.512Z","seq":1234,"quantity":"temperature",
     "value":25.06,"unit":"°C","quality":"ok","source":{"kind":"ds18b20","id":"28-…"}}

``ts`` and ``seq`` are optional (receive time is then used and flagged); ``v`` must be 1.
"""

from __future__ import annotations

import json
from typing import Any

from tankeco import reasons
from tankeco.bridge import topics
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome
from tankeco.bridge.event_messages import make_event
from tankeco.bridge.jsonsafe import MAX_PAYLOAD_BYTES, decode_json_object, decode_text
from tankeco.bridge.manual_entries import make_manual_entry
from tankeco.bridge.validate import check_time, parse_timestamp
from tankeco.reasons import Rejected
from tankeco.store import NO_SEQ, SensorState

SCHEMA_VERSION = 1
STATUSES = ("online", "offline")


def _version(data: dict[str, Any]) -> None:
    v = data.get("v")
    if v != SCHEMA_VERSION or isinstance(v, bool):
        raise Rejected(reasons.BAD_SCHEMA, f"v = {v!r:.20}: this bridge reads v = {SCHEMA_VERSION}")


def _seq(data: dict[str, Any]) -> int:
    seq = data.get("seq", NO_SEQ)
    if seq == NO_SEQ:
        return NO_SEQ
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise Rejected(reasons.BAD_SCHEMA, f"seq = {seq!r:.30}: a non-negative integer")
    return seq


def _source(data: dict[str, Any]) -> str:
    src = data.get("source")
    if src is None:
        return "native"
    if not isinstance(src, dict):
        raise Rejected(reasons.BAD_SCHEMA, "source must be an object {kind, id}")
    kind, ident = src.get("kind", ""), src.get("id", "")
    if not isinstance(kind, str) or not isinstance(ident, str):
        raise Rejected(reasons.BAD_SCHEMA, "source.kind and source.id must be strings")
    return f"{kind}:{ident}"[:200]


def _event_time(data: dict[str, Any], received_ms: int) -> int:
    if data.get("ts") is None:
        return received_ms
    ts_ms = parse_timestamp(data["ts"])
    check_time(ts_ms, received_ms)
    return ts_ms


def _require(data: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise Rejected(reasons.BAD_SCHEMA, f"missing {', '.join(missing)}")


def decode(
    topic: str, payload: bytes, received_ms: int, max_bytes: int = MAX_PAYLOAD_BYTES
) -> list[Outcome]:
    """Outcomes of one native message (raises Rejected if the whole message is bad)."""
    t = topics.parse(topic)
    sensor = t.sensor or "_tank"
    if t.kind == "status":
        text = decode_text(payload, max_bytes).strip().lower()
        if text not in STATUSES:
            raise Rejected(reasons.BAD_SCHEMA, f"status {text!r:.30} (known: online, offline)")
        return [SensorState(t.site, t.tank, sensor, None, text, None)]
    data = decode_json_object(payload, max_bytes)
    if t.kind == "meta":
        return [SensorState(t.site, t.tank, sensor, None, None, json.dumps(data, sort_keys=True))]
    _version(data)
    if t.kind == "state":
        if t.sensor is None:
            raise Rejected(reasons.BAD_TOPIC, "state needs a sensor segment")
        _require(data, "quantity", "value", "unit")
        quality = data.get("quality", "ok")
        return [
            Candidate(
                site=t.site,
                tank=t.tank,
                sensor=t.sensor,
                quantity=data["quantity"],
                value=data["value"],
                unit=data["unit"],
                ts=data.get("ts"),
                seq=_seq(data),
                source=_source(data),
                quality=quality if isinstance(quality, str) else repr(quality)[:30],
            )
        ]
    note = data.get("note", "")
    if not isinstance(note, str):
        raise Rejected(reasons.BAD_SCHEMA, "note must be a string")
    if t.kind == "manual":
        _require(data, "quantity", "value")
        value, unit, kit = data["value"], data.get("unit"), data.get("kit", "")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Rejected(reasons.NOT_A_NUMBER, f"value {value!r:.30}")
        if not (unit is None or isinstance(unit, str)) or not isinstance(kit, str):
            raise Rejected(reasons.BAD_SCHEMA, "unit and kit must be strings")
        return [
            make_manual_entry(
                ts_ms=_event_time(data, received_ms),
                site=t.site,
                tank=t.tank,
                quantity=data["quantity"],
                value=value,
                unit=unit,
                kit=kit,
                note=note,
                source=f"mqtt:{sensor}",
            )
        ]
    _require(data, "kind", "amount", "unit")
    return [
        make_event(
            ts_ms=_event_time(data, received_ms),
            site=t.site,
            tank=t.tank,
            kind=data["kind"],
            amount=data["amount"],
            unit=data["unit"],
            note=note,
            source=f"mqtt:{sensor}",
        )
    ]
