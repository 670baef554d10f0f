"""A throwaway Mosquitto for tests that stop, restart or configure the broker.

The system broker on 127.0.0.1:1883 belongs to the machine and is never stopped; tests
that need to take the broker down, or need auth or TLS, start their own here on a free
port, from the shipped configuration (persistence on, so queued QoS 1 messages survive a
restart like in production).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tankeco.bridge.broker import mosquitto_conf_for
from tests.needs import missing

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Mosquitto:
    """One mosquitto process with its own config, data directory and port."""

    def __init__(self, workdir: Path, *, extra: str = "", allow_anonymous: bool = True) -> None:
        if not os.path.exists(MOSQUITTO):
            missing("mosquitto", "apt-get install mosquitto; .ci/services.sh installs it")
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.conf = self.dir / "mosquitto.conf"
        self.log = self.dir / "mosquitto.log"
        # The shipped configuration (tankeco/data/mosquitto.conf), as the demo uses it:
        # the tests prove what keepers install, not settings of their own.
        text = mosquitto_conf_for(
            self.port,
            self.dir,
            f"""user {getpass.getuser()}
log_dest file {self.log}
log_type error
log_type warning
{extra}
""",
        )
        if not allow_anonymous:
            text = text.replace("\nallow_anonymous true", "\nallow_anonymous false")
        self.conf.write_text(text, encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"mosquitto did not start on {self.port}: {log[-2000:]}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """SIGTERM: a clean stop that writes the persistence file."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()
