"""Fixtures of the security suite (the database, the Store and the users come
from tests/conftest.py): a raw superuser connection for snapshots and a Store
with a small content limit, so over-limit content costs a kilobyte instead
of 5 MiB.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from repositories import Store

from .helpers import SMALL_CONTENT_LIMIT, WORKERS

# Hypothesis caches constants it finds in the source (at collection time, and
# even with database=None) under ./.hypothesis; keep it out of the working tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "agent-persistence-hypothesis")


@pytest.fixture
async def wide_store(app_url: str) -> AsyncIterator[Store]:
    """One connection per worker of the mixed loads: every unit of work
    runs at once."""
    async with Store.open(app_url, min_size=WORKERS, max_size=WORKERS) as opened:
        yield opened


@pytest.fixture(scope="module")
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A raw connection as the login role of `database_url`, which must bypass
    row-level security: snapshots have to see every tenant's rows."""
    conn = await asyncpg.connect(database_url)
    try:
        bypasses = await conn.fetchval(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert bypasses is True, "snapshots need a role that bypasses RLS"
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def small_store(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    async with Store.open(
        app_url, auth_dsn=auth_url, max_content_bytes=SMALL_CONTENT_LIMIT
    ) as opened:
        yield opened
