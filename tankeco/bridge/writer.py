"""The writing half of the bridge: received messages in, committed rows out.

:class:`BatchWriter` decodes a group of messages into one :class:`~tankeco.store.Batch`
and commits it; a batch the store refuses for its data is split until the message at
fault is alone (quarantined as ``store_rejected``).  The decoded batch is kept until it
is committed, so a write retried after an outage writes the very same rows, and their
unique keys (quarantine rows included: :attr:`~tankeco.store.QuarantineRecord.ident`)
make the retry add nothing twice.

:class:`WriterProcess` runs a BatchWriter in a process of its own, so decoding and the
database work on one core while the bridge's MQTT client reads on another: paho's
per-message cost alone is about what a bare subscriber spends, and done in one process
the bridge's own work came on top of it (0.3-0.5x a bare subscriber, issue 13).  The
MQTT side acknowledges a group only when this process reports it committed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tankeco import reasons
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.store import Batch, QuarantineRecord, Store, StoreUnavailable

log = logging.getLogger("tankeco.bridge")

_EMPTY_MARK = (0, 0, 0, 0, 0, 0)
#: How often the writer process looks whether the bridge process is still there, in s.
_PARENT_CHECK_S = 0.5
#: Most messages the writer merges into one transaction when groups queue up behind a
#: slow write (each commit of PostgreSQL waits for its WAL to reach the disk).
MERGE_MAX_MESSAGES = 5000
#: GIL switch interval in the writer process, in s (Python's default is 0.005).
_SWITCH_INTERVAL_S = 0.0002

#: A received message as it crosses to the writer process: topic, payload, receive time
#: (epoch ms), retained flag, MQTT DUP flag, running number of the receipt.
RawMessage = tuple[str, bytes, int, bool, bool, int]


@dataclass
class Written:
    """What committing one group of messages gave."""

    group: int
    messages: int
    #: Topics the messages made necessary (Home Assistant discovery); the MQTT side
    #: subscribes to them.
    new_topics: list[str] = field(default_factory=list)
    events_duplicate: int = 0
    manual_duplicate: int = 0


class BatchWriter:
    """Decodes groups of messages and commits each group in one transaction."""

    def __init__(self, store: Store, ingestor: Ingestor) -> None:
        self.store = store
        self.ingestor = ingestor
        if ingestor.text_problem is None:
            ingestor.text_problem = store.text_problem

    def decode(
        self, raw: list[RawMessage], counters: dict[str, int] | None = None
    ) -> tuple[Batch, list[Message], list[tuple[int, ...]], list[str]]:
        """The batch for ``raw``, the messages, each one's end mark, new topics."""
        batch = Batch()
        if counters:
            batch.counters.update(counters)
        messages: list[Message] = []
        marks: list[tuple[int, ...]] = []
        new_topics: list[str] = []
        ingest = self.ingestor.ingest
        last: tuple[int, ...] = _EMPTY_MARK
        for topic, payload, received_ms, retain, dup, arrival in raw:
            m = Message(topic, payload, received_ms, retain, dup, arrival)
            new = ingest(m, batch, last)  # type: ignore[arg-type]
            if new:
                new_topics.extend(new)
            messages.append(m)
            last = batch.mark()
            marks.append(last)
        return batch, messages, marks, new_topics

    def write(
        self, batch: Batch, messages: list[Message], marks: list[tuple[int, ...]]
    ) -> tuple[int, int]:
        """Commit the batch; isolate and quarantine what the store refuses for its data.

        Returns the duplicate events and manual entries seen.  Raises
        :class:`~tankeco.store.StoreUnavailable` when the database is away: the caller
        keeps the same batch and tries again later.
        """
        try:
            result = self.store.write(batch)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the data: find the message at fault
            log.error("the store refused a batch (%s); isolating the message", exc)
            return self._write_isolating(batch, messages, marks)
        return result.events_duplicate, result.manual_duplicate

    def _write_isolating(
        self, batch: Batch, messages: list[Message], marks: list[tuple[int, ...]]
    ) -> tuple[int, int]:
        """Write the batch in halves until each refused message is alone; quarantine it.

        Counters go last, with the quarantine rows, so each is counted once.  If the store
        goes away part of the way through, the parts already committed are recognised by
        their keys when the whole batch is written again.
        """
        poison: list[QuarantineRecord] = []
        dups = [0, 0]

        def attempt(lo: int, hi: int) -> None:
            start = marks[lo - 1] if lo else _EMPTY_MARK
            part = batch.between(start, marks[hi - 1])  # type: ignore[arg-type]
            try:
                r = self.store.write(part)
                dups[0] += r.events_duplicate
                dups[1] += r.manual_duplicate
            except StoreUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate further
                if hi - lo == 1:
                    m = messages[lo]
                    log.error("quarantined a message the store refused on %r: %s", m.topic, exc)
                    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                    poison.append(
                        QuarantineRecord.of(
                            m.received_ms, m.topic, m.payload, reasons.STORE_REJECTED,
                            detail[:300], arrival=f"{m.received_ms}:{m.arrival}:refused",
                        )
                    )  # fmt: skip
                    return
                mid = (lo + hi) // 2
                attempt(lo, mid)
                attempt(mid, hi)

        attempt(0, len(messages))
        self.store.write(Batch(quarantine=poison, counters=dict(batch.counters)))
        return dups[0], dups[1]


class _Stop:
    """Sent to the writer process: write what is queued, then exit."""


def _writer_main(
    writer: BatchWriter,
    inbox: Any,
    outbox: Any,
    parent_pid: int,
    backoff_min_s: float,
    backoff_max_s: float,
) -> None:
    """The writer process: decode groups in this thread, commit them in another, in order.

    Two threads so that decoding the next groups (Python, on the CPU) goes on while the
    database commits the last ones (the driver waits for the server and the disk without
    holding the GIL); one decoded batch waits at most, so memory stays bounded.
    """
    # A supervisor's SIGTERM to the whole group must not kill the writer under the MQTT
    # side's final flush: the bridge stops it with _Stop (or kills it after a deadline).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The commit thread comes back from each database round trip wanting the GIL while
    # the decoding thread holds it; with the default 5 ms switch interval a transaction
    # of five round trips waited up to 25 ms for it.
    sys.setswitchinterval(_SWITCH_INTERVAL_S)

    def orphaned() -> bool:
        if os.getppid() == parent_pid:
            return False
        # Nobody reads the reports any more: do not wait at exit to flush them.
        outbox.cancel_join_thread()
        return True

    decoded: queue.Queue[_Decoded | None] = queue.Queue(maxsize=1)
    committer = threading.Thread(
        target=_commit_loop,
        args=(writer, decoded, outbox, orphaned, backoff_min_s, backoff_max_s),
        name="tankeco-bridge-commit",
        daemon=True,
    )
    committer.start()
    while True:
        try:
            item = inbox.get(timeout=_PARENT_CHECK_S)
        except queue.Empty:
            if orphaned() or not committer.is_alive():
                return  # the bridge died (kill -9): nothing more will be acknowledged
            continue
        if isinstance(item, _Stop):
            break
        # Groups that queued up while the last one was committed go into one transaction.
        groups = [item]
        size = len(item[1])
        stopping = False
        while size < MERGE_MAX_MESSAGES:
            try:
                more = inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(more, _Stop):
                stopping = True
                break
            groups.append(more)
            size += len(more[1])
        raw: list[RawMessage] = []
        counters: dict[str, int] = {}
        for _, part, part_counters in groups:
            raw.extend(part)
            for name, n in part_counters.items():
                counters[name] = counters.get(name, 0) + n
        item_out = _Decoded(
            [(g, len(part)) for g, part, _ in groups], *writer.decode(raw, counters)
        )
        while True:
            try:
                decoded.put(item_out, timeout=_PARENT_CHECK_S)
                break
            except queue.Full:
                if orphaned() or not committer.is_alive():
                    return
        if stopping:
            break
    decoded.put(None)  # after what is queued: the committer finishes it, then stops
    committer.join()


@dataclass
class _Decoded:
    """Groups decoded into one batch, on their way to the commit thread."""

    groups: list[tuple[int, int]]  # (group, messages)
    batch: Batch
    messages: list[Message]
    marks: list[tuple[int, ...]]
    new_topics: list[str]


def _commit_loop(
    writer: BatchWriter,
    decoded: queue.Queue[_Decoded | None],
    outbox: Any,
    orphaned: Any,
    backoff_min_s: float,
    backoff_max_s: float,
) -> None:
    """Commit each decoded batch (retrying outages with backoff) and report its groups."""
    backoff_s = backoff_min_s
    while True:
        d = decoded.get()
        if d is None:
            return
        down_since = 0.0
        while True:
            try:
                dup_events, dup_manual = writer.write(d.batch, d.messages, d.marks)
                break
            except StoreUnavailable as exc:
                if not down_since:
                    down_since = time.monotonic()
                log.error(
                    "store write failed (%s); holding %d messages, retrying in %.1f s",
                    exc,
                    len(d.messages),
                    backoff_s,
                )
                deadline = time.monotonic() + backoff_s * random.uniform(0.8, 1.2)
                backoff_s = min(backoff_s * 2, backoff_max_s)
                while time.monotonic() < deadline:
                    if orphaned():
                        return
                    time.sleep(min(0.1, max(deadline - time.monotonic(), 0.0)))
        if down_since:
            log.info(
                "store back after %.1f s; wrote the %d messages held",
                time.monotonic() - down_since,
                len(d.messages),
            )
        backoff_s = backoff_min_s
        if dup_events or dup_manual:
            log.info(
                "%d events and %d manual entries were already stored (redelivered or sent"
                " twice); counted as events_duplicate / manual_duplicate",
                dup_events,
                dup_manual,
            )
        for k, (group, n) in enumerate(d.groups):
            if k == 0:
                outbox.put(Written(group, n, d.new_topics, dup_events, dup_manual))
            else:
                outbox.put(Written(group, n))


class WriterProcess:
    """The MQTT side's handle on the writer process.

    The process is forked, so it starts with the bridge's own store and ingestor objects
    (mapping, restored discovery configs, a custom text check); the store's connection is
    closed first and the writer opens its own on its first write.  No other connection
    to an SQLite store's file may be open in this process at that moment: SQLite keeps
    per-process lock state that a forked child would inherit half-true (its documentation:
    do not carry an open database across fork).  ``tankeco bridge`` opens none; code that
    runs a :class:`~tankeco.bridge.service.Bridge` in-process opens its readers after.
    """

    def __init__(
        self, writer: BatchWriter, *, backoff_min_s: float = 0.2, backoff_max_s: float = 30.0
    ) -> None:
        ctx = multiprocessing.get_context("fork")
        self._inbox = ctx.Queue()
        self._outbox = ctx.Queue()
        writer.store.close()  # never share a database connection across fork
        self._proc = ctx.Process(
            target=_writer_main,
            args=(writer, self._inbox, self._outbox, os.getpid(), backoff_min_s, backoff_max_s),
            name="tankeco-bridge-writer",
            daemon=True,
        )
        self._proc.start()

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def submit(self, group: int, raw: list[RawMessage], counters: dict[str, int]) -> None:
        """Queue a group for writing (returns at once)."""
        self._inbox.put((group, raw, counters))

    def done(self) -> list[Written]:
        """The groups committed since the last call, in order."""
        out: list[Written] = []
        while True:
            try:
                out.append(self._outbox.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout_s: float) -> Written | None:
        """The next committed group, waiting at most ``timeout_s``."""
        try:
            return self._outbox.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def stop(self, timeout_s: float) -> None:
        """Ask the writer to finish what it has and exit; kill it after ``timeout_s``."""
        if self._proc.is_alive():
            self._inbox.put(_Stop())
            self._proc.join(timeout_s)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._inbox.cancel_join_thread()
        self._inbox.close()
