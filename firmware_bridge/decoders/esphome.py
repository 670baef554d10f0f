"""ESPHome state topics: ``<prefix>/sensor/<object_id>/state`` carrying a bare number.

ESPHome sends no unit, time or sequence: the unit comes from the mapping, the time is the
bridge's receive time (flagged), and ``nan`` is how it says a sensor has no valid value.
"""

from __future__ import annotations

from firmware_bridge.candidate import Candidate
from firmware_bridge.decoders import Outcome
from firmware_bridge.jsonsafe import MAX_PAYLOAD_BYTES, decode_text
from firmware_bridge.mapping import Target


def decode(
    topic: str, payload: bytes, site: str, target: Target, max_bytes: int = MAX_PAYLOAD_BYTES
) -> list[Outcome]:
    text = decode_text(payload, max_bytes)
    return [
        Candidate(
            site=site,
            tank=target.tank,
            sensor=target.sensor,
            quantity=target.quantity,
            value=text,
            unit=target.unit if target.unit is not None else "pH",
            source=f"esphome:{topic}"[:200],
            scale=target.scale,
            offset=target.offset,
        )
    ]
