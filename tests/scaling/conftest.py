"""A fresh database at the latest schema for each test that asks for one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devtools import template


@pytest.fixture
async def latest_db(new_migrated_database: template.NewDatabase) -> AsyncIterator[str]:
    """URL of a new database at the latest migration, dropped afterwards."""
    url, drop = await new_migrated_database("scaling")
    yield url
    await drop()
