"""Two bridge workers in one MQTT 5 shared group writing into one PostgreSQL store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tankeco.store import open_store
from tests.conftest import drop_pg_schema, pg_store_url
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import BridgeProcess, Publisher, native_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_workers_split_the_stream_with_no_loss_and_no_duplicate(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "b").start()
    store_url = pg_store_url()
    store = open_store(store_url)  # create the schema once, up front
    workers: list[BridgeProcess] = []
    try:
        for name in ("w1", "w2"):
            w = BridgeProcess(
                tmp_path,
                ["--broker", broker.url, "--store", store_url, "--client-id", name,
                 "--shared-group", "tankeco", "--session-expiry", "60", "--flush-interval", "0.1"],
                name,
            )  # fmt: skip
            workers.append(w)
        for w in workers:
            w.wait_for_log("connected")
        time.sleep(0.5)
        pub = Publisher(broker.port)
        n = 2000
        now_ms = int(time.time() * 1000)
        for i in range(n):
            sensor = f"t{i % 10}"
            pub.publish(
                f"tankeco/v1/home/main/{sensor}/state", native_payload(i, now_ms - 600_000 + i)
            )
        pub.wait_all()
        wait_for(lambda: store.counters().get("accepted", 0) >= n, 30, f"{n} readings")
        time.sleep(0.5)
        for w in workers:
            assert w.terminate() == 0
        c = store.counters()
        rows = store.readings()
        assert len(rows) == n == len({(r.sensor, r.ts_ms, r.seq) for r in rows})
        assert c["accepted"] == n and c.get("duplicate", 0) == 0
        share1, share2 = c.get("messages@w1", 0), c.get("messages@w2", 0)
        assert share1 > 0 and share2 > 0, f"both workers should get messages: {share1}, {share2}"
        assert share1 + share2 == n
        pub.close()
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.kill()
        drop_pg_schema(store)
        broker.stop()
