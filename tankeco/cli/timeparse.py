"""Times on the command line: ``7d``/``12h``/``30m``/``2w`` ago, or an ISO-8601 date/time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tankeco.errors import UserError

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since_ms(text: str, now_ms: int, option: str = "--since") -> int:
    """Epoch ms for ``7d`` (seven days before ``now_ms``) or an ISO date/time (UTC if naive)."""
    m = _AGO.match(text)
    if m:
        return now_ms - int(float(m.group(1)) * _UNIT_MS[m.group(2)])
    return parse_time_ms(text, option)


def parse_time_ms(text: str, option: str = "--time") -> int:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r}: use e.g. 7d, 12h, 30m, 2w or an ISO time like 2026-11-26T09:00Z"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def iso_utc(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
