"""``tankeco dashboard``: the live web page over the readings store."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from tankeco.errors import UserError

#: Environment variable read for the token when neither --token nor --token-file is given.
TOKEN_ENV = "TANKECO_DASHBOARD_TOKEN"


def read_secret_file(path: str, option: str) -> str:
    """The first line of a secret file (password, token), as the bridge reads its password."""
    from tankeco.bridge.broker import read_password_file

    try:
        return read_password_file(path)
    except UserError as exc:
        raise UserError(str(exc).replace("--password-file", option, 1)) from None


HELP = "serve the live dashboard (charts, forecast, alerts) for a store"
EXAMPLES = """\
examples:
  tankeco dashboard --store sqlite:///tank.db                  # http://127.0.0.1:8050/
  # several tanks in the store: / is their overview, /?tank=NAME a tank's page
  tankeco dashboard --store sqlite:///tank.db --tank main --scenario my_tank.toml
  tankeco dashboard --store sqlite:///tank.db --max-fraction 40%   # advice: at most 40% at once
  tankeco dashboard --store postgresql://db:5432/tank --host 0.0.0.0 --token-file tok.txt
  tankeco dashboard --store sqlite:///tank.db --broker mqtts://ha.local:8883 \\
                    --username tankeco --password-file pw.txt --tls-ca ca.pem  # + Home Assistant
Any --host other than 127.0.0.1/localhost needs a token (--token-file, or the environment
variable TANKECO_DASHBOARD_TOKEN; --token shows it to every user in `ps`):
open http://HOST:PORT/?token=TOKEN.
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
    from tankeco.cli.helptext import add_max_fraction_option

    p.add_argument("--store", required=store_required, help="sqlite:///PATH or postgresql://...")
    p.add_argument(
        "--broker", help="mqtt://HOST:PORT: publish readings, forecast, alerts for Home Assistant"
    )
    p.add_argument("--username", help="Home Assistant broker: user name")
    p.add_argument("--password-file", help="Home Assistant broker: file whose first line is it")
    p.add_argument("--tls-ca", help="Home Assistant broker: CA certificate (PEM)")
    p.add_argument(
        "--ha-interval", type=float, default=60.0, help="publish for Home Assistant every S s"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    p.add_argument("--token", help="required for any host but 127.0.0.1/localhost (visible in ps)")
    p.add_argument("--token-file", help="file whose first line is the token")
    p.add_argument(
        "--tank",
        help="tank shown at / (default: the overview of all tanks at /tanks when the store"
        " has several, else its one tank); any tank's page is /?tank=NAME",
    )
    p.add_argument("--scenario", help="scenario TOML for the forecast (default: seed tank)")
    p.add_argument("--layout", help="pipe layout file for the bed flow map")
    p.add_argument("--tz", help="the keeper's time zone (default: local)")
    p.add_argument(
        "--silent-min",
        type=float,
        default=20.0,
        help="sensor silent after, min (Home Assistant: its entity turns unavailable)",
    )
    add_max_fraction_option(p)


def check_server_options(args: argparse.Namespace) -> None:
    """One-line errors for unsafe or impossible server options."""
    from tankeco.cli.helptext import parse_fraction
    from tankeco.dashboard.app import is_loopback

    if getattr(args, "token_file", None):
        if args.token:
            raise UserError("--token and --token-file: give one of them")
        args.token = read_secret_file(args.token_file, "--token-file")
    elif not args.token and os.environ.get(TOKEN_ENV):
        args.token = os.environ[TOKEN_ENV]
    if args.password_file and not args.username:
        raise UserError("--password-file needs --username")
    if (args.username or args.tls_ca) and not args.broker:
        raise UserError("--username and --tls-ca are for --broker (Home Assistant); give it")
    if not args.ha_interval > 0:
        raise UserError(f"--ha-interval {args.ha_interval:g}: must be more than 0 s")
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
    parse_fraction("--max-fraction", args.max_fraction)


def build(args: argparse.Namespace, *, start_forecast: bool = True):
    """The Starlette app for these options (also used by ``tankeco demo``)."""
    from tankeco.cli.helptext import parse_fraction
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
        max_fraction=parse_fraction("--max-fraction", args.max_fraction),
    )
    publisher = None
    if args.broker:
        from tankeco.dashboard.ha_publisher import HomeAssistantPublisher

        publisher = HomeAssistantPublisher(
            args.broker,
            username=args.username,
            password=read_secret_file(args.password_file, "--password-file")
            if args.password_file
            else None,
            tls_ca=args.tls_ca,
            interval_s=args.ha_interval,
            store_url=args.store,
            stale_min=args.silent_min,
        )
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
    from tankeco.store import open_store

    # A mistyped path is an error here, not a new empty database and an empty page.
    open_store(args.store, create=False).close()
    if args.broker:
        from tankeco.cli.reach import resolve_broker

        resolve_broker(args.broker)
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
