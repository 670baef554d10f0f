"""Module docstrings as --help text: without the reStructuredText markup meant for Sphinx."""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data):`~?([^`]+)`")


def plain(doc: str) -> str:
    """``tankeco log`` -> 'tankeco log'; :func:`x.y` -> x.y; the rest as written."""
    return _ROLE.sub(r"\1", doc).replace("``", "'")


def add_set_option(parser: Any) -> None:
    """The ``--set KEY=VALUE`` option every scenario-running command takes (one definition)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario field or params.NAME (repeatable)",
    )
