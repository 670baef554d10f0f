"""The embedded default store: one SQLite file in WAL mode.

WAL lets ``tankeco bridge status`` and ``tankeco export`` read while the bridge writes;
``synchronous=NORMAL`` is durable across a process crash (the SIGKILL case) and only
risks the last commits on power loss, which the broker still holds un-acknowledged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tankeco.store.sqlbase import SQLITE, SqlStore

#: How long a writer waits for another process's lock before giving up, in ms.
BUSY_TIMEOUT_MS = 10_000


class SQLiteStore(SqlStore):
    """Store in a local SQLite file (``sqlite:///path/to/file.db``)."""

    dialect = SQLITE

    def __init__(self, path: str | Path, url: str | None = None) -> None:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        super().__init__(url or f"sqlite:///{path}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path),
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        return conn

    def _is_unavailable(self, exc: BaseException) -> bool:
        # OperationalError is what SQLite raises for a locked or busy file, a full disk,
        # an I/O error or a file that went away; reopening is the cure for the last two.
        return isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError)

    def _has_table(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            try:
                cur.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction is already gone (connection lost)
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()
