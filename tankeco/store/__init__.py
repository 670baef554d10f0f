"""The readings store: one interface (:class:`Store`), SQLite and PostgreSQL behind it.

Open one with :func:`open_store` and a URL:

* ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` also works)
* ``postgresql://host:port/dbname[?schema=NAME]`` — any libpq URL; ``schema`` is ours.
"""

from __future__ import annotations

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


def open_store(url: str) -> Store:
    """Open (and create if needed) the store the URL names."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from tankeco.store.sqlite import SQLiteStore

        path = url[len("sqlite://") :]
        if path.startswith("/"):
            path = path[1:] or ""
        if not path:
            raise UserError(f"--store {url!r}: no file path; use {ALLOWED}")
        return SQLiteStore(path, url=url)
    if parts.scheme in ("postgresql", "postgres"):
        from tankeco.store.postgres import PostgresStore

        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), None)
        rest = urlencode([(k, v) for k, v in query if k != "schema"])
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
        return PostgresStore(conninfo, schema=schema, url=url)
    raise UserError(f"--store {url!r}: unknown kind of store; use {ALLOWED}")
