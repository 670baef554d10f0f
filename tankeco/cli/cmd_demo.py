"""``tankeco demo``: broker, sensor node, bridge and dashboard in one command.

On a fresh machine after ``pip install``: it uses ``--broker`` if given, else a Mosquitto
found on the PATH (started on a free port, bound to 127.0.0.1), else an embedded Python
broker (amqtt).  The sensor node is ``tankeco node --wall-clock``, the one virtual node
(DS18B20, pH probe and free-ammonia monitor, with the weekly kit nitrate), in accelerated
simulated time.  The store is a fresh SQLite file with three days of simulated history of
every modelled quantity, so the charts and the forecast have something to show from the
first second.  With ``--tank-count N`` it runs N tanks, each with its own node and history
(each a few days further into the cycle), and the dashboard opens on the overview of
them all.  Ctrl-C or SIGTERM stops every process it started.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tankeco.errors import UserError

HELP = "run a broker, a simulated sensor node, the bridge and the dashboard together"
SITE, TANK = "demo", "demo"
#: Most tanks ``--tank-count`` runs: each is a node process (~60 MB) publishing to the bridge.
MAX_TANKS = 20
#: Each further tank's history starts this many model days later in the seed tank's run.
TANK_OFFSET_D = 1.5
#: Sensors of the prefilled history: the node's own (temperature, pH) so their live
#: readings continue the same series, and the lab quantities a keeper reads from kits.
PREFILL_SENSORS = (
    ("temp", "temperature"),
    ("ph", "ph"),
    ("tan", "tan_n"),
    ("no2", "no2_n"),
    ("no3", "no3_n"),
    ("do", "do"),
)


def register(sub: Any) -> None:
    from tankeco.cli.cmd_dashboard import add_server_options
    from tankeco.cli.helptext import plain

    p = sub.add_parser("demo", help=HELP, description=plain(__doc__.split("\n\n")[1]))
    add_server_options(p, store_required=False)
    p.add_argument("--speed", type=float, default=600.0, help="model seconds per real second")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
    p.add_argument(
        "--tank-count",
        type=int,
        default=1,
        help=f"tanks to run, each with its own virtual node (1 to {MAX_TANKS}; default 1)",
    )
    p.add_argument(
        "--virtual-node",
        action="store_true",
        help="accepted for compatibility: the demo always publishes with "
        "'tankeco node --wall-clock'",
    )
    p.set_defaults(func=run)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


class Processes:
    """Children started by the demo, stopped in reverse order."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], **kw: Any) -> subprocess.Popen:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)
        self.procs.append((name, p))
        return p

    def stop(self) -> None:
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_broker(procs: Processes, workdir: Path) -> tuple[str, str]:
    """Mosquitto from the PATH, else amqtt; returns (broker URL, what it is).

    amqtt speaks MQTT 3.1.1 only (the bridge is told so with ``--protocol 3.1.1``).
    """
    port = free_port()
    mosquitto = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )
    if mosquitto:
        from tankeco.bridge.broker import mosquitto_conf_for

        # The shipped settings (tankeco/data/mosquitto.conf), so the demo runs what a
        # keeper installs; only the port and the data directory differ.
        data = workdir / "mosquitto"
        data.mkdir()
        conf = workdir / "mosquitto.conf"
        extra = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
        if extra:  # mosquitto started as root drops to this user, who must own the data
            os.chmod(workdir, 0o755)
        conf.write_text(mosquitto_conf_for(port, data, extra), encoding="utf-8")
        procs.start("mosquitto", [mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)
        kind = "mosquitto"
    else:
        import amqtt  # noqa: F401  # the 'demo' extra, checked here: the broker is a child

        procs.start("amqtt", [sys.executable, "-m", "tankeco.cli.demo_broker", str(port)])
        kind = "embedded amqtt"
    if not wait_port(port):
        raise UserError(f"demo: the {kind} broker did not start on 127.0.0.1:{port}")
    return f"mqtt://127.0.0.1:{port}", kind


def tank_names(n: int) -> list[str]:
    """``demo``, then ``demo-2`` ... ``demo-N``."""
    return [TANK] + [f"{TANK}-{k}" for k in range(2, n + 1)]


def prefill(store_url: str, days: float = 3.0, tanks: int = 1) -> Any:
    """Three days of simulated history (every 5 min) ending now, for each tank; returns
    the long run.  Tank k's history is taken ``k * TANK_OFFSET_D`` model days later in
    the run, with its own noise, so the tanks of the overview differ."""
    import numpy as np

    from tankeco.scenario.loading import load_scenario
    from tankeco.sim.engine import simulate
    from tankeco.store import Batch, Reading, open_store
    from tankeco.units.quantities import lookup

    run_d = 40.0 + TANK_OFFSET_D * (tanks - 1)
    ts = simulate(load_scenario(None, ["output.step_h=0.25"]), run_d).timeseries
    now = int(time.time() * 1000)
    t_rel = np.arange(-days, 0, 5 / 1440)
    batch = Batch()
    for k, tank in enumerate(tank_names(tanks)):
        rng = np.random.default_rng(k)
        for sensor, name in PREFILL_SENSORS:
            q = lookup(name)
            quantity, col, noise, unit = q.name, q.model_column, q.sensor_sigma or 0.0, q.unit
            v = np.interp(t_rel + days + k * TANK_OFFSET_D, ts["time_d"], ts[col])
            v = v + rng.normal(0, noise, t_rel.size)
            for i, (t, x) in enumerate(zip(t_rel, v, strict=True)):
                ms = now + int(t * 86_400_000)
                batch.readings.append(
                    Reading(ms, SITE, tank, sensor, quantity, float(max(x, 0)), unit, seq=i)
                )
    store = open_store(store_url)
    store.write(batch)
    store.close()
    return ts


def start_node(procs: Processes, broker: str, args: argparse.Namespace) -> str:
    """``tankeco node --wall-clock`` publishing each tank (its own seed, so its own sensor
    faults and noise); a one-line error if one stops."""
    nodes = []
    for k, tank in enumerate(tank_names(args.tank_count)):
        cmd = [sys.executable, "-m", "tankeco", "node", "--broker", broker, "--site", SITE,
               "--tank", tank, "--wall-clock", "--speed", str(args.speed),
               "--interval-s", str(max(args.interval * args.speed, 10.0))]  # fmt: skip
        if k:  # the first tank keeps the scenario's seed; several: no progress lines
            cmd += ["--seed", str(k), "--quiet"]
        nodes.append(procs.start(f"node {tank}", cmd))
    time.sleep(2.0)
    for tank, p in zip(tank_names(args.tank_count), nodes, strict=True):
        if p.poll() is not None:
            raise UserError(
                f"demo: the virtual node of tank {tank} stopped at start (exit code {p.returncode})"
            )
    return "tankeco node" if args.tank_count == 1 else f"{args.tank_count} x tankeco node"


def run(args: argparse.Namespace) -> int:
    from tankeco.cli.cmd_dashboard import build, check_server_options, url_of

    if args.speed <= 0 or args.interval <= 0:
        raise UserError("--speed and --interval must be more than 0")
    if not 1 <= args.tank_count <= MAX_TANKS:
        raise UserError(f"--tank-count {args.tank_count}: allowed 1 to {MAX_TANKS}")
    check_server_options(args)
    workdir = Path(tempfile.mkdtemp(prefix="tankeco-demo-"))
    if not args.store:
        args.store = f"sqlite:///{workdir / 'demo.db'}"
    if args.tank_count == 1:  # several tanks: the dashboard opens on their overview
        args.tank = args.tank or TANK
    procs = Processes()
    stopping = threading.Event()

    def on_term(signum: int, frame: Any) -> None:
        stopping.set()
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        if args.broker:
            from tankeco.cli.reach import require_broker

            require_broker(args.broker)
            broker, kind = args.broker, "given broker"
        else:
            broker, kind = start_broker(procs, workdir)
        print(f"demo: broker {broker} ({kind})", flush=True)
        prefill(args.store, tanks=args.tank_count)
        procs.start(
            "bridge",
            [sys.executable, "-m", "tankeco", "bridge", "--broker", broker, "--store",
             args.store, "--client-id", f"tankeco-demo-bridge-{os.getpid()}",
             "--flush-interval", "0.1", "--session-expiry", "600",
             "--protocol", "3.1.1" if kind == "embedded amqtt" else "5"],
        )  # fmt: skip
        time.sleep(1.0)  # the bridge subscribes before the node's first message
        node = start_node(procs, broker, args)
        print(f"demo: node {node}; bridge into {args.store}", flush=True)
        import uvicorn

        app = build(args)
        print(f"dashboard: {url_of(args)}", flush=True)
        server = uvicorn.Server(
            uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
        )
        server.run()  # returns on Ctrl-C / SIGTERM (uvicorn handles both)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old)
        procs.stop()
        # Every child is gone by now (the dashboard's forecast worker is stopped by the
        # app's shutdown), so the temporary directory can go; a --store the keeper gave
        # lives elsewhere and stays.
        shutil.rmtree(workdir, ignore_errors=True)
        print("demo: stopped", flush=True)
    return 0
