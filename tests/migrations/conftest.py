"""Fresh databases for the migration proofs: an empty target and an empty dev
database per test, dropped afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devtools import database


@pytest.fixture
async def empty_db(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await database.create_database(pg_admin_url, "target")
    yield url
    await drop()


@pytest.fixture
async def dev_url(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await database.create_database(pg_admin_url, "dev")
    yield url
    await drop()
