"""Fixtures shared by the test folders: a fresh database per test module,
built from migrations/ by the migration engine as a deployment would, a
Store on it, and users. Tests create their own users, so they share nothing
and run in any order. (`pg_admin_url`, the server, comes from the root
conftest.py, which the plugin's tests share.)

With PERSISTENCE_VIA_PGBOUNCER=1 (nox -s soak) the `store` fixture reaches
the database through PgBouncer in transaction pooling mode, with asyncpg's
statement cache off as PgBouncer before 1.21 requires.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from devtools import migrate, pgbouncer
from repositories import Store, User
from tests.support import new_user


@pytest.fixture(scope="module")
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await migrate.create_migrated_database(pg_admin_url, "tests")
    yield url
    await drop()


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    if os.environ.get("PERSISTENCE_VIA_PGBOUNCER") == "1":
        with pgbouncer.running(database_url) as bouncer:
            async with Store.open(bouncer.url, statement_cache_size=0) as opened:
                yield opened
        return
    async with Store.open(database_url) as opened:
        yield opened


@pytest.fixture
async def user(store: Store) -> User:
    return await new_user(store, "Ada")


@pytest.fixture
async def other_user(store: Store) -> User:
    return await new_user(store, "Mallory")
