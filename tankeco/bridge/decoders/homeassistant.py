"""Sensors described by Home Assistant MQTT discovery.

A retained config on ``homeassistant/<component>/[<node_id>/]<object_id>/config`` names the
state topic, unit and device class; values then arrive on the state topic.  Templates are
never evaluated: only the plain forms ``{{ value }}`` and ``{{ value_json.a.b }}`` (or
``['a']``, optionally ``| float``) are understood, by pattern, and anything else is
quarantined as ``unsupported_template`` so the keeper knows to map that sensor another way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tankeco import reasons
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome
from tankeco.bridge.jsonsafe import (
    MAX_PAYLOAD_BYTES,
    decode_json_object,
    decode_text,
    loads_strict,
)
from tankeco.bridge.mapping import HomeAssistantEntity, Target
from tankeco.reasons import Rejected

#: Abbreviations HA allows in discovery payloads, for the keys the bridge reads.
ABBREVIATIONS = {
    "stat_t": "state_topic",
    "unit_of_meas": "unit_of_measurement",
    "dev_cla": "device_class",
    "val_tpl": "value_template",
    "uniq_id": "unique_id",
    "stat_cla": "state_class",
}
#: HA device classes that name a quantity the bridge knows.
DEVICE_CLASSES = {"temperature": "temperature", "ph": "ph", "conductivity": "ec"}

_TEMPLATE = re.compile(
    r"^\{\{\s*value(?P<json>_json(?P<path>(?:\.[A-Za-z_][A-Za-z0-9_]*"
    r"|\[\s*(?:'[^'\]]*'|\"[^\"\]]*\"|\d+)\s*\])+))?"
    r"\s*(?:\|\s*(?:float|int)(?:\(\s*\d*\s*\))?\s*)?\}\}$"
)
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^'\]]*)'|\"([^\"\]]*)\"|(\d+))\s*\]")
_CONFIG = re.compile(r"^[^/]+/[^/]+/(?:[^/]+/)?[^/]+/config$")


def parse_template(template: str | None) -> tuple[bool, tuple[str | int, ...]]:
    """(is JSON, path) for a supported template, else Rejected(unsupported_template)."""
    if template is None:
        return False, ()
    m = _TEMPLATE.match(template.strip())
    if not m:
        raise Rejected(reasons.UNSUPPORTED_TEMPLATE, f"{template!r:.120}")
    if not m.group("json"):
        return False, ()
    path: list[str | int] = []
    for attr, sq, dq, idx in _STEP.findall(m.group("path")):
        path.append(int(idx) if idx else (attr or sq or dq))
    return True, tuple(path)


def is_config_topic(topic: str) -> bool:
    return bool(_CONFIG.match(topic))


@dataclass(frozen=True)
class Entity:
    """A discovered sensor the mapping claims: where its values go and how to read them."""

    state_topic: str
    target: Target
    quantity: str
    unit: str | None
    is_json: bool
    path: tuple[str | int, ...]
    source: str


class Registry:
    """Discovered entities by state topic; fed by config messages."""

    def __init__(self, site: str, entities: list[HomeAssistantEntity]) -> None:
        self.site = site
        self.claims = entities
        self.by_state_topic: dict[str, Entity] = {}
        self._config_to_state: dict[str, str] = {}

    def _claim(self, topic: str, unique_id: object) -> HomeAssistantEntity | None:
        for e in self.claims:
            if e.discovery == topic or (e.unique_id is not None and e.unique_id == unique_id):
                return e
        return None

    def knows_config(self, topic: str) -> bool:
        """Whether the config on ``topic`` was claimed by the mapping and is in use."""
        return topic in self._config_to_state

    def on_config(
        self, topic: str, payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES
    ) -> list[str]:
        """Register (or, for an empty payload, forget) a config; return new state topics."""
        if not payload:
            old = self._config_to_state.pop(topic, None)
            if old is not None:
                self.by_state_topic.pop(old, None)
            return []
        raw = decode_json_object(payload, max_bytes)
        cfg: dict[str, Any] = {ABBREVIATIONS.get(k, k): v for k, v in raw.items()}
        claim = self._claim(topic, cfg.get("unique_id"))
        if claim is None:
            return []
        state = cfg.get("state_topic")
        base = cfg.get("~")
        if isinstance(state, str) and isinstance(base, str):
            if state.startswith("~"):
                state = base + state[1:]
            elif state.endswith("~"):
                state = state[:-1] + base
        if not isinstance(state, str) or not state or "#" in state or "+" in state:
            raise Rejected(reasons.BAD_SCHEMA, f"state_topic {state!r:.80}")
        unit = cfg.get("unit_of_measurement")
        if unit is not None and not isinstance(unit, str):
            raise Rejected(reasons.BAD_SCHEMA, "unit_of_measurement must be a string")
        template = cfg.get("value_template")
        if template is not None and not isinstance(template, str):
            raise Rejected(reasons.BAD_SCHEMA, "value_template must be a string")
        is_json, path = parse_template(template)
        quantity = claim.target.quantity or DEVICE_CLASSES.get(str(cfg.get("device_class")))
        if quantity is None:
            raise Rejected(
                reasons.UNKNOWN_QUANTITY,
                f"device_class {cfg.get('device_class')!r:.30}: give quantity in the mapping",
            )
        entity = Entity(
            state,
            claim.target,
            quantity,
            claim.target.unit or unit,
            is_json,
            path,
            f"homeassistant:{cfg.get('unique_id') or topic}"[:200],
        )
        new = state not in self.by_state_topic
        self.by_state_topic[state] = entity
        self._config_to_state[topic] = state
        return [state] if new else []

    def decode_state(
        self, topic: str, payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES
    ) -> list[Outcome]:
        e = self.by_state_topic[topic]
        text = decode_text(payload, max_bytes)
        value: Any = text
        if e.is_json:
            value = loads_strict(text)
            for step in e.path:
                try:
                    value = value[step]
                except (KeyError, IndexError, TypeError):
                    raise Rejected(
                        reasons.BAD_SCHEMA, f"no {step!r:.40} in the state JSON"
                    ) from None
        t = e.target
        return [
            Candidate(
                site=self.site,
                tank=t.tank,
                sensor=t.sensor,
                quantity=e.quantity,
                value=value,
                unit=e.unit if e.unit is not None else "",
                source=e.source,
                scale=t.scale,
                offset=t.offset,
            )
        ]
