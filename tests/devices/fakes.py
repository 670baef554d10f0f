"""Small stand-ins for the MicroPython modules the node firmware imports.

They model only what the firmware relies on (and how it fails: OSError from the network,
MQTTException from umqtt),
so the real firmware code runs unchanged on CPython.
"""

from __future__ import annotations

import types


class Pin:
    def __init__(self, number: int, *args: object) -> None:
        self.number = number


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin: Pin) -> None:
        self.pin = pin
        self.microvolts = 0
        self.attenuation: int | None = None

    def atten(self, value: int) -> None:
        self.attenuation = value

    def read_uv(self) -> int:
        return self.microvolts


class OneWire:
    def __init__(self, pin: Pin) -> None:
        self.pin = pin


class DS18X20:
    """Returns queued temperatures per ROM (85.0 first, as a real probe does at power-up)."""

    def __init__(self, ow: OneWire) -> None:
        self.ow = ow
        self.roms: list[bytearray] = [bytearray([0x28, 0xBF, 0x38, 0xBD, 0x08, 0x00, 0x00, 0x9A])]
        self.temps: list[float] = [85.0]
        self.conversions = 0

    def scan(self) -> list[bytearray]:
        return list(self.roms)

    def convert_temp(self) -> None:
        self.conversions += 1

    def read_temp(self, rom: bytearray) -> float:
        return self.temps.pop(0) if len(self.temps) > 1 else self.temps[0]


class MQTTException(Exception):
    """umqtt.simple's own error: a refused CONNACK (its return code) or a protocol error."""


class Socket:
    """What the firmware does with the client's socket: a timeout, and close."""

    def __init__(self) -> None:
        self.timeout: float | None = None
        self.closed = False

    def settimeout(self, seconds: float) -> None:
        self.timeout = seconds

    def close(self) -> None:
        self.closed = True


class WDT:
    """machine.WDT: counts feeds."""

    def __init__(self, id: int = 0, timeout: int = 5000) -> None:
        self.timeout = timeout
        self.feeds = 0

    def feed(self) -> None:
        self.feeds += 1


class MQTTClient:
    """Records publishes; ``broker_up`` False makes connect and publish raise OSError.

    ``fail`` (class attribute) makes the named method raise that exception instead, to
    test each way umqtt.simple fails: ``{"connect": MQTTException(5)}`` is a refused
    login, ``{"publish": OSError(110, "ETIMEDOUT")}`` a socket timeout.
    """

    broker_up = True
    fail: dict[str, BaseException] = {}
    instances: list[MQTTClient] = []

    def __init__(self, client_id: str, server: str, port: int = 1883, **kw: object) -> None:
        self.client_id, self.server, self.port, self.kw = client_id, server, port, kw
        self.published: list[tuple[str, bytes, bool, int]] = []
        self.will: tuple[str, bytes, bool, int] | None = None
        self.sock: Socket | None = None
        self.pings = 0
        MQTTClient.instances.append(self)

    def _maybe_fail(self, method: str) -> None:
        if method in MQTTClient.fail:
            raise MQTTClient.fail[method]

    def ping(self) -> None:
        self._maybe_fail("ping")
        if not MQTTClient.broker_up:
            raise OSError(104, "ECONNRESET")
        self.pings += 1

    def set_last_will(self, topic: str, msg: bytes, retain: bool = False, qos: int = 0) -> None:
        self.will = (topic, msg, retain, qos)

    def connect(self) -> None:
        self.sock = Socket()
        self._maybe_fail("connect")
        if not MQTTClient.broker_up:
            raise OSError(113, "ECONNABORTED")

    def publish(self, topic: str, msg: bytes, retain: bool = False, qos: int = 0) -> None:
        self._maybe_fail("publish")
        if not MQTTClient.broker_up:
            raise OSError(104, "ECONNRESET")
        self.published.append((topic, msg, retain, qos))

    def check_msg(self) -> None:
        self._maybe_fail("check_msg")
        if not MQTTClient.broker_up:
            raise OSError(104, "ECONNRESET")


class Ntp:
    def __init__(self) -> None:
        self.calls = 0

    def settime(self) -> None:
        self.calls += 1


def modules() -> dict[str, types.ModuleType]:
    """Fake ``machine``, ``onewire``, ``ds18x20``, ``umqtt.simple``, ``ntptime``, ``network``."""
    machine = types.ModuleType("machine")
    machine.Pin = Pin  # type: ignore[attr-defined]
    machine.ADC = ADC  # type: ignore[attr-defined]
    machine.WDT = WDT  # type: ignore[attr-defined]
    onewire = types.ModuleType("onewire")
    onewire.OneWire = OneWire  # type: ignore[attr-defined]
    ds18x20 = types.ModuleType("ds18x20")
    ds18x20.DS18X20 = DS18X20  # type: ignore[attr-defined]
    umqtt = types.ModuleType("umqtt")
    simple = types.ModuleType("umqtt.simple")
    simple.MQTTClient = MQTTClient  # type: ignore[attr-defined]
    simple.MQTTException = MQTTException  # type: ignore[attr-defined]
    umqtt.simple = simple  # type: ignore[attr-defined]
    ntptime = types.ModuleType("ntptime")
    ntptime.settime = lambda: None  # type: ignore[attr-defined]
    network = types.ModuleType("network")
    return {
        "machine": machine,
        "onewire": onewire,
        "ds18x20": ds18x20,
        "umqtt": umqtt,
        "umqtt.simple": simple,
        "ntptime": ntptime,
        "network": network,
    }
