"""Fresh databases for the migration proofs: an empty target and an empty dev
database per test, dropped afterwards, and a target at the committed version
(a copy of the run's template) with a copy of the history to diff into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools import database, template

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
async def previous_version(
    new_migrated_database: template.NewDatabase, tmp_path: Path
) -> AsyncIterator[tuple[str, Path]]:
    """A database at the committed version, and a copy of the history. The
    database is a copy of the run's template, which the engine built from
    migrations/ (test_schema.py and test_catalog_equivalence.py have the
    engine build theirs from an empty database)."""
    url, drop = await new_migrated_database("target")
    yield url, engine.copy_history(tmp_path)
    await drop()
