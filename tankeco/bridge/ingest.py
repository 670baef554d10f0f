"""From one raw MQTT message to rows in a :class:`~tankeco.store.Batch`.

This is the whole decode → validate path without any networking, so it can be tested
with thousands of generated payloads and reused by the bridge, a replay tool or a test.
Every message ends up somewhere: readings, events, manual entries, sensor state, or the
quarantine with its reason; none raises out of :meth:`Ingestor.ingest`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from tankeco import reasons
from tankeco.bridge import topics
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.decoders import Outcome, esphome, homeassistant, native, tasmota
from tankeco.bridge.jsonsafe import MAX_PAYLOAD_BYTES
from tankeco.bridge.mapping import Mapping
from tankeco.bridge.validate import Validator
from tankeco.reasons import Rejected
from tankeco.store import (
    Batch,
    DiscoveryConfig,
    Event,
    ManualEntry,
    QuarantineRecord,
    Reading,
    SensorState,
)
from tankeco.store.records import escape_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Message:
    """What the bridge got from the broker, and when (bridge clock, epoch ms).

    ``dup`` is the MQTT DUP flag: the broker sent this message before and had no
    acknowledgement for it, so the bridge may already have stored it.  ``arrival`` is the
    bridge's running number of the receipt: with ``received_ms`` it names this receipt,
    so the quarantine rows made from it keep one key however often they are written.
    Not frozen, for the same reason as :class:`~tankeco.bridge.candidate.Candidate`.
    """

    topic: str
    payload: bytes
    received_ms: int
    retain: bool = False
    dup: bool = False
    arrival: int = 0


#: A redelivered event or manual entry without a time of its own is recognised as the one
#: already stored if that was stored at most this long before (the bridge's default
#: session expiry: a broker holds no message longer).
REDELIVERY_WINDOW_MS = 7 * 86_400_000

#: Decoder or validator failures logged in full per kind of failure; the rest are counted.
_LOGGED_ERRORS_PER_KIND = 3


def _arrival(msg: Message, k: int) -> str:
    """Names the ``k``-th quarantine row made from this receipt of ``msg``."""
    return f"{msg.received_ms}:{msg.arrival}:{k}"


def _reading_text_ok(r: Reading) -> bool:
    s = r.site + r.tank + r.sensor + r.quality + r.source
    return s.isascii() and "\x00" not in s


class Ingestor:
    """Decodes and validates messages into batches; remembers HA entities and last values.

    ``text_problem`` is the store's own check of what text it can hold
    (:meth:`tankeco.store.Store.text_problem`): a message whose rows it refuses goes to
    quarantine as ``unstorable_text`` instead of failing the whole batch.
    """

    def __init__(
        self,
        mapping: Mapping | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        text_problem: Callable[[str], str | None] | None = None,
        redelivery_window_ms: int = REDELIVERY_WINDOW_MS,
        declared_tanks: Iterable[tuple[str, str]] | None = None,
    ):
        self.mapping = mapping or Mapping()
        self.max_bytes = max_payload_bytes
        self.validator = Validator()
        self.ha = homeassistant.Registry(self.mapping.site, self.mapping.homeassistant)
        self.text_problem = text_problem
        self.redelivery_window_ms = redelivery_window_ms
        self._errors_logged: dict[str, int] = {}
        #: With partitioned workers (``--tanks``): the (site, tank) pairs some worker takes.
        self.declared_tanks = frozenset(declared_tanks) if declared_tanks is not None else None
        self._unassigned_logged: set[tuple[str, str]] = set()

    def subscriptions(self) -> list[str]:
        """Every topic filter needed now (grows as HA configs are discovered)."""
        return [*self.mapping.subscriptions(), *self.ha.by_state_topic]

    def restore_discovery(self, configs: Iterable[DiscoveryConfig]) -> int:
        """Re-read discovery configs kept in the store (on start); return how many apply."""
        n = 0
        for cfg in configs:
            try:
                self.ha.on_config(cfg.topic, cfg.payload, self.max_bytes)
            except Rejected as rej:
                log.warning("kept discovery config %s no longer applies: %s", cfg.topic, rej)
                continue
            n += self.ha.knows_config(cfg.topic)
        return n

    def _log_error(self, what: str, msg: Message, exc: Exception) -> None:
        kind = f"{what}:{type(exc).__name__}"
        seen = self._errors_logged.get(kind, 0) + 1
        self._errors_logged[kind] = seen
        if seen <= _LOGGED_ERRORS_PER_KIND:
            log.error(
                "%s failed on %r: %r%s",
                what,
                escape_text(msg.topic[:120]),
                exc,
                " (further ones of this kind are only counted)"
                if seen == _LOGGED_ERRORS_PER_KIND
                else "",
            )

    def _check_assigned(self, topic: str, batch: Batch) -> None:
        """Count and log (once per tank) a message from a tank no worker takes in."""
        try:
            t = topics.parse(topic)
        except Rejected:
            return  # quarantined as bad_topic by the decoder
        key = (t.site, t.tank)
        if key in self.declared_tanks:  # type: ignore[operator]
            return
        batch.count("unassigned_tank")
        if key not in self._unassigned_logged:
            self._unassigned_logged.add(key)
            log.warning(
                "tank %s/%s sends messages but is in no worker's --tanks list: its readings"
                " are taken in by nobody; add it to --tanks of every worker",
                t.site,
                t.tank,
            )

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

    def ingest(
        self, msg: Message, batch: Batch, start: tuple[int, int, int, int, int, int] | None = None
    ) -> list[str]:
        """Add the message's rows to ``batch``; return topics that now need subscribing.

        ``start`` is ``batch.mark()`` before this message, if the caller has it already.
        """
        batch.count("messages")
        if start is None:
            start = batch.mark()
        if self.declared_tanks is not None and topics.is_native(msg.topic):
            self._check_assigned(msg.topic, batch)
        try:
            outcomes, new_topics = self._decode(msg)
        except Rejected as rej:
            outcomes, new_topics = [rej], []
        except Exception as exc:  # a decoder bug must not lose the message or stop the bridge
            self._log_error("decoder", msg, exc)
            batch.count("decoder_errors")
            outcomes, new_topics = (
                [Rejected(reasons.BAD_SCHEMA, f"decoder error: {exc!r:.150}")],
                [],
            )
        if self.mapping.homeassistant and homeassistant.is_config_topic(msg.topic):
            if not msg.payload or self.ha.knows_config(msg.topic):
                batch.discovery.append(DiscoveryConfig(msg.topic, msg.payload, msg.received_ms))
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
                    self._log_error("validation", msg, exc)
                    batch.count("decoder_errors")
                    out = Rejected(reasons.BAD_SCHEMA, f"validator error: {exc!r:.150}")
                else:
                    batch.readings.append(out)
                    continue
            if isinstance(out, Rejected):
                batch.quarantine.append(
                    QuarantineRecord.of(
                        msg.received_ms, msg.topic, msg.payload, out.reason, out.detail,
                        msg.received_ms - self.redelivery_window_ms if msg.dup else None,
                        _arrival(msg, len(batch.quarantine) - start[3]),
                    )
                )  # fmt: skip
            elif isinstance(out, Event | ManualEntry):
                if msg.dup:
                    out = replace(out, dedup_since_ms=msg.received_ms - self.redelivery_window_ms)
                (batch.events if isinstance(out, Event) else batch.manual).append(out)
            elif isinstance(out, SensorState):
                batch.sensor_states.append(out)
        if self.text_problem is not None:
            self._check_text(msg, batch, start)
        return new_topics

    def _check_text(self, msg: Message, batch: Batch, start: tuple[int, ...]) -> None:
        """Move this message's rows to quarantine if the store cannot hold their text."""
        assert self.text_problem is not None
        texts: list[str] = []
        for r in batch.readings[start[0] :]:
            if not _reading_text_ok(r):
                texts += [r.site, r.tank, r.sensor, r.quality, r.source]
        for e in batch.events[start[1] :]:
            texts += [e.site, e.tank, e.note, e.source]
        for m in batch.manual[start[2] :]:
            texts += [m.site, m.tank, m.unit_entered, m.kit, m.note, m.source]
        for s in batch.sensor_states[start[4] :]:
            texts += [s.site, s.tank, s.sensor, s.status or "", s.meta_json or ""]
        for t in texts:
            problem = self.text_problem(t)
            if problem is None:
                continue
            del batch.readings[start[0] :]
            del batch.events[start[1] :]
            del batch.manual[start[2] :]
            del batch.sensor_states[start[4] :]
            del batch.discovery[start[5] :]
            batch.quarantine.append(
                QuarantineRecord.of(
                    msg.received_ms, msg.topic, msg.payload, reasons.UNSTORABLE_TEXT,
                    f"{problem} in {t!r:.80}",
                    msg.received_ms - self.redelivery_window_ms if msg.dup else None,
                    _arrival(msg, len(batch.quarantine) - start[3]),
                )
            )  # fmt: skip
            return
