"""The native topic schema: ``tankeco/v1/<site>/<tank>[/<sensor>]/<kind>``.

``state`` (QoS 1) carries readings, ``meta`` (retained) describes a sensor, ``status``
(retained, also the last will) says online/offline, ``manual`` carries test-kit entries
and ``events`` feedings, water changes and dosing.  ``manual`` and ``events`` may also be
published per tank, without a sensor segment.  The version segment lets the payload
schema change without breaking old nodes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tankeco import reasons
from tankeco.reasons import Rejected

ROOT = "tankeco/v1"
KINDS = ("state", "meta", "manual", "events", "status")
#: Kinds that may be sent for a whole tank, without a sensor segment.
TANK_KINDS = ("manual", "events", "status")
#: Site, tank and sensor names: letters, digits, ``_`` and ``-``; no MQTT wildcards.
SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Filter the bridge subscribes to for the whole native tree.
SUBSCRIPTION = f"{ROOT}/#"


@dataclass(frozen=True)
class NativeTopic:
    site: str
    tank: str
    sensor: str | None
    kind: str


def is_native(topic: str) -> bool:
    return topic.startswith(ROOT + "/")


@functools.lru_cache(maxsize=4096)
def parse(topic: str) -> NativeTopic:
    """Split a native topic, or Rejected(bad_topic) saying what is wrong.

    Cached: a site has a few dozen topics that repeat in every message, so splitting and
    checking each once (about 6 % of the bridge's time per message) is enough.
    """
    if not is_native(topic):
        raise Rejected(reasons.BAD_TOPIC, f"{topic!r:.120} is not under {ROOT}/")
    parts = topic[len(ROOT) + 1 :].split("/")
    if len(parts) == 4:
        site, tank, sensor, kind = parts
    elif len(parts) == 3 and parts[2] in TANK_KINDS:
        (site, tank, kind), sensor = parts, None
    else:
        raise Rejected(
            reasons.BAD_TOPIC, f"{topic!r:.120}: expected {ROOT}/<site>/<tank>/<sensor>/<kind>"
        )
    if kind not in KINDS:
        raise Rejected(reasons.BAD_TOPIC, f"kind {kind!r:.30} (known: {', '.join(KINDS)})")
    for name, seg in (("site", site), ("tank", tank), ("sensor", sensor)):
        if seg is not None and not SEGMENT.match(seg):
            raise Rejected(
                reasons.BAD_TOPIC, f"{name} {seg!r:.70} must match [A-Za-z0-9_-]{{1,64}}"
            )
    return NativeTopic(site, tank, sensor, kind)


def build(site: str, tank: str, sensor: str | None, kind: str) -> str:
    """The topic a node publishes ``kind`` on (raises ValueError on bad names)."""
    if kind not in KINDS or (sensor is None and kind not in TANK_KINDS):
        raise ValueError(f"kind {kind!r} not allowed here")
    for seg in (site, tank, sensor):
        if seg is not None and not SEGMENT.match(seg):
            raise ValueError(f"{seg!r} must match [A-Za-z0-9_-]{{1,64}}")
    middle = f"{site}/{tank}" + (f"/{sensor}" if sensor else "")
    return f"{ROOT}/{middle}/{kind}"
