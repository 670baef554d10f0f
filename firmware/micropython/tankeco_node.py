"""tankeco sensor node for an ESP32 running MicroPython.

Reads a DS18B20 (water temperature), an analog pH probe (two-point calibration) and an
analog TDS/EC probe (temperature-compensated), and publishes the tankeco native schema:

    tankeco/v1/<site>/<tank>/<sensor>/state   QoS 1, {"v":1,"ts":…,"seq":…,…}
    tankeco/v1/<site>/<tank>/<node>/status    retained online/offline, also the last will

Why it is built this way:
* Sequence numbers + NTP time give the bridge its de-duplication key, so a message the
  node re-sends after a lost PUBACK is stored once.
* Readings taken while WiFi or the broker is away are buffered (oldest dropped first when
  full) and flushed a few per loop, so reconnecting does not flood the broker.
* Without a set clock there is no trustworthy time: readings are then sent live without
  ``ts`` (the bridge uses receive time) and never buffered.
* DS18B20 error codes (85.0 before the first conversion, -127 disconnected) are not sent.
* Nothing the network does can stop the loop: ``umqtt`` raises ``MQTTException`` (a
  refused CONNACK, a protocol error) as well as ``OSError``, and both only mark the node
  offline.  Sockets get a timeout, so a half-open connection raises instead of blocking;
  a PINGREQ goes out when nothing else has for half the keepalive, so the broker does not
  drop a quiet node; and a hardware watchdog (``machine.WDT``) fed every loop and every
  second of sleep resets the board if anything hangs all the same.

Kept free of CPython-only modules so it runs unchanged on the board; the tests run it on
CPython with small fakes of ``machine``, ``onewire``, ``ds18x20``, ``umqtt.simple`` and
``ntptime``.
"""

import json
import time

from umqtt.simple import MQTTException

try:  # MicroPython
    from time import sleep_ms, ticks_diff, ticks_ms
except ImportError:  # CPython (tests)

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

    def sleep_ms(ms):
        time.sleep(ms / 1000)


SCHEMA_VERSION = 1
#: Seconds between the board's epoch and the Unix epoch (MicroPython ports differ).
EPOCH_OFFSET_S = 946684800 if time.gmtime(0)[0] == 2000 else 0
#: Unix time of 2020-01-01: before this the clock was never set.
CLOCK_SET_AFTER_S = 1577836800
DS18B20_ERROR_C = (85.0, -127.0)
#: What the network can raise: umqtt's own exception besides the socket's OSError.
NET_ERRORS = (OSError, MQTTException)


def unix_time_s():
    """Seconds since 1970 whatever the port's epoch."""
    return time.time() + EPOCH_OFFSET_S


def iso_utc(unix_s):
    """ISO-8601 UTC with milliseconds, built by hand (no datetime on the board)."""
    whole = int(unix_s)
    ms = int(round((unix_s - whole) * 1000))
    if ms == 1000:
        whole, ms = whole + 1, 0
    t = time.gmtime(whole - EPOCH_OFFSET_S)
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{t[5]:02d}.{ms:03d}Z"


class PhProbe:
    """Analog pH probe read through the ADC, calibrated at two buffers (pH 7 and 4).

    pH = ph_a + (mV − mV_a) · (ph_b − ph_a) / (mV_b − mV_a); a healthy probe gives about
    59 mV per pH unit at 25 °C (Nernst slope RT ln10 / F, CODATA 2018).
    """

    def __init__(self, adc, mv_a, ph_a, mv_b, ph_b):
        if mv_a == mv_b:
            raise ValueError("pH calibration needs two different millivolt readings")
        self.adc = adc
        self.mv_a = mv_a
        self.ph_a = ph_a
        self.slope_ph_per_mv = (ph_b - ph_a) / (mv_b - mv_a)

    def millivolts(self):
        return self.adc.read_uv() / 1000.0

    def read_ph(self):
        return self.ph_a + (self.millivolts() - self.mv_a) * self.slope_ph_per_mv


class TdsProbe:
    """Analog EC/TDS probe: EC from voltage, compensated to 25 °C, TDS = 0.5 × EC25.

    EC25 = EC / (1 + 0.02 · (T − 25)) (Greisinger G 7500 manual).  The cell factor (µS/cm per
    volt) is found once by dipping the probe in a calibration solution.
    """

    def __init__(self, adc, us_cm_per_volt):
        self.adc = adc
        self.us_cm_per_volt = us_cm_per_volt

    def read_ec25_us_cm(self, temp_c):
        ec_us_cm = self.adc.read_uv() / 1e6 * self.us_cm_per_volt
        return ec_us_cm / (1.0 + 0.02 * (temp_c - 25.0))

    @staticmethod
    def tds_mg_l(ec25_us_cm):
        return 0.5 * ec25_us_cm


class Buffer:
    """Bounded FIFO of (topic, payload) kept while offline; the oldest go first when full."""

    def __init__(self, max_items):
        self.max_items = max_items
        self.items = []
        self.dropped = 0

    def push(self, item):
        self.items.append(item)
        if len(self.items) > self.max_items:
            self.items.pop(0)
            self.dropped += 1

    def __len__(self):
        return len(self.items)


class Node:
    """One sensor node: read, publish (or buffer), flush, keep the connection."""

    def __init__(
        self, config, mqtt_factory, ds_sensor, ph_probe=None, tds_probe=None, ntp=None, wdt=None
    ):
        self.cfg = config
        self.wdt = wdt
        self.socket_timeout_s = config.get("socket_timeout_s", 10)
        self.keepalive_s = config.get("keepalive_s", 60)
        self.last_sent_ms = ticks_ms()
        self.errors = 0
        self.mqtt_factory = mqtt_factory
        self.ds = ds_sensor
        self.ph = ph_probe
        self.tds = tds_probe
        self.ntp = ntp
        self.seq = 0
        self.client = None
        self.connected = False
        self.buffer = Buffer(config.get("buffer_max", 500))
        self.flush_per_loop = config.get("flush_per_loop", 20)
        self.last_temp_c = None
        self.last_ntp_ms = None
        self.base = f"tankeco/v1/{config['site']}/{config['tank']}"
        self.status_topic = f"{self.base}/{config['node']}/status"

    # -- time ---------------------------------------------------------------------
    def clock_set(self):
        return unix_time_s() >= CLOCK_SET_AFTER_S

    def sync_time(self):
        """NTP at start and then hourly; failure only means readings go out without ts."""
        now = ticks_ms()
        if self.ntp is None:
            return
        if self.last_ntp_ms is not None and ticks_diff(now, self.last_ntp_ms) < 3600000:
            return
        try:
            self.ntp.settime()
            self.last_ntp_ms = now
        except NET_ERRORS:
            pass

    # -- MQTT ---------------------------------------------------------------------
    def connect(self):
        """(Re)connect with a retained last will, then announce online."""
        self.disconnect()
        c = None
        try:
            c = self.mqtt_factory()
            c.set_last_will(self.status_topic, b"offline", retain=True, qos=1)
            c.connect()
            if getattr(c, "sock", None) is not None:
                c.sock.settimeout(self.socket_timeout_s)  # no read or write blocks forever
            c.publish(self.status_topic, b"online", retain=True, qos=1)
            self.client = c
            self.connected = True
            self.last_sent_ms = ticks_ms()
        except NET_ERRORS:
            self.errors += 1
            self.client = c  # so disconnect() closes its socket
            self.disconnect()
        return self.connected

    def disconnect(self):
        """Close the old socket before a new one, so failed attempts do not leak sockets."""
        c, self.client = self.client, None
        self.connected = False
        if c is not None and getattr(c, "sock", None) is not None:
            try:
                c.sock.close()
            except NET_ERRORS:
                pass

    def keepalive(self):
        """PINGREQ when nothing was sent for half the keepalive (the broker drops silent
        clients after 1.5 keepalives; umqtt.simple sends no pings by itself)."""
        if not self.connected or self.keepalive_s <= 0:
            return
        if ticks_diff(ticks_ms(), self.last_sent_ms) < self.keepalive_s * 500:
            return
        try:
            self.client.ping()
            self.last_sent_ms = ticks_ms()
        except NET_ERRORS:
            self.errors += 1
            self.connected = False

    def _send(self, topic, payload):
        try:
            self.client.publish(topic, payload, qos=1)
            self.last_sent_ms = ticks_ms()
            return True
        except NET_ERRORS:
            self.errors += 1
            self.connected = False
            return False

    def publish_reading(self, sensor, quantity, value, unit, kind, ident):
        self.seq += 1
        body = {
            "v": SCHEMA_VERSION,
            "seq": self.seq,
            "quantity": quantity,
            "value": value,
            "unit": unit,
            "quality": "ok",
            "source": {"kind": kind, "id": ident},
        }
        timed = self.clock_set()
        if timed:
            body["ts"] = iso_utc(unix_time_s())
        topic = f"{self.base}/{sensor}/state"
        payload = json.dumps(body).encode()
        if self.connected and not len(self.buffer) and self._send(topic, payload):
            return
        if timed:
            self.buffer.push((topic, payload))

    def flush(self):
        """Send at most ``flush_per_loop`` buffered readings, oldest first."""
        sent = 0
        while self.connected and self.buffer.items and sent < self.flush_per_loop:
            topic, payload = self.buffer.items[0]
            if not self._send(topic, payload):
                break
            self.buffer.items.pop(0)
            sent += 1
        return sent

    # -- sensors ------------------------------------------------------------------
    def read_all(self):
        """One round of readings; a failing sensor never stops the others."""
        roms = self.ds.scan()
        if roms:
            self.ds.convert_temp()
            sleep_ms(750)
            for rom in roms:
                try:
                    t = self.ds.read_temp(rom)
                except Exception:  # CRC errors on a long cable: skip this round
                    continue
                if t is None or t in DS18B20_ERROR_C:
                    continue
                ident = "28-" + "".join(f"{b:02x}" for b in rom[1:7][::-1])
                self.last_temp_c = round(t, 4)
                self.publish_reading(
                    self.cfg.get("temp_sensor", "temp1"), "temperature", self.last_temp_c,
                    "°C", "ds18b20", ident,
                )  # fmt: skip
        if self.ph is not None:
            ph = self.ph.read_ph()
            if 0.0 <= ph <= 14.0:
                self.publish_reading(
                    self.cfg.get("ph_sensor", "ph1"), "ph", round(ph, 3), "pH", "analog-ph", "adc"
                )
        if self.tds is not None and self.last_temp_c is not None:
            ec25 = self.tds.read_ec25_us_cm(self.last_temp_c)
            self.publish_reading(
                self.cfg.get("ec_sensor", "ec1"), "ec", round(ec25, 1), "µS/cm", "analog-tds", "adc"
            )

    def feed(self):
        if self.wdt is not None:
            self.wdt.feed()

    def step(self):
        """One loop iteration: time, connection, readings, throttled flush, ping."""
        self.feed()
        self.sync_time()
        if not self.connected:
            self.connect()
        self.feed()
        self.flush()  # before reading, so a full buffer is drained rather than overflowed
        self.read_all()
        if self.connected:
            try:
                self.client.check_msg()
            except NET_ERRORS:
                self.errors += 1
                self.connected = False
        self.keepalive()
        self.feed()

    def sleep(self, ms):
        """Sleep ``ms``, feeding the watchdog every second and pinging when due."""
        while ms > 0:
            chunk = min(ms, 1000)
            sleep_ms(chunk)
            ms -= chunk
            self.feed()
            self.keepalive()

    def run(self, interval_s):
        while True:
            started = ticks_ms()
            self.step()
            left = interval_s * 1000 - ticks_diff(ticks_ms(), started)
            if left > 0:
                self.sleep(left)
