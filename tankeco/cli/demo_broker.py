"""An embedded MQTT broker (amqtt) for ``tankeco demo`` on machines without Mosquitto.

Run as ``python -m tankeco.cli.demo_broker PORT``: it listens on 127.0.0.1 only, allows
anonymous clients (it is a local demo) and stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import signal
import sys


async def serve(port: int) -> None:
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.shutdown()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
