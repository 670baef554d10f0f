"""Is the broker there?  One-line answers before a command starts work that needs it.

``bridge`` on a host name that does not resolve used to retry forever, logging the same
line; ``demo --broker`` on a port where nothing listens died with a traceback.  A name
that does not resolve is a typo (exit 2); a broker that is down is something the bridge
waits out (it reconnects), but a one-shot command such as ``demo`` must say so at once.
"""

from __future__ import annotations

import socket

from tankeco.bridge.broker import BrokerAddress, parse_broker_url
from tankeco.errors import UserError

#: How long a connection attempt may take before the broker counts as unreachable, s.
CONNECT_TIMEOUT_S = 3.0


def resolve_broker(url: str, option: str = "--broker") -> BrokerAddress:
    """The parsed address, or a one-line error if its host name does not resolve."""
    addr = parse_broker_url(url)
    try:
        socket.getaddrinfo(addr.host, addr.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise UserError(
            f"{option} {url!r}: host name {addr.host!r} does not resolve ({reason});"
            " allowed: a host name or IP address this machine can reach"
        ) from None
    return addr


def require_broker(url: str, option: str = "--broker") -> BrokerAddress:
    """:func:`resolve_broker`, then a TCP connection: a one-line error if nothing answers."""
    addr = resolve_broker(url, option)
    try:
        with socket.create_connection((addr.host, addr.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise UserError(
            f"{option} {url!r}: no MQTT broker answers at {addr.host}:{addr.port}"
            f" ({exc.strerror or exc}); allowed: the address of a running broker"
        ) from None
    return addr
