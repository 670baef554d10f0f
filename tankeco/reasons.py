"""Why a message was quarantined: a closed set of short, stable reason codes.

They are stored in the quarantine table and used as counter names, so keepers can count
and filter them; the free-text ``detail`` next to them says what exactly was wrong.
"""

from __future__ import annotations

from tankeco.errors import TankecoError


class Rejected(TankecoError):
    """A message (or one value of it) that must go to quarantine, with its reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in ALL:
            raise ValueError(f"unknown quarantine reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


NOT_UTF8 = "not_utf8"
OVERSIZE = "oversize"
INVALID_JSON = "invalid_json"
JSON_NONFINITE = "json_nan_infinity"
JSON_DUPLICATE_KEY = "json_duplicate_key"
BAD_SCHEMA = "bad_schema"
BAD_TOPIC = "bad_topic"
UNMAPPED = "unmapped_topic"
UNKNOWN_QUANTITY = "unknown_quantity"
UNKNOWN_UNIT = "unknown_unit"
NOT_A_NUMBER = "not_a_number"
SENTINEL = "sensor_sentinel"
OUT_OF_RANGE = "out_of_range"
JUMP = "impossible_jump"
TS_INVALID = "timestamp_invalid"
TS_TOO_OLD = "timestamp_too_old"
TS_FUTURE = "timestamp_future"
UNSUPPORTED_TEMPLATE = "unsupported_template"
#: Text the store cannot hold (a lone surrogate; U+0000 for PostgreSQL).
UNSTORABLE_TEXT = "unstorable_text"
#: The store refused the message's rows for another reason (found by splitting the batch).
STORE_REJECTED = "store_rejected"

ALL: frozenset[str] = frozenset(
    {
        NOT_UTF8,
        OVERSIZE,
        INVALID_JSON,
        JSON_NONFINITE,
        JSON_DUPLICATE_KEY,
        BAD_SCHEMA,
        BAD_TOPIC,
        UNMAPPED,
        UNKNOWN_QUANTITY,
        UNKNOWN_UNIT,
        NOT_A_NUMBER,
        SENTINEL,
        OUT_OF_RANGE,
        JUMP,
        TS_INVALID,
        TS_TOO_OLD,
        TS_FUTURE,
        UNSUPPORTED_TEMPLATE,
        UNSTORABLE_TEXT,
        STORE_REJECTED,
    }
)
