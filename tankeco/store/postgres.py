"""PostgreSQL store (psycopg 3) for sites with many tanks or several bridge workers.

Several workers may write at once: the unique constraints make concurrent inserts of the
same message collapse to one row, and counters are bumped with an upsert so no increment
is lost.  An optional ``schema`` query parameter in the URL keeps each store (or each
test) in its own PostgreSQL schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from tankeco.errors import UserError
from tankeco.store.base import StoreUnavailable
from tankeco.store.records import Reading
from tankeco.store.sqlbase import POSTGRES, SqlStore

#: A batch of readings in one statement: one array per column, unnested into rows.
_INSERT_READINGS_UNNEST = """INSERT INTO readings
    (ts_ms, site, tank, sensor, quantity, value, unit, quality, source, seq, received_ms)
    SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[],
                         %b::float8[], %b::text[], %b::text[], %b::text[], %b::bigint[],
                         %b::bigint[])
    ON CONFLICT (site, tank, sensor, ts_ms, seq) DO NOTHING"""

#: Advisory lock held while creating schema objects (key: b"tankeco" as an integer).
_DDL_LOCK = "SELECT pg_advisory_xact_lock(32758224174539631)"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def valid_schema_name(name: str) -> str:
    """Return ``name`` if it is a plain lower-case identifier, else raise UserError."""
    if not _SCHEMA_NAME.match(name):
        raise UserError(
            f"schema = {name!r}: use lower-case letters, digits and _"
            " (at most 63 characters, not starting with a digit)"
        )
    return name


class PostgresStore(SqlStore):
    """Store in PostgreSQL (``postgresql://host:port/db[?schema=NAME]``)."""

    dialect = POSTGRES

    def __init__(self, conninfo: str, *, schema: str | None = None, url: str | None = None):
        self.conninfo = conninfo
        self.schema = valid_schema_name(schema) if schema is not None else None
        try:
            super().__init__(url or conninfo)
        except StoreUnavailable as exc:
            raise UserError(f"cannot connect to PostgreSQL at {conninfo}: {exc}") from None

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=10,
                application_name=f"tankeco {self.schema or ''}".strip()[:63],
            )
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(first) from None
        if self.schema is not None:
            ident = sql.Identifier(self.schema)
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if not exists:  # CREATE SCHEMA needs a right a least-privilege role lacks
                with conn.transaction():
                    conn.execute(_DDL_LOCK)
                    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            conn.execute(sql.SQL("SET search_path TO {}").format(ident))
        return conn

    def _is_unavailable(self, exc: BaseException) -> bool:
        # OperationalError: connection lost, server shutting down, admin termination
        # (pg_terminate_backend), too many connections; InterfaceError: connection closed.
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)

    def _insert_readings(self, cur: Any, readings: Sequence[Reading]) -> int:
        """All readings of a batch in one statement (``unnest`` of one array per column).

        ``executemany`` sends a Bind/Execute per row, and the server plans and runs each
        one; eleven arrays are one message and one execution, with eleven Python lists
        instead of a tuple per row.  The arrays go in binary (``%b``): the server does not
        parse 5 500 text literals, and the client spends half the time adapting them.
        ``ON CONFLICT DO NOTHING`` also skips a key that appears twice within the
        statement, so the count of new rows is exact.
        """
        if not readings:
            return 0
        cur.execute(
            _INSERT_READINGS_UNNEST,
            (
                [r.ts_ms for r in readings],
                [r.site for r in readings],
                [r.tank for r in readings],
                [r.sensor for r in readings],
                [r.quantity for r in readings],
                [float(r.value) for r in readings],
                [r.unit for r in readings],
                [r.quality for r in readings],
                [r.source for r in readings],
                [r.seq for r in readings],
                [r.received_ms for r in readings],
            ),
            prepare=True,
        )
        return max(cur.rowcount, 0)

    def _has_table(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s)", (name,))
        return cur.fetchone()[0] is not None

    def _lock_for_ddl(self, cur: Any) -> None:
        # Two bridge workers starting together would otherwise race on CREATE ... IF NOT
        # EXISTS, which PostgreSQL does not make atomic (duplicate pg_type entry).
        cur.execute(_DDL_LOCK)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._conn.transaction():
            with self._conn.cursor() as cur:
                yield cur

    def drop_schema(self) -> None:
        """Remove this store's schema and everything in it (tests clean up with this)."""
        if self.schema is None:
            raise ValueError("drop_schema needs a store opened with ?schema=NAME")
        if self._conn is None:
            self._conn = self._connect()
        self._conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
        )
