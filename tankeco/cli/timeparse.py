"""Times on the command line: ``7d``/``12h``/``30m``/``2w`` ago, or an ISO-8601 date/time.

A date/time without an offset is the keeper's wall-clock time: it is read in ``--tz`` where
the command has one, else in the machine's local zone, the zone ``compare`` and the
dashboard show times in.  (Reading it as UTC stored "18:00" an hour or more off.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from tankeco.errors import UserError
from tankeco.units.timestamps import iso_to_ms

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since_ms(
    text: str, now_ms: int, option: str = "--since", tz: tzinfo | None = None
) -> int:
    """Epoch ms for ``7d`` (seven days before ``now_ms``) or an ISO date/time.

    A date/time without an offset is wall-clock time in ``tz`` (None: the local zone).
    """
    m = _AGO.match(text)
    if m:
        return now_ms - int(float(m.group(1)) * _UNIT_MS[m.group(2)])
    return parse_time_ms(text, option, tz)


def parse_time_ms(text: str, option: str = "--time", tz: tzinfo | None = None) -> int:
    """Epoch ms of an ISO date/time; without an offset it is wall-clock time in ``tz``.

    ``tz`` None is the machine's local zone (:meth:`datetime.astimezone` on a naive value).
    """
    try:
        return iso_to_ms(text, tz)[0]
    except ValueError:
        raise UserError(
            f"{option} {text!r}: use e.g. 7d, 12h, 30m, 2w or an ISO time like"
            " 2026-11-26T09:00 (local time) or 2026-11-26T09:00Z (UTC)"
        ) from None


def iso_utc(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
