"""Fixtures shared by the whole suite: stores on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tankeco.store import Store, open_store

# In CI (TANKECO_REQUIRE_SERVICES=1) a missing service, tool or test dependency fails
# instead of skipping: see tests/needs.py.
from tests.needs import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401

PG_URL = "postgresql://127.0.0.1:5432/test"


def pg_store_url() -> str:
    """A PostgreSQL store URL in a fresh schema of its own, so parallel runs never collide."""
    return f"{PG_URL}?schema=t_{uuid.uuid4().hex[:16]}"


def drop_pg_schema(store: Store) -> None:
    from tankeco.store.postgres import PostgresStore

    assert isinstance(store, PostgresStore)
    store.drop_schema()
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend; the PostgreSQL schema is dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = pg_store_url()
    yield url
    drop_pg_schema(open_store(url))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()
