"""Times written as text: an ISO-8601 date/time to epoch milliseconds.

One rule for every place a keeper writes a time (``--time``/``--since`` on the command
line, the time column of an imported spreadsheet or history file): a time with an offset
(``Z``, ``+01:00``) is that instant; one without is wall-clock time in the zone given, or
in the machine's local zone (with its daylight-saving rules) when none is given.
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def iso_to_ms(text: str, tz: tzinfo | None = None) -> tuple[int, bool]:
    """(epoch ms, whether the text carried its own offset) of an ISO-8601 date/time.

    Raises :class:`ValueError` for text that is not one; the caller words the error for
    where the text came from (an option, a line of a file).
    """
    dt = datetime.fromisoformat(text.strip())
    had_offset = dt.tzinfo is not None
    if not had_offset:
        dt = dt.replace(tzinfo=tz) if tz is not None else dt.astimezone()
    return int(dt.timestamp() * 1000), had_offset
