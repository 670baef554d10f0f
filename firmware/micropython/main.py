"""Board entry point: wire the real hardware to :mod:`tankeco_node` and run forever.

Copy ``tankeco_node.py``, ``main.py`` and a ``config.py`` (see ``config_example.py``)
to the board.  Pins and calibration live in ``config.py`` so one firmware fits many nodes.
"""

import config
import ds18x20
import machine
import network
import ntptime
import onewire
from tankeco_node import Node, PhProbe, TdsProbe
from umqtt.simple import MQTTClient


def wifi_up(ssid, password, timeout_ms=20000):
    import time

    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        wlan.connect(ssid, password)
        start = time.ticks_ms()
        while not wlan.isconnected() and time.ticks_diff(time.ticks_ms(), start) < timeout_ms:
            time.sleep_ms(200)
    return wlan.isconnected()


def adc(pin):
    a = machine.ADC(machine.Pin(pin))
    a.atten(machine.ADC.ATTN_11DB)  # full 0-3.3 V range
    return a


def build(cfg):
    ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(cfg["ds18b20_pin"])))
    ph = (
        PhProbe(adc(cfg["ph_pin"]), *cfg["ph_calibration"])
        if cfg.get("ph_pin") is not None
        else None
    )
    tds = (
        TdsProbe(adc(cfg["tds_pin"]), cfg["tds_us_cm_per_volt"])
        if cfg.get("tds_pin") is not None
        else None
    )

    def mqtt():
        return MQTTClient(
            cfg["client_id"], cfg["broker_host"], port=cfg.get("broker_port", 1883),
            user=cfg.get("username"), password=cfg.get("password"),
            keepalive=cfg.get("keepalive_s", 60),
        )  # fmt: skip

    # Reset the board if one loop (or one second of its sleep) hangs for this long.
    wdt = machine.WDT(timeout=cfg.get("watchdog_ms", 120000))
    return Node(cfg, mqtt, ds, ph, tds, ntptime, wdt)


def main():
    cfg = config.CONFIG
    wifi_up(cfg["wifi_ssid"], cfg["wifi_password"])
    build(cfg).run(cfg.get("interval_s", 60))


if __name__ == "__main__":  # MicroPython runs main.py as __main__ at boot
    main()
