"""``tankeco node``: a virtual sensor node that publishes a simulated tank over MQTT."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tankeco.cli.helptext import add_set_option
from tankeco.errors import UserError

if TYPE_CHECKING:
    from tankeco.bridge.broker import BrokerAddress
    from tankeco.node.formats import Encoder, Outgoing
    from tankeco.node.publish import MqttLogin

HELP = "publish a simulated tank over MQTT as a real sensor node would (virtual node)"
DESCRIPTION = """\
Run the simulation, then publish its temperature, pH and free ammonia as a real node
would - DS18B20 1/16 degree steps and the odd 85.0 / -127 error code, a drifting pH
probe, Wi-Fi dropouts, a clock a few seconds off - in real time scaled by --speed
(600 = ten simulated minutes per second).  Feedings, water changes and dosing go to
.../events, a weekly nitrate kit reading (API colour card) to .../manual.

Without --start the run is placed so that it ends now: no reading is stamped in the
future (the bridge refuses those).  ESPHome and Tasmota values need a bridge mapping:
--write-mapping FILE writes it (then: tankeco bridge --mapping FILE ...).

Stop with Ctrl-C or SIGTERM: it says offline, waits for the broker's acks and prints
how many messages it sent (on stderr).

examples:
  tankeco node --broker mqtt://127.0.0.1:1883 --speed 600
  tankeco node --scenario sims/fishless_cycling.toml --days 30 --format tasmota \\
               --write-mapping node-map.toml
  tankeco node --dry-run --days 0.1 --speed 100000 --seed 3
"""

#: Fastest pacing allowed; beyond this the broker's ack window sets the pace anyway.
MAX_SPEED = 1e7


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "node",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scenario", help="scenario TOML (default: the embedded seed tank)")
    add_set_option(p)
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT or mqtts://")
    p.add_argument("--username", help="MQTT user name (with --password-file)")
    p.add_argument("--password-file", help="file whose first line is the password")
    p.add_argument("--tls-ca", help="CA certificate (PEM) that signed the broker's certificate")
    p.add_argument(
        "--format",
        choices=("native", "esphome", "tasmota"),
        default="native",
        help="message format the node speaks (%(default)s)",
    )
    p.add_argument("--speed", type=float, default=600.0,
                   help="simulated seconds per real second (default %(default)g)")  # fmt: skip
    p.add_argument("--site", default="home", help="site name in the topics (%(default)s)")
    p.add_argument("--tank", default="main", help="tank name in the topics (%(default)s)")
    p.add_argument("--node", default="vnode", help="node name (status topic, device name)")
    p.add_argument("--days", type=float, help="simulated days (default: the scenario's)")
    p.add_argument("--seed", type=int, help="seed of the sensor behaviour (default: scenario's)")
    p.add_argument("--start", help="ISO time of simulated day 0 (default: so the run ends now)")
    p.add_argument(
        "--wall-clock",
        action="store_true",
        help="stamp every reading with the wall-clock time it is sent, however "
        "fast the simulation runs (live demos: a dashboard shows them as they "
        "arrive); day 0 is now",
    )
    p.add_argument("--interval-s", type=float, default=60.0,
                   help="seconds between readings (default %(default)g)")  # fmt: skip
    p.add_argument("--sentinel-rate", type=float, default=0.001,
                   help="share of DS18B20 readings that are error codes (%(default)g)")  # fmt: skip
    p.add_argument("--dropouts-per-day", type=float, default=0.5,
                   help="Wi-Fi outages per simulated day, 15 min mean (%(default)g)")  # fmt: skip
    p.add_argument("--write-mapping", metavar="FILE", help="write the bridge's --mapping file")
    p.add_argument("--dry-run", action="store_true", help="print the messages, no broker")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    from tankeco.cli.names import check_name

    if not (math.isfinite(args.speed) and 0 < args.speed <= MAX_SPEED):
        raise UserError(f"--speed {args.speed:g}: allowed above 0 and at most {MAX_SPEED:g}")
    if args.days is not None and not (0 < args.days <= 3650):
        raise UserError(f"--days {args.days:g}: allowed more than 0 and at most 3650")
    if not 1 <= args.interval_s <= 3600:
        raise UserError(f"--interval-s {args.interval_s:g}: allowed 1 to 3600 s")
    if args.format == "tasmota" and args.interval_s < 10:
        # TelePeriod's minimum; Tasmota's Time has whole seconds and is the de-dup key.
        raise UserError(f"--interval-s {args.interval_s:g}: Tasmota sends at most every 10 s")
    if not 0 <= args.sentinel_rate <= 1:
        raise UserError(f"--sentinel-rate {args.sentinel_rate:g}: allowed 0 to 1")
    if not 0 <= args.dropouts_per_day <= 100:
        raise UserError(f"--dropouts-per-day {args.dropouts_per_day:g}: allowed 0 to 100")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed {args.seed}: allowed 0 or more")
    for opt in ("site", "tank", "node"):
        check_name(f"--{opt}", getattr(args, opt))
    if args.password_file and not args.username:
        raise UserError("node: --password-file needs --username")


def _start_ms(text: str | None, days: float, speed: float, now_ms: int) -> int:
    """Day 0 as epoch ms: given, or placed so that the last reading is stamped now."""
    if text is None:
        return now_ms - round(days * 86_400_000 * (1 - 1 / speed))
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--start {text!r}: use an ISO time like 2026-11-26T09:00Z") from None
    if dt.tzinfo is None:
        if len(text.strip()) > 10:
            raise UserError(f"--start {text!r}: give the zone, e.g. {text.strip()}Z")
        dt = dt.replace(tzinfo=UTC)
    if dt < datetime(2020, 1, 1, tzinfo=UTC):
        raise UserError(f"--start {text!r}: before 2020 (the bridge refuses such device times)")
    start_ms = int(dt.timestamp() * 1000)
    end_ms, wall_end_ms = start_ms + days * 86_400_000, now_ms + days * 86_400_000 / speed
    if end_ms > wall_end_ms + 5 * 60_000:
        print("tankeco node: warning: with this --start the last readings are stamped in the"
              " future; the bridge will quarantine them", file=sys.stderr)  # fmt: skip
    return start_ms


def _explain_clock(start_ms: int, days: float, speed: float, now_ms: int) -> None:
    """Say where the stamps lie: a 90-day run at --speed 600 starts 90 days back.

    Without this line a dashboard showing the last few days stayed empty for hours while
    the node was publishing (issue 11, point 4).
    """
    from tankeco.cli.timeparse import iso_utc

    catch_up_h = days * 24 / speed
    if start_ms < now_ms - 86_400_000:
        print(
            f"tankeco node: readings are stamped in simulated time from {iso_utc(start_ms)}"
            f" ({(now_ms - start_ms) / 86_400_000:.0f} days ago) and reach the present in"
            f" {catch_up_h:.1f} h; a dashboard's recent window fills only then."
            " --wall-clock stamps each reading when it is sent",
            file=sys.stderr,
            flush=True,
        )


def _login(args: argparse.Namespace) -> tuple[BrokerAddress, MqttLogin]:
    """Broker address and login, checked before the simulation runs (fail fast)."""
    from tankeco.bridge.broker import parse_broker_url, read_password_file
    from tankeco.node.publish import MqttLogin

    password = read_password_file(args.password_file) if args.password_file else None
    return parse_broker_url(args.broker), MqttLogin(args.username, password, args.tls_ca)


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    broker = None if args.dry_run else _login(args)
    from tankeco.scenario.loading import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    days = float(args.days if args.days is not None else scenario.simulation.days)
    if args.wall_clock and args.start:
        raise UserError("node: --wall-clock starts the run now; leave out --start")
    now_ms = int(time.time() * 1000)
    start_ms = now_ms if args.wall_clock else _start_ms(args.start, days, args.speed, now_ms)
    if not args.quiet and not args.wall_clock:
        _explain_clock(start_ms, days, args.speed, now_ms)

    from tankeco.node.formats import bridge_mapping_toml, make_encoder, messages
    from tankeco.node.reading_plan import NodeSettings, build_plan
    from tankeco.sim.engine import simulate

    try:
        settings = NodeSettings(
            start_ms=start_ms, days=days, site=args.site,
            clock_scale=1.0 / args.speed if args.wall_clock else 1.0,
            tank=args.tank, node=args.node,
            seed=scenario.simulation.seed if args.seed is None else args.seed,
            interval_s=args.interval_s,
            ammonia_interval_s=args.interval_s if args.format == "tasmota"
            else max(1800.0, args.interval_s) // args.interval_s * args.interval_s,
            sentinel_rate=args.sentinel_rate, dropout_rate_per_d=args.dropouts_per_day,
            dosing_chemical=scenario.dosing.chemical,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(f"node: {exc}") from None
    # The simulator writes hourly rows: cover the run up to the next whole hour.
    results = simulate(scenario, math.ceil(days * 24 - 1e-9) / 24)
    plan = build_plan(results.timeseries, results.events, settings)
    encoder = make_encoder(plan, args.format)
    if args.write_mapping:
        try:
            with open(args.write_mapping, "w", encoding="utf-8") as f:
                f.write(bridge_mapping_toml(encoder))
        except OSError as exc:
            raise UserError(f"--write-mapping {args.write_mapping!r}: {exc.strerror}") from None
    return _publish(args, broker, encoder, messages(encoder), days)


def _publish(
    args: argparse.Namespace,
    broker: tuple[BrokerAddress, MqttLogin] | None,
    encoder: Encoder,
    stream: Iterator[Outgoing],
    days: float,
) -> int:
    from tankeco.node import publish

    if broker is None:
        sink: publish.Sink = publish.PrintSink(sys.stdout)
    else:
        s = encoder.s
        sink = publish.MqttSink(
            broker[0],
            client_id=f"tankeco-node-{s.site}-{s.tank}-{s.node}",
            will=encoder.will(),
            birth=encoder.birth,
            login=broker[1],
        )
    stop = threading.Event()
    old = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }

    def progress(st: publish.RunStats) -> None:
        print(f"tankeco node: day {st.last_t_s / 86_400:.2f} of {days:g},"
              f" {st.sent} messages sent", file=sys.stderr)  # fmt: skip

    try:
        stats = publish.run(
            stream, sink, args.speed, stop, goodbye=encoder.goodbye,
            progress=None if args.quiet else progress,
        )  # fmt: skip
    except BrokenPipeError:  # dry run piped into head: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    how = "stopped" if stats.stopped_early else "done"
    confirmed = ""
    if broker is not None:
        reconnects = getattr(sink, "reconnects", 0)
        again = f", {reconnects} reconnect(s)" if reconnects else ""
        confirmed = f" ({stats.confirmed} acknowledged by the broker{again})"
    print(f"tankeco node: {how} at day {stats.last_t_s / 86_400:.2f}: sent {stats.sent}"
          f" messages{confirmed}", file=sys.stderr)  # fmt: skip
    return 0
