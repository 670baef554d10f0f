"""A virtual sensor node: the simulator's tank, published as a real node would publish it.

Keepers and tests need a stream that looks like a real tank's — quantised DS18B20 steps,
a pH probe that drifts, Wi-Fi gaps, a clock a few seconds off, the odd sensor error code —
without a real tank.  The pieces are kept apart so each can be tested on its own:

* :mod:`.sensors` — pure, seeded models of how each sensor distorts the true value;
* :mod:`.plan` — turns a simulation's time series and events into timed readings;
* :mod:`.formats` — encodes them as native, ESPHome or Tasmota MQTT messages;
* :mod:`.publish` — paces the messages in scaled real time to a broker (or stdout).
"""
