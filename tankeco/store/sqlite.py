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
        conn = sqlite3.connect(
            str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        self.path = path
        super().__init__(conn, url or f"sqlite:///{path}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()
