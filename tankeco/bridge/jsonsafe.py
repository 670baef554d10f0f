"""Strict decoding of payload bytes: size, UTF-8 and JSON without Python's leniencies.

``json.loads`` happily returns ``nan`` for ``NaN``, ``inf`` for ``Infinity`` and keeps the
last of duplicate keys; a sensor value that arrives that way is wrong data that would pass
silently.  Here each of those is a :class:`~tankeco.reasons.Rejected` with its own
reason, and nothing is ever evaluated.
"""

from __future__ import annotations

import json
from typing import Any

from tankeco import reasons
from tankeco.reasons import Rejected

#: Largest payload the bridge accepts, in bytes; a reading is a few hundred.
MAX_PAYLOAD_BYTES = 16_384


def _reject_constant(name: str) -> Any:
    raise Rejected(reasons.JSON_NONFINITE, f"JSON constant {name} is not a number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Rejected(reasons.JSON_DUPLICATE_KEY, f"key {key!r} appears twice")
        out[key] = value
    return out


def decode_text(payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> str:
    """Payload bytes as text, or Rejected(oversize | not_utf8)."""
    if len(payload) > max_bytes:
        raise Rejected(reasons.OVERSIZE, f"{len(payload)} bytes > {max_bytes}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(reasons.NOT_UTF8, f"invalid byte at position {exc.start}") from None


#: One decoder for every message (``json.loads`` with options builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


def loads_strict(text: str) -> Any:
    """Parse JSON rejecting NaN/Infinity and duplicate keys."""
    try:
        return _DECODER.decode(text)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected(reasons.INVALID_JSON, "nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int() limits on huge literals
        raise Rejected(reasons.INVALID_JSON, str(exc).splitlines()[0][:200]) from None


def decode_json_object(payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """Payload bytes → JSON object (dict), or Rejected with the first thing wrong."""
    data = loads_strict(decode_text(payload, max_bytes))
    if not isinstance(data, dict):
        raise Rejected(reasons.BAD_SCHEMA, f"expected a JSON object, got {type(data).__name__}")
    return data
