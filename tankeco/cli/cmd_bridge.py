"""``tankeco bridge``: run the MQTT bridge, or show its counters (``tankeco bridge status``)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
from datetime import UTC, datetime
from typing import Any

HELP = "take sensor readings in over MQTT into the store (or: bridge status)"
EXAMPLES = """\
examples:
  tankeco bridge --broker mqtt://127.0.0.1:1883 --store sqlite:///tank.db
  tankeco bridge --broker mqtts://broker:8883 --tls-ca ca.pem --username tank \\
                 --password-file pw.txt --store postgresql://127.0.0.1:5432/tank \\
                 --mapping devices.toml --client-id worker-1 \\
                 --tanks home/main,home/qt,shop/a,shop/b --partition 1/2
  tankeco bridge status --store sqlite:///tank.db [--json]
  tankeco bridge retention --store sqlite:///tank.db --keep-raw 30d --bucket-s 3600
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bridge",
        help=HELP,
        description=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("run", "status", "retention"),
        default="run",
        help="run the bridge (default), show its counters, or fold old readings",
    )
    p.add_argument("--store", required=True, help="sqlite:///PATH or postgresql://HOST:PORT/DB")
    p.add_argument("--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT")
    p.add_argument("--username", help="MQTT user name (with --password-file)")
    p.add_argument("--password-file", help="file whose first line is the password")
    p.add_argument("--tls-ca", help="CA certificate (PEM) that signed the broker's certificate")
    p.add_argument("--mapping", help="TOML file mapping ESPHome/Tasmota/HA topics to tanks")
    p.add_argument(
        "--tanks",
        help="SITE/TANK,... the tanks of all workers; alone: take only these (docs/sensors.md)",
    )
    p.add_argument(
        "--partition",
        help="K/N: take share K of N of the --tanks (stable hash), in this worker's own session",
    )
    p.add_argument(
        "--shared-group",
        help="shared-subscription group for several workers (read the caveats in docs/sensors.md)",
    )
    p.add_argument(
        "--protocol",
        choices=("5", "3.1.1"),
        default="5",
        help="MQTT version (default 5; 3.1.1 for brokers without 5, such as amqtt)",
    )
    p.add_argument(
        "--max-payload-bytes",
        type=int,
        default=16_384,
        help="larger payloads are quarantined (prefix, size and SHA-256 kept); default 16384",
    )
    p.add_argument(
        "--max-packet-bytes",
        type=int,
        default=1_048_576,
        help="MQTT 5 Maximum Packet Size: the broker drops larger messages for the bridge",
    )
    p.add_argument(
        "--client-id",
        help="fixed MQTT client id (default tankeco-bridge-HOSTNAME); unique per worker",
    )
    p.add_argument("--batch-size", type=int, default=500, help="messages per transaction")
    p.add_argument(
        "--flush-interval", type=float, default=0.25, help="longest a message waits, seconds"
    )
    p.add_argument(
        "--session-expiry",
        type=int,
        default=7 * 86_400,
        help="seconds the broker keeps queuing for this bridge while it is away (default 7 d)",
    )
    p.add_argument("--json", action="store_true", help="status as JSON")
    p.add_argument(
        "--keep-raw",
        default="30d",
        help="retention: keep raw readings this long (e.g. 30d), fold older into aggregates",
    )
    p.add_argument("--bucket-s", type=int, default=3600, help="retention: aggregate bucket, s")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tankeco.errors import UserError

    if args.action == "status":
        return status(args)
    if args.action == "retention":
        return retention(args)
    if not args.broker:
        raise UserError("bridge: --broker is required (mqtt://HOST:PORT)")
    if args.password_file and not args.username:
        raise UserError("bridge: --password-file needs --username")
    return serve(args)


def serve(args: argparse.Namespace) -> int:
    from tankeco.bridge.broker import read_password_file
    from tankeco.bridge.ingest import Ingestor
    from tankeco.bridge.mapping import Mapping, load_mapping
    from tankeco.bridge.partition import Partition, parse_partition, parse_tanks
    from tankeco.bridge.service import Bridge, BridgeOptions
    from tankeco.errors import UserError
    from tankeco.store import open_store

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s tankeco bridge: %(message)s"
    )
    from tankeco.cli.reach import resolve_broker

    partition = None
    if args.partition and not args.tanks:
        raise UserError(
            f"--partition {args.partition}: needs --tanks SITE/TANK,... (the same list for"
            " every worker; MQTT filters cannot pick a share of tanks nobody named)"
        )
    if args.tanks:
        if args.shared_group:
            raise UserError(
                f"--shared-group {args.shared_group!r} with --tanks: choose one way to share"
                " the load (--tanks/--partition is the one that loses nothing on Mosquitto)"
            )
        k, n = parse_partition(args.partition) if args.partition else (1, 1)
        partition = Partition(parse_tanks(args.tanks), k, n)
        logging.getLogger("tankeco.bridge").info("%s", partition.describe())
    default_id = f"tankeco-bridge-{socket.gethostname()}"
    if partition is not None and partition.n > 1:
        default_id += f"-{partition.k}of{partition.n}"
    options = BridgeOptions(
        broker=resolve_broker(args.broker),
        client_id=args.client_id or default_id,
        username=args.username,
        password=read_password_file(args.password_file) if args.password_file else None,
        tls_ca=args.tls_ca,
        shared_group=args.shared_group,
        protocol=args.protocol,
        max_packet_bytes=args.max_packet_bytes,
        batch_size=args.batch_size,
        flush_interval_s=args.flush_interval,
        session_expiry_s=args.session_expiry,
    )
    if not 256 <= args.max_payload_bytes <= args.max_packet_bytes:
        raise UserError(
            f"--max-payload-bytes {args.max_payload_bytes}: from 256 to --max-packet-bytes"
            f" ({args.max_packet_bytes})"
        )
    mapping = load_mapping(args.mapping) if args.mapping else None
    store = open_store(args.store, say_if_new=True)
    try:
        ingestor = Ingestor(
            # a partitioned worker: only its tanks' topics and devices
            partition.restrict(mapping or Mapping()) if partition is not None else mapping,
            max_payload_bytes=args.max_payload_bytes,
            redelivery_window_ms=args.session_expiry * 1000,
            declared_tanks=partition.tanks if partition is not None else None,
        )
        bridge = Bridge(options, store, ingestor)
        signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
        signal.signal(signal.SIGINT, lambda *_: bridge.stop())
        unwritten = bridge.run()
    finally:
        store.close()
    # Exit 1: not the user's input, but the messages are not in the store (the broker
    # still holds them un-acknowledged); a supervisor should see a failure.
    return 1 if unwritten else 0


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def status(args: argparse.Namespace) -> int:
    from tankeco.store import open_store

    store = open_store(args.store, create=False)
    try:
        counters = store.counters()
        sensors = [
            {
                "site": s.site,
                "tank": s.tank,
                "sensor": s.sensor,
                "last_seen": _iso(s.last_seen_ms),
                "status": s.status,
            }
            for s in store.sensor_states()
        ]
    finally:
        store.close()
    if args.json:
        json.dump({"counters": counters, "sensors": sensors}, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    print(f"store: {args.store}")
    if not counters and not sensors:
        print("no messages yet")
        return 0
    print("counters:")
    for name in sorted(counters):
        print(f"  {name:<32} {counters[name]:>10}")
    if sensors:
        print("sensors (last seen UTC):")
        for s in sensors:
            where = f"{s['site']}/{s['tank']}/{s['sensor']}"
            print(f"  {where:<40} {s['last_seen'] or '-':<21} {s['status'] or ''}")
    return 0


def retention(args: argparse.Namespace) -> int:
    """Fold raw readings older than --keep-raw into --bucket-s aggregates, then drop them."""
    import time

    from tankeco.cli.timeparse import iso_utc, parse_since_ms
    from tankeco.errors import UserError
    from tankeco.store import open_store

    if args.bucket_s <= 0:
        raise UserError(f"--bucket-s {args.bucket_s}: a positive number of seconds")
    cutoff_ms = parse_since_ms(args.keep_raw, int(time.time() * 1000), "--keep-raw")
    store = open_store(args.store, create=False)
    try:
        result = store.apply_retention(older_than_ms=cutoff_ms, bucket_s=args.bucket_s)
    finally:
        store.close()
    print(
        f"folded {result.readings_aggregated} readings older than {iso_utc(cutoff_ms)}"
        f" into {result.buckets_written} {args.bucket_s}-s aggregates"
    )
    return 0
