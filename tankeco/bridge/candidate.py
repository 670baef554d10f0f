"""What a decoder hands to validation: one value as the device sent it, not yet trusted.

Decoders only take payloads apart; they never judge values.  Keeping the raw value, unit
and timestamp here means every check (and its quarantine reason) lives in one place,
:mod:`tankeco.bridge.validate`, whatever the format the value came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from tankeco.store import NO_SEQ


@dataclass(slots=True)
class Candidate:
    """One raw sensor value with where it belongs.

    Not frozen: one is made per message, and a frozen dataclass's ``__init__`` (a
    ``object.__setattr__`` per field) took 4 µs of the bridge's ~15 µs per message;
    decoders build it and validation only reads it.
    """

    site: str
    tank: str
    sensor: str
    quantity: object
    value: object
    unit: object
    ts: object = None
    seq: int = NO_SEQ
    source: str = ""
    quality: str = "ok"
    #: Zone for timestamps sent without an offset (Tasmota sends local time).
    tz: tzinfo = UTC
    #: Linear calibration applied to a raw value (e.g. Tasmota ANALOG counts): v*scale+offset.
    scale: float = 1.0
    offset: float = 0.0
