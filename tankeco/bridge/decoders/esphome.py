"""ESPHome state topics: ``<prefix>/sensor/<object_id>/state`` carrying a bare number.

ESPHome sends no unit, time or sequence: the unit comes from the mapping, the time is the
bridge's receive time (flagged), and ``nan`` is how it says a sensor has no valid value.
"""

from __future__ import annotations

from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome
from tankeco.bridge.jsonsafe import MAX_PAYLOAD_BYTES, decode_text
from tankeco.bridge.mapping import Target


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
