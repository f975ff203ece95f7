"""A fresh database at the latest schema for each test that asks for one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devtools import migrate


@pytest.fixture
async def latest_db(pg_admin_url: str) -> AsyncIterator[str]:
    """URL of a new database built from migrations/, dropped afterwards."""
    url, drop = await migrate.create_migrated_database(pg_admin_url, "scaling")
    yield url
    await drop()
