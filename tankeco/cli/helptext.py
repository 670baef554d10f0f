"""Module docstrings as --help text (without the reStructuredText markup meant for
Sphinx), and the options several commands share, defined once."""

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


def add_max_fraction_option(parser: Any) -> None:
    """``--max-fraction``: the largest share of the water changed at once (one definition).

    ``plan water-changes`` leaves larger changes out of its candidates; the dashboard's
    (and ``demo``'s) advice never asks for more at once and splits a larger need into a
    series of changes over days.  Read it with :func:`parse_fraction`.
    """
    from tankeco.scenario.thresholds import MAX_SINGLE_CHANGE_FRACTION

    parser.add_argument(
        "--max-fraction",
        default=f"{MAX_SINGLE_CHANGE_FRACTION:.0%}",
        metavar="F",
        help="largest share of the water changed at once, e.g. 40%% or 0.4 (%(default)s;"
        " hobby practice); more is advised as a series of changes over days",
    )


def parse_fraction(flag: str, text: str) -> float:
    """A share in (0, 1] from ``40%`` or ``0.4``, or a one-line error naming ``flag``."""
    return parse_positive(flag, text, "fraction", 1.0, "1 (or up to 100%)")


def parse_positive(flag: str, text: str, kind: str, high: float, high_text: str) -> float:
    """A value of ``kind`` (the unit parser's field name, e.g. ``interval_d``) in (0, high],
    units converted as in scenario files, or a one-line error naming ``flag``."""
    from tankeco.errors import ScenarioError, UserError
    from tankeco.units import parse as units

    try:
        value = units.parse_quantity(kind, text.strip())
    except ScenarioError as exc:
        raise UserError(f"{flag} {text!r}: {exc.allowed}") from None
    if not 0 < value <= high:
        raise UserError(f"{flag} {text!r}: allowed more than 0, up to {high_text}")
    return value
