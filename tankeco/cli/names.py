"""Site, tank and sensor names given on the command line: the MQTT topic segment rule."""

from __future__ import annotations

from tankeco.bridge.topics import SEGMENT
from tankeco.errors import UserError


def check_name(option: str, value: str) -> None:
    """One line if ``value`` cannot be a topic segment (so not a site, tank or sensor name)."""
    if not SEGMENT.match(value):
        raise UserError(f"{option} {value!r}: 1 to 64 letters, digits, _ or - (as in MQTT topics)")
