"""The baseline: a bare paho subscriber that only counts QoS 1 messages.

Same session settings as the bridge (MQTT 5, persistent session, same Receive Maximum),
so the ratio bridge/bare measures what decoding, validation and the store cost.
Prints one JSON line: {"count": N, "elapsed_s": seconds from CONNACK to the N-th message}.
"""

from __future__ import annotations

import json
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main(port: int, client_id: str, expected: int, receive_maximum: int) -> None:
    state = {"count": 0, "t0": 0.0, "t1": 0.0}
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)

    def on_connect(client, userdata, flags, rc, props) -> None:  # noqa: ANN001
        state["t0"] = time.perf_counter()
        client.subscribe("tankeco/v1/#", qos=1)

    def on_message(client, userdata, msg) -> None:  # noqa: ANN001
        state["count"] += 1
        if state["count"] == expected:
            state["t1"] = time.perf_counter()
            client.disconnect()

    c.on_connect = on_connect
    c.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    props.ReceiveMaximum = receive_maximum
    c.connect("127.0.0.1", port, clean_start=False, properties=props)
    if expected == 0:  # only create the session and its subscription
        c.loop(1.0)
        c.loop(1.0)
        c.disconnect()
        return
    c.loop_forever()
    print(json.dumps({"count": state["count"], "elapsed_s": state["t1"] - state["t0"]}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
