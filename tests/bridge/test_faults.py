"""Issue 13 in the decode path: DST fall-back, log spam, redelivered events, the log CLI."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tankeco.bridge import ingest as ingest_module
from tankeco.bridge.candidate import Candidate
from tankeco.bridge.ingest import Ingestor, Message
from tankeco.bridge.validate import Validator
from tankeco.cli import main as cli_main
from tankeco.store import Batch, open_store
from tests.bridge.helpers import TOPIC, native

BERLIN = ZoneInfo("Europe/Berlin")


def utc_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_tasmota_local_time_in_the_fall_back_hour_is_read_as_the_current_one(
    store_url: str,
) -> None:
    """Point 10. On 2026-10-25 Berlin's 02:00-03:00 happens twice (00:00-01:00 UTC as
    CEST, UTC+2, then 01:00-02:00 UTC as CET, UTC+1: the EU rule, Directive 2000/84/EC,
    changes at 01:00 UTC).  Before: the second 02:30 was stored at 00:30 UTC, an hour
    early, and dropped as a duplicate of the first."""
    v = Validator()
    first = Candidate("h", "main", "tas", "temperature", 25.0, "°C", ts="2026-10-25T02:30:00",
                      tz=BERLIN)  # fmt: skip
    second = Candidate("h", "main", "tas", "temperature", 25.1, "°C", ts="2026-10-25T02:30:00",
                       tz=BERLIN)  # fmt: skip
    r1 = v.validate(first, utc_ms(2026, 10, 25, 0, 30, 4))
    r2 = v.validate(second, utc_ms(2026, 10, 25, 1, 30, 4))
    assert r1.ts_ms == utc_ms(2026, 10, 25, 0, 30)
    assert r2.ts_ms == utc_ms(2026, 10, 25, 1, 30)
    s = open_store(store_url)
    try:
        assert s.write(Batch(readings=[r1, r2])).readings_inserted == 2
    finally:
        s.close()


def test_a_flood_of_decoder_errors_logs_a_few_lines_and_counts_all(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 10. Before: every decoder error logged a full traceback (log spam)."""

    def broken(*args: object, **kw: object) -> list:
        raise KeyError("bug")

    monkeypatch.setattr(ingest_module.native, "decode", broken)
    ing = Ingestor()
    batch = Batch()
    with caplog.at_level(logging.ERROR):
        for i in range(1000):
            ing.ingest(Message(TOPIC, native(seq=i), 1), batch)
    assert len(caplog.records) == 3
    assert all(r.exc_info is None for r in caplog.records)  # one line each, no traceback
    assert batch.counters["decoder_errors"] == 1000 and len(batch.quarantine) == 1000


def test_a_redelivered_event_without_ts_is_recognised(store_url: str) -> None:
    """Point 2: the DUP flag and the content identify a redelivery that took a new
    receive time; the same event sent again without DUP is a new event."""
    topic = "tankeco/v1/home/main/keeper/events"
    body = json.dumps({"v": 1, "kind": "feeding", "amount": 2, "unit": "g"}).encode()
    ing = Ingestor()
    s = open_store(store_url)
    try:
        first = Batch()
        ing.ingest(Message(topic, body, 1_790_000_000_000), first)
        again = Batch()
        ing.ingest(Message(topic, body, 1_790_000_060_000, dup=True), again)
        repeat = Batch()
        ing.ingest(Message(topic, body, 1_790_000_120_000), repeat)
        assert s.write(first).events_inserted == 1
        r = s.write(again)
        assert (r.events_inserted, r.events_duplicate) == (0, 1)
        assert s.write(repeat).events_inserted == 1
        assert len(s.events()) == 2
        assert s.counters()["events_duplicate"] == 1
    finally:
        s.close()


@pytest.mark.parametrize(
    "extra,expected",
    [
        (["--tank", "main tank/../x"], "--tank 'main tank/../x': 1 to 64 letters"),
        (["--site", ""], "--site '': 1 to 64 letters"),
        (["--time", "1890-01-01T00:00:00"], "--time '1890-01-01T00:00:00': before 2020"),
        (["--time", "2199-01-01T00:00:00"], "--time '2199-01-01T00:00:00': in the future"),
    ],
)
def test_log_refuses_bad_site_tank_and_years(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    """Point 10. Before: any site/tank text and any year were stored."""
    store = f"sqlite:///{tmp_path / 'l.db'}"
    rc = cli_main(["log", "feeding", "2g", "--store", store, *extra])
    err = capsys.readouterr().err
    assert rc == 2 and expected in err and "Traceback" not in err
    s = open_store(store)
    assert s.events() == []
    s.close()
