"""Several bridge workers on Mosquitto: each takes a fixed share of the tanks.

Shared subscriptions on Mosquitto 2.0 hand a stopped worker its share anyway and are not
restored after a broker restart (docs/sensors.md).  Ordinary subscriptions in persistent
sessions have neither problem: the broker keeps them across restarts and queues what
they match while their client is away.  So each worker subscribes, in its own session
(its own ``--client-id``), to the topics of its own tanks only:

* ``--tanks home/main,home/qt,...`` names the tanks; every worker gets the same list.
* ``--partition K/N`` makes a worker take the tanks whose stable hash (SHA-256 of
  ``site/tank``) falls in share K of N.  The hash does not depend on the rest of the
  list, so adding a tank never moves another one to a different worker.
* ``--tanks`` without ``--partition`` is an explicit list: the worker takes exactly those.

MQTT topic filters can only match whole levels, so a share is a list of filters per tank
(``tankeco/v1/<site>/<tank>/+/state`` and the other kinds).  Status messages are the
exception: every worker subscribes to all of them (``tankeco/v1/+/+/+/status``; they are
rare, retained, and storing one twice changes nothing), and one from a tank that is in
nobody's list is logged and counted (``unassigned_tank``): without that, a tank left out
of ``--tanks`` would be taken in by no worker, silently.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from tankeco.bridge import topics
from tankeco.bridge.mapping import Mapping
from tankeco.errors import UserError

_SPLIT = re.compile(r"[,\s]+")
#: Kinds a worker subscribes to per owned tank (status: see the module docstring).
_SENSOR_KINDS = ("state", "meta", "manual", "events")
_TANK_KINDS = ("manual", "events")
#: Status of every tank, for every worker.
STATUS_FILTERS = (f"{topics.ROOT}/+/+/+/status", f"{topics.ROOT}/+/+/status")


def parse_tanks(text: str) -> tuple[tuple[str, str], ...]:
    """``home/main,home/qt`` (commas or white space) as sorted (site, tank) pairs."""
    tanks: set[tuple[str, str]] = set()
    for item in _SPLIT.split(text.strip()):
        if not item:
            continue
        parts = item.split("/")
        if len(parts) != 2 or not all(topics.SEGMENT.match(p) for p in parts):
            raise UserError(
                f"--tanks {item!r}: give SITE/TANK, each of letters, digits, _ and - (at most"
                " 64), separated by commas"
            )
        tanks.add((parts[0], parts[1]))
    if not tanks:
        raise UserError(f"--tanks {text!r}: no SITE/TANK given")
    return tuple(sorted(tanks))


def parse_partition(text: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N <= 64."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= 64:
        raise UserError(f"--partition {text!r}: give K/N with 1 <= K <= N <= 64 (e.g. 1/2)")
    return int(m[1]), int(m[2])


def share_of(site: str, tank: str, n: int) -> int:
    """Which of ``n`` shares (1..n) the tank falls in: SHA-256 of ``site/tank``, mod n."""
    digest = hashlib.sha256(f"{site}/{tank}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


@dataclass(frozen=True)
class Partition:
    """The tanks every worker knows of, and the share this worker takes."""

    tanks: tuple[tuple[str, str], ...]
    k: int = 1
    n: int = 1

    def __post_init__(self) -> None:
        if not self.owned:
            names = ", ".join(f"{s}/{t}" for s, t in self.tanks)
            raise UserError(
                f"--partition {self.k}/{self.n}: none of the {len(self.tanks)} tanks in"
                f" --tanks ({names}) falls in this share; run fewer workers, or give each"
                " worker its own --tanks list without --partition"
            )

    @property
    def owned(self) -> tuple[tuple[str, str], ...]:
        """The tanks this worker takes in."""
        return tuple(t for t in self.tanks if share_of(*t, self.n) == self.k)

    def native_filters(self) -> tuple[str, ...]:
        """Topic filters of this worker's share of the native tree, and every status."""
        out: list[str] = []
        for site, tank in self.owned:
            base = f"{topics.ROOT}/{site}/{tank}"
            out += [f"{base}/+/{kind}" for kind in _SENSOR_KINDS]
            out += [f"{base}/{kind}" for kind in _TANK_KINDS]
        return (*out, *STATUS_FILTERS)

    def restrict(self, mapping: Mapping) -> Mapping:
        """The mapping with only the devices that feed one of this worker's tanks."""
        mine = {tank for site, tank in self.owned if site == mapping.site}
        return replace(
            mapping,
            native_filters=self.native_filters(),
            esphome={t: v for t, v in mapping.esphome.items() if v.tank in mine},
            tasmota={
                t: d
                for t, d in mapping.tasmota.items()
                if any(v.target.tank in mine for v in d.values)
            },
            homeassistant=[e for e in mapping.homeassistant if e.target.tank in mine],
        )

    def describe(self) -> str:
        names = ", ".join(f"{s}/{t}" for s, t in self.owned)
        return f"partition {self.k}/{self.n}: tanks {names}"
