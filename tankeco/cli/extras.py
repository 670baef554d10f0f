"""Which optional extra a missing package belongs to, so a command can say so in one line.

The core install (``pip install .``) carries only what ``tankeco simulate`` needs. The
packages below come with the extras declared in ``pyproject.toml``; the commands import
them lazily, where they are used, so a missing one surfaces as a
:class:`ModuleNotFoundError` at the command's edge, and :func:`tankeco.cli.main` turns it
into ``tankeco bridge needs the 'bridge' extra: pip install 'tankeco[bridge]'`` (exit 2).
"""

from __future__ import annotations

#: Top-level import name -> the extra that installs it (keep in step with pyproject.toml).
EXTRA_OF_PACKAGE: dict[str, str] = {
    "paho": "bridge",
    "starlette": "dashboard",
    "uvicorn": "dashboard",
    "plotly": "dashboard",
    "amqtt": "demo",
    "psycopg": "postgres",
    "pyarrow": "parquet",
    "dask": "dask",
    "distributed": "dask",
}

#: Commands whose own extra also carries packages of another extra (the dashboard
#: publishes to Home Assistant over MQTT: its extra includes paho, so name that one).
EXTRA_OF_COMMAND: dict[str, str] = {"dashboard": "dashboard", "demo": "demo"}
PACKAGES_OF_COMMAND_EXTRA: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"starlette", "uvicorn", "plotly", "paho"}),
    "demo": frozenset({"starlette", "uvicorn", "plotly", "paho", "amqtt"}),
}


def missing_extra(command: str | None, exc: ModuleNotFoundError) -> str | None:
    """The one-line message for ``exc`` if it is an optional package, else None.

    None means the missing module is not one an extra provides (a broken install or a
    bug): the caller lets it propagate rather than blame an extra.
    """
    package = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_PACKAGE.get(package)
    if extra is None:
        return None
    own = EXTRA_OF_COMMAND.get(command or "")
    if own is not None and package in PACKAGES_OF_COMMAND_EXTRA[own]:
        extra = own
    what = f"tankeco {command}" if command else "tankeco"
    return (
        f"{what} needs the '{extra}' extra ({package} is not installed): "
        f"pip install 'tankeco[{extra}]'"
    )
