"""From one raw MQTT message to rows in a :class:`~tankeco.store.Batch`.

This is the whole decode → validate path without any networking, so it can be tested
with thousands of generated payloads and reused by the bridge, a replay tool or a test.
Every message ends up somewhere: readings, events, manual entries, sensor state, or the
quarantine with its reason; none raises out of :meth:`Ingestor.ingest`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tankeco import reasons
from tankeco.bridge import topics
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome, esphome, homeassistant, native, tasmota
from tankeco.bridge.jsonsafe import MAX_PAYLOAD_BYTES
from tankeco.bridge.mapping import Mapping
from tankeco.bridge.validate import Validator
from tankeco.reasons import Rejected
from tankeco.store import Batch, Event, ManualEntry, QuarantineRecord, SensorState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """What the bridge got from the broker, and when (bridge clock, epoch ms)."""

    topic: str
    payload: bytes
    received_ms: int
    retain: bool = False


class Ingestor:
    """Decodes and validates messages into batches; remembers HA entities and last values."""

    def __init__(self, mapping: Mapping | None = None, max_payload_bytes: int = MAX_PAYLOAD_BYTES):
        self.mapping = mapping or Mapping()
        self.max_bytes = max_payload_bytes
        self.validator = Validator()
        self.ha = homeassistant.Registry(self.mapping.site, self.mapping.homeassistant)

    def subscriptions(self) -> list[str]:
        """Every topic filter needed now (grows as HA configs are discovered)."""
        return [*self.mapping.subscriptions(), *self.ha.by_state_topic]

    def _decode(self, msg: Message) -> tuple[list[Outcome], list[str]]:
        t, p = msg.topic, msg.payload
        if len(p) > self.max_bytes:
            raise Rejected(reasons.OVERSIZE, f"{len(p)} bytes > {self.max_bytes}")
        if topics.is_native(t):
            return native.decode(t, p, msg.received_ms, self.max_bytes), []
        if t in self.mapping.esphome:
            return esphome.decode(
                t, p, self.mapping.site, self.mapping.esphome[t], self.max_bytes
            ), []
        if t in self.mapping.tasmota:
            return tasmota.decode(
                t, p, self.mapping.site, self.mapping.tasmota[t], self.max_bytes
            ), []
        if t in self.ha.by_state_topic:
            return self.ha.decode_state(t, p, self.max_bytes), []
        if self.mapping.homeassistant and homeassistant.is_config_topic(t):
            return [], self.ha.on_config(t, p, self.max_bytes)
        raise Rejected(reasons.UNMAPPED, f"no mapping for topic {t!r:.120}")

    def ingest(self, msg: Message, batch: Batch) -> list[str]:
        """Add the message's rows to ``batch``; return topics that now need subscribing."""
        batch.count("messages")
        try:
            outcomes, new_topics = self._decode(msg)
        except Rejected as rej:
            outcomes, new_topics = [rej], []
        except Exception as exc:  # a decoder bug must not lose the message or stop the bridge
            log.exception("decoder failed on %r", msg.topic)
            outcomes, new_topics = (
                [Rejected(reasons.BAD_SCHEMA, f"decoder error: {exc!r:.150}")],
                [],
            )
        for out in outcomes:
            if isinstance(out, Candidate):
                if msg.retain and out.ts is None:
                    # A retained value replayed on subscribe has no time of its own.
                    batch.count("skipped_retained")
                    continue
                try:
                    out = self.validator.validate(out, msg.received_ms)
                except Rejected as rej:
                    out = rej
                except Exception as exc:  # same rule as for decoders: quarantine, go on
                    log.exception("validation failed on %r", msg.topic)
                    out = Rejected(reasons.BAD_SCHEMA, f"validator error: {exc!r:.150}")
                else:
                    batch.readings.append(out)
                    continue
            if isinstance(out, Rejected):
                batch.quarantine.append(
                    QuarantineRecord(
                        msg.received_ms, msg.topic, bytes(msg.payload), out.reason, out.detail
                    )
                )
            elif isinstance(out, Event):
                batch.events.append(out)
            elif isinstance(out, ManualEntry):
                batch.manual.append(out)
            elif isinstance(out, SensorState):
                batch.sensor_states.append(out)
        return new_topics
