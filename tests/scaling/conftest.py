"""A fresh database at the latest schema for each test that asks for one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devtools import PROJECT_ROOT, testdb


def build_latest_schema(url: str) -> None:
    """The one step that brings an empty database to the latest schema.

    migrations/ holds no versioned history yet, so this loads the declarative
    schema it will be diffed from; once it does, apply migrations/ here."""
    testdb.load_sql(url, PROJECT_ROOT / "schema.sql")


@pytest.fixture
async def latest_db(pg_admin_url: str) -> AsyncIterator[str]:
    """URL of a new database at the latest schema, dropped afterwards."""
    url, drop = await testdb.create_database(pg_admin_url, "scaling")
    try:
        build_latest_schema(url)
        yield url
    finally:
        await drop()
