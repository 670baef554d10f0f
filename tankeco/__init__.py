"""tankeco: aquarium ecosystem simulator and monitor.

The model (``tankeco.chemistry``, ``tankeco.sim``) is pure computation; I/O lives at the
edges (``tankeco.cli``, ``tankeco.io.output``).  See README.md for the two commands that get
a keeper going.

Importing the package points numba's compile cache at the user's cache directory (see
:func:`numba_cache_dir`) before any kernel module imports numba.  numba's default writes
``__pycache__`` folders next to the source, i.e. inside ``site-packages/tankeco``; after a
later ``pip install -e`` those folders outlive the regular install and Python takes the
leftover ``site-packages/tankeco`` for a namespace package, which breaks every import of
``tankeco`` (issue 11, point 1).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__version__ = "0.1.0"


def numba_cache_dir() -> Path:
    """Where numba keeps tankeco's compiled kernels: never inside the installed package.

    ``NUMBA_CACHE_DIR`` wins where it is set (numba's own variable).  Otherwise the
    platform's user cache directory, following the XDG base-directory specification on
    Linux (``$XDG_CACHE_HOME``, else ``~/.cache``), ``~/Library/Caches`` on macOS and
    ``%LOCALAPPDATA%`` on Windows, with ``tankeco/numba`` below it.
    """
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tankeco" / "numba"


def _point_numba_cache_at_user_dir() -> None:
    """Set ``NUMBA_CACHE_DIR`` for this process before numba reads its configuration.

    numba reads the variable when it is first imported; if it was already imported (a
    notebook that imported numba first), its live configuration is updated as well.
    """
    cache_dir = str(numba_cache_dir())
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = cache_dir


_point_numba_cache_at_user_dir()
