"""Fresh databases for the migration proofs: an empty target and an empty dev
database per test, dropped afterwards, and a target at the committed version
with a copy of the history to diff into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools import database

from . import engine


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


@pytest.fixture
async def previous_version(empty_db: str, tmp_path: Path) -> tuple[str, Path]:
    """A database at the committed version, and a copy of the history."""
    history = engine.copy_history(tmp_path)
    applied = engine.apply(empty_db, history)
    assert applied.returncode == 0, engine.output(applied)
    return empty_db, history
