"""The readings store: one interface (:class:`Store`), SQLite and PostgreSQL behind it.

Open one with :func:`open_store` and a URL:

* ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` also works)
* ``postgresql://host:port/dbname[?schema=NAME]`` — any libpq URL; ``schema`` is ours.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tankeco.errors import UserError
from tankeco.store.base import Store, StoreUnavailable
from tankeco.store.records import (
    NO_SEQ,
    QUARANTINE_KEEP_BYTES,
    Aggregate,
    Batch,
    DiscoveryConfig,
    Event,
    ManualEntry,
    QuarantineRecord,
    Reading,
    RetentionResult,
    SensorState,
    WriteResult,
)

__all__ = [
    "NO_SEQ",
    "Aggregate",
    "Batch",
    "Event",
    "ManualEntry",
    "QuarantineRecord",
    "Reading",
    "RetentionResult",
    "SensorState",
    "Store",
    "WriteResult",
    "open_store",
    "QUARANTINE_KEEP_BYTES",
    "DiscoveryConfig",
    "StoreUnavailable",
]

ALLOWED = "sqlite:///PATH or postgresql://HOST:PORT/DB"

#: The first 16 bytes of every SQLite 3 database file (sqlite.org/fileformat.html, 1.3).
SQLITE_HEADER = b"SQLite format 3\x00"


def open_store(url: str, *, create: bool = True, say_if_new: bool = False) -> Store:
    """Open the store the URL names; with ``create=False`` a missing SQLite file is an error.

    Commands that only read or add to an existing store (``bridge status``, ``export``,
    ``log``, ``compare``, ``dashboard``) pass ``create=False``: a mistyped path must say so,
    not leave a new empty database behind and report "no messages yet".  A path that is a
    directory or a file that is not an SQLite database is refused either way.

    Commands that may create one (``bridge``, ``import``, ``log --new-store``) pass
    ``say_if_new=True``: a new file is announced on stderr, never created silently.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from tankeco.store.sqlite import SQLiteStore

        if not url.startswith("sqlite:///"):
            raise UserError(
                f"--store {url!r}: an SQLite URL has three slashes before a relative path"
                f" (sqlite:///{url[len('sqlite://') :]}); use {ALLOWED}"
            )
        path = url[len("sqlite:///") :]
        if not path:
            raise UserError(f"--store {url!r}: no file path; use {ALLOWED}")
        _check_sqlite_path(url, Path(path), create)
        import sqlite3

        is_new = not Path(path).exists()
        try:
            store = SQLiteStore(path, url=url)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"--store {url!r}: cannot open the database ({exc})") from None
        if is_new and say_if_new:  # a mistyped path shows up here
            print(f"tankeco: created a new SQLite store {Path(path).resolve()}", file=sys.stderr)
        return store
    if parts.scheme in ("postgresql", "postgres"):
        from tankeco.store.postgres import PostgresStore

        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), None)
        rest = urlencode([(k, v) for k, v in query if k != "schema"])
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
        return PostgresStore(conninfo, schema=schema, url=url)
    raise UserError(f"--store {url!r}: unknown kind of store; use {ALLOWED}")


def _check_sqlite_path(url: str, path: Path, create: bool) -> None:
    """One-line errors for a path that is missing (when not creating), a folder or not SQLite."""
    if path.is_dir():
        raise UserError(f"--store {url!r}: {path} is a directory; name a database file in it")
    if not path.exists():
        if create:
            return
        raise UserError(
            f"--store {url!r}: no such database file ({path.resolve()}); check the path, or"
            " start one with 'tankeco bridge' (which creates it)"
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UserError(f"--store {url!r}: cannot read {path} ({exc.strerror})") from None
    if head and head != SQLITE_HEADER:
        raise UserError(f"--store {url!r}: {path} is not an SQLite database")
