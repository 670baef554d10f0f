"""Node firmware: MicroPython for an ESP32 and an ESPHome configuration for the same node.

The MicroPython files are copied to the board as they are (``mpremote cp``); they are
kept importable on CPython so the tests can run them against fakes of the hardware.
"""
