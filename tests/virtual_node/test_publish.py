"""The publishing loop: pacing by --speed, throttling on un-acked messages, clean stop."""

from __future__ import annotations

import io
import threading
import time

from tankeco.node.formats import Outgoing
from tankeco.node.publish import PrintSink, RunStats, run


class RecordingSink:
    """Remembers when each message arrived; acknowledges at most ``ack_limit`` of them."""

    def __init__(self, ack_limit: int | None = None) -> None:
        self.times: list[float] = []
        self.topics: list[str] = []
        self.ack_limit = ack_limit
        self.closed_with: Outgoing | None = None

    def publish(self, msg: Outgoing) -> bool:
        self.times.append(time.monotonic())
        self.topics.append(msg.topic)
        return True

    def pending(self) -> int:
        if self.ack_limit is None:
            return 0
        return max(0, len(self.topics) - self.ack_limit)

    def close(self, goodbye: Outgoing | None) -> int:
        self.closed_with = goodbye
        return len(self.topics)


def msgs(times_s: list[float]) -> list[Outgoing]:
    return [Outgoing(t, f"t/{i}", b"x") for i, t in enumerate(times_s)]


def bye(t_s: float) -> Outgoing:
    return Outgoing(t_s, "t/status", b"offline", retain=True)


def test_messages_leave_at_simulated_time_over_speed() -> None:
    sink = RecordingSink()
    t0 = time.monotonic()
    stats = run(msgs([0.0, 60.0, 120.0, 180.0]), sink, 600.0, threading.Event(), goodbye=bye)
    offsets = [t - t0 for t in sink.times]
    for planned, actual in zip([0.0, 0.1, 0.2, 0.3], offsets, strict=True):
        assert planned - 0.005 <= actual < planned + 0.1
    assert stats == RunStats(sent=5, confirmed=4, last_t_s=180.0, stopped_early=False)
    assert sink.closed_with == bye(180.0)


def test_the_loop_waits_while_too_many_messages_are_unacknowledged() -> None:
    sink = RecordingSink(ack_limit=0)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    stats = run(msgs([0.0] * 50), sink, 1e6, stop, goodbye=bye, max_pending=5)
    assert len(sink.topics) == 5
    assert stats.stopped_early and stats.sent == 6  # the five, and the goodbye
    assert sink.closed_with is not None and sink.closed_with.payload == b"offline"


def test_stop_ends_a_slow_run_promptly_with_the_goodbye() -> None:
    sink = RecordingSink()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    t0 = time.monotonic()
    stats = run(msgs([0.0, 3600.0]), sink, 1.0, stop, goodbye=bye)
    assert time.monotonic() - t0 < 1.0
    assert sink.topics == ["t/0"] and stats.stopped_early and stats.last_t_s == 0.0


def test_dry_run_prints_topic_flag_and_payload() -> None:
    out = io.StringIO()
    run([Outgoing(0.0, "a/b", "25.06 °C".encode())], PrintSink(out), 1e6, threading.Event(),
        goodbye=bye)  # fmt: skip
    assert out.getvalue() == "a/b 25.06 °C\nt/status [retained] offline\n"
