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


def test_a_dead_workers_share_waits_for_it_and_shared_subscriptions_come_back(
    tmp_path: Path,
) -> None:
    """Point 6, the caveats of shared groups on Mosquitto 2.0, tested.

    1. A killed worker keeps getting its share, queued in its session.  Before (default
       ``max_queued_messages 1000``) 500 of them were lost; with the shipped config they
       wait and arrive when the worker comes back.
    2. Mosquitto does not restore shared subscriptions from its persistence file.  Before,
       0 of 200 readings sent after a broker restart were stored; the bridge now
       subscribes again on every connect, so all are.
    """
    broker = Mosquitto(tmp_path / "b").start()
    store_url = pg_store_url()
    store = open_store(store_url)
    args = {
        name: ["--broker", broker.url, "--store", store_url, "--client-id", name,
               "--shared-group", "tankeco", "--session-expiry", "300", "--flush-interval", "0.1"]
        for name in ("w1", "w2")
    }  # fmt: skip
    workers = {name: BridgeProcess(tmp_path, a, name) for name, a in args.items()}
    try:
        for w in workers.values():
            w.wait_for_log("connected")
        assert "shared subscriptions" in workers["w1"].log  # the caveat, at start
        time.sleep(0.5)
        workers["w2"].kill()
        pub = Publisher(broker.port)
        now_ms = int(time.time() * 1000)
        n = 1200
        for i in range(n):
            pub.publish(STATE_TOPIC, native_payload(i, now_ms - 900_000 + i))
        pub.wait_all()
        time.sleep(2.0)
        held = n - store.counters().get("accepted", 0)
        assert held > 0, "the dead worker should have been given a share"
        workers["w2"] = BridgeProcess(tmp_path, args["w2"], "w2-back")
        wait_for(lambda: store.counters().get("accepted", 0) >= n, 60, f"all {n} readings")
        broker.restart()
        workers["w1"].wait_for_log("connected", count=2, timeout_s=60)
        workers["w2"].wait_for_log("connected", count=2, timeout_s=60)
        time.sleep(1.0)  # SUBACK
        m = 200
        for i in range(m):
            pub.publish(STATE_TOPIC, native_payload(n + i, now_ms - 600_000 + i))
        pub.wait_all(60)
        wait_for(lambda: store.counters().get("accepted", 0) >= n + m, 60, "after the restart")
        time.sleep(0.5)
        for w in workers.values():
            assert w.terminate() == 0
        rows = store.readings()
        assert len(rows) == n + m == len({(r.sensor, r.ts_ms, r.seq) for r in rows})
        pub.close()
    finally:
        for w in workers.values():
            if w.proc.poll() is None:
                w.kill()
        drop_pg_schema(store)
        broker.stop()


STATE_TOPIC = "tankeco/v1/home/main/t1/state"
