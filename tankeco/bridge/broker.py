"""Where the broker is and how to log in: parsed once from the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from tankeco.errors import UserError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://HOST[:PORT]`` or ``mqtts://HOST[:PORT]`` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UserError(f"--broker {url!r}: use mqtt://HOST:PORT or mqtts://HOST:PORT")
    if parts.username or parts.password:
        raise UserError(f"--broker {url!r}: give credentials with --username/--password-file")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise UserError(f"--broker {url!r}: the port must be a number 1-65535") from None
    return BrokerAddress(parts.hostname, port, parts.scheme == "mqtts")


def read_password_file(path: str | Path) -> str:
    """The first line of the file, so a trailing newline is not part of the password."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--password-file {str(path)!r}: {exc.strerror or exc}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise UserError(f"--password-file {str(path)!r}: the first line is empty")
    return lines[0]


#: The Mosquitto settings tankeco relies on, shipped in ``tankeco/data`` (docs/sensors.md).
MOSQUITTO_CONF = "mosquitto.conf"


def shipped_mosquitto_conf() -> str:
    """The text of the shipped Mosquitto configuration."""
    return (resources.files("tankeco") / "data" / MOSQUITTO_CONF).read_text(encoding="utf-8")


def mosquitto_conf_for(port: int, data_dir: Path, extra: str = "") -> str:
    """The shipped configuration for a private broker on 127.0.0.1:``port``.

    Only the listener and the persistence directory change (``tankeco demo`` and the
    tests use this), so what they run is what a keeper installs; ``extra`` is appended.
    """
    text = shipped_mosquitto_conf()
    text = re.sub(r"(?m)^listener .*$", f"listener {int(port)} 127.0.0.1", text, count=1)
    text = re.sub(
        r"(?m)^persistence_location .*$", f"persistence_location {data_dir}/", text, count=1
    )
    return text + ("\n" + extra if extra else "")
