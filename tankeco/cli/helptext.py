"""Module docstrings as --help text: without the reStructuredText markup meant for Sphinx."""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data):`~?([^`]+)`")


def plain(doc: str) -> str:
    """``tankeco log`` -> 'tankeco log'; :func:`x.y` -> x.y; the rest as written."""
    return _ROLE.sub(r"\1", doc).replace("``", "'")
