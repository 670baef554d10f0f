"""``tankeco dashboard``: the live web page over the readings store."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from tankeco.errors import UserError

HELP = "serve the live dashboard (charts, forecast, alerts) for a store"
EXAMPLES = """\
examples:
  tankeco dashboard --store sqlite:///tank.db                  # http://127.0.0.1:8050/
  tankeco dashboard --store sqlite:///tank.db --tank main --scenario my_tank.toml
  tankeco dashboard --store postgresql://db:5432/tank --host 0.0.0.0 --token "$(cat tok)"
  tankeco dashboard --store sqlite:///tank.db --broker mqtt://127.0.0.1:1883   # + Home Assistant
Any --host other than 127.0.0.1/localhost needs --token: open http://HOST:PORT/?token=TOKEN.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dashboard",
        help=HELP,
        description=HELP,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_server_options(p)
    p.set_defaults(func=run)


def add_server_options(p: argparse.ArgumentParser, store_required: bool = True) -> None:
    """Options shared with ``tankeco demo``."""
    p.add_argument("--store", required=store_required, help="sqlite:///PATH or postgresql://...")
    p.add_argument("--broker", help="mqtt://HOST:PORT: publish forecast/alerts for Home Assistant")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    p.add_argument("--token", help="required for any host but 127.0.0.1/localhost")
    p.add_argument("--tank", help="tank to show (default: the one heard from last)")
    p.add_argument("--scenario", help="scenario TOML for the forecast (default: seed tank)")
    p.add_argument("--layout", help="pipe layout file for the bed flow map")
    p.add_argument("--tz", help="the keeper's time zone (default: local)")
    p.add_argument("--silent-min", type=float, default=20.0, help="sensor silent after, min")


def check_server_options(args: argparse.Namespace) -> None:
    """One-line errors for unsafe or impossible server options."""
    from tankeco.dashboard.app import is_loopback

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: allowed 1 to 65535")
    if not is_loopback(args.host) and not args.token:
        raise UserError(
            f"--host {args.host}: serving beyond this machine needs --token (a secret the page"
            " and API check); or keep the default --host 127.0.0.1"
        )
    if args.token is not None and len(args.token) < 8:
        raise UserError("--token: use at least 8 characters")
    if args.silent_min <= 0:
        raise UserError(f"--silent-min {args.silent_min:g}: must be more than 0")


def build(args: argparse.Namespace, *, start_forecast: bool = True):
    """The Starlette app for these options (also used by ``tankeco demo``)."""
    from tankeco.dashboard.app import create_app
    from tankeco.dashboard.monitor import Monitor
    from tankeco.scenario.loading import load_scenario

    scenario = load_scenario(args.scenario)
    if args.tz:  # a bad zone is a one-line error now, not a failed forecast later
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"--tz {args.tz!r}: unknown time zone; use e.g. Europe/Berlin"
            ) from None
    monitor = Monitor(
        args.store,
        scenario,
        tank=args.tank,
        tz_name=args.tz,
        scenario_path=args.scenario,
        layout=args.layout,
        silent_min=args.silent_min,
    )
    publisher = None
    if args.broker:
        from tankeco.dashboard.ha_publisher import HomeAssistantPublisher

        publisher = HomeAssistantPublisher(args.broker)
    return create_app(
        monitor,
        host=args.host,
        token=args.token,
        publisher=publisher,
        start_forecast=start_forecast,
    )


def url_of(args: argparse.Namespace) -> str:
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{args.port}/" + (f"?token={args.token}" if args.token else "")


def run(args: argparse.Namespace) -> int:
    check_server_options(args)
    import uvicorn

    app = build(args)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    print(f"dashboard: {url_of(args)}", flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise UserError(f"--port {args.port}: cannot listen: {exc.strerror or exc}") from None
    if not server.started:
        print(f"tankeco: error: could not serve on {args.host}:{args.port}", file=sys.stderr)
        return 2
    return 0
