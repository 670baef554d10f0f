"""Scale-out that loses nothing on Mosquitto: workers with a share of the tanks each.

Point 6 of issue 13.  Shared groups on Mosquitto 2.0 need the caveats in docs/sensors.md;
``--tanks ... --partition K/N`` puts each worker in its own persistent session with
ordinary subscriptions to its own tanks, which Mosquitto queues while the worker is away
and restores after its own restart.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tankeco.bridge.partition import Partition, parse_tanks
from tankeco.store import open_store
from tests.conftest import drop_pg_schema, pg_store_url
from tests.integration.brokers import Mosquitto
from tests.integration.helpers import (
    BridgeProcess,
    Publisher,
    bridge_args,
    native_payload,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TANKS = "home/main,home/qt,shop/a,shop/b,shop/c,home/fry"


def worker_args(broker: Mosquitto, store: str, k: int) -> list[str]:
    return bridge_args(broker.url, store, f"part-{k}", "--tanks", TANKS, "--partition", f"{k}/2")


def test_two_partitioned_workers_lose_and_double_nothing_across_kill_and_broker_restart(
    tmp_path: Path,
) -> None:
    """N = 2 workers on real Mosquitto and PostgreSQL.  Worker 2 is killed (SIGKILL) while
    readings flow: its tanks' readings wait in its session (none stored meanwhile) and all
    arrive when it is back; then the broker restarts mid-stream.  Every reading is stored
    once, and each worker took in only its own tanks."""
    tanks = parse_tanks(TANKS)
    share = {k: Partition(tanks, k, 2).owned for k in (1, 2)}
    assert share[1] and share[2]
    broker = Mosquitto(tmp_path / "b").start()
    store_url = pg_store_url()
    store = open_store(store_url)
    workers = {
        k: BridgeProcess(tmp_path, worker_args(broker, store_url, k), f"w{k}") for k in (1, 2)
    }
    pub = Publisher(broker.port, client_id="part-pub", persistent=True)
    now_ms = int(time.time() * 1000)
    sent = 0
    lock = threading.Lock()

    def publish(n: int, pause_s: float = 0.0) -> None:
        nonlocal sent
        for _ in range(n):
            with lock:
                i = sent
                sent += 1
            site, tank = tanks[i % len(tanks)]
            pub.publish(
                f"tankeco/v1/{site}/{tank}/probe/state", native_payload(i, now_ms - 900_000 + i)
            )
            if pause_s:
                time.sleep(pause_s)

    def stored(owner: int) -> int:
        return sum(len(store.readings(tank=t)) for s, t in share[owner])

    try:
        for w in workers.values():
            w.wait_for_log("connected")
        assert "partition 1/2: tanks" in workers[1].log
        time.sleep(0.5)  # SUBACK
        flowing = threading.Thread(target=publish, args=(1500, 0.001))
        flowing.start()
        time.sleep(0.5)
        workers[2].kill()  # mid-stream
        flowing.join(60)
        pub.wait_all(60)
        n_kill = sent
        per_tank = {t: sum(1 for i in range(n_kill) if tanks[i % len(tanks)] == t) for t in tanks}
        want = {k: sum(per_tank[t] for t in share[k]) for k in (1, 2)}
        wait_for(lambda: stored(1) == want[1], 60, "worker 1's tanks")
        time.sleep(1.0)
        held_back = want[2] - stored(2)
        assert held_back > 0, "worker 2's readings should wait in its session while it is down"
        workers[2] = BridgeProcess(tmp_path, worker_args(broker, store_url, 2), "w2-back")
        wait_for(lambda: stored(2) == want[2], 60, "worker 2's readings after its restart")

        flowing = threading.Thread(target=publish, args=(1200, 0.002))
        flowing.start()
        time.sleep(0.6)
        broker.restart()  # mid-stream; the persistent publisher re-sends what was not acked
        flowing.join(60)
        pub.wait_all(90)
        total = sent
        wait_for(lambda: len(store.readings()) >= total, 90, f"all {total} readings")
        time.sleep(1.0)  # a late redelivery would show as an extra row or a duplicate
        for w in workers.values():
            assert w.terminate() == 0, w.log
        rows = store.readings()
        assert len(rows) == total == len({(r.tank, r.seq) for r in rows})
        assert {(r.site, r.tank) for r in rows} == set(tanks)
        c = store.counters()
        assert c["accepted"] == total
        assert c.get("unassigned_tank", 0) == 0
        # each worker saw only its share (redeliveries after the kill and the restart can
        # add to a worker's count, never give it another worker's tanks)
        assert c["messages@part-1"] >= sum(1 for r in rows if (r.site, r.tank) in share[1])
        assert c["messages@part-2"] >= sum(1 for r in rows if (r.site, r.tank) in share[2])
        assert c["messages@part-1"] + c["messages@part-2"] < 1.5 * total
        assert "shared subscriptions" not in workers[1].log
    finally:
        for w in workers.values():
            if w.proc.poll() is None:
                w.kill()
        pub.close()
        drop_pg_schema(store)
        broker.stop()


def test_a_tank_in_no_workers_list_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    """A tank left out of --tanks is taken in by nobody: its status (every worker hears all
    of them) makes the worker log it and count ``unassigned_tank``."""
    broker = Mosquitto(tmp_path / "b").start()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    w = BridgeProcess(
        tmp_path,
        ["--broker", broker.url, "--store", store, "--client-id", "listed",
         "--tanks", "home/main", "--session-expiry", "60", "--flush-interval", "0.1"],
    )  # fmt: skip
    try:
        w.wait_for_log("connected")
        time.sleep(0.5)
        pub = Publisher(broker.port)
        now_ms = int(time.time() * 1000)
        pub.publish("tankeco/v1/home/main/probe/state", native_payload(1, now_ms - 1000))
        pub.publish("tankeco/v1/home/forgotten/probe/status", b"online", retain=True)
        pub.publish("tankeco/v1/home/forgotten/probe/state", native_payload(2, now_ms - 900))
        pub.wait_all()
        w.wait_for_log("tank home/forgotten sends messages but is in no worker's --tanks list")
        assert w.terminate() == 0
        pub.publish("tankeco/v1/home/forgotten/probe/status", b"", retain=True)
        pub.wait_all()
        pub.close()
        s = open_store(store)
        try:
            assert [r.tank for r in s.readings()] == ["main"]
            assert s.counters()["unassigned_tank"] == 1
        finally:
            s.close()
    finally:
        if w.proc.poll() is None:
            w.kill()
        broker.stop()
