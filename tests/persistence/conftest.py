"""A fresh database with the schema per test module, a Store on it, and users.

The database is built by applying migrations/ with the migration engine, as
a deployment would.
Tests create their own users, so they share nothing and run in any order.

With PERSISTENCE_VIA_PGBOUNCER=1 (nox -s soak) the `store` fixture reaches
the database through PgBouncer in transaction pooling mode, with asyncpg's
statement cache off as PgBouncer before 1.21 requires.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from devtools import migrate, pgbouncer
from repositories import Store, User


@pytest.fixture(scope="module")
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await migrate.create_migrated_database(pg_admin_url, "persistence")
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


async def new_user(store: Store, name: str = "Ada") -> User:
    return await store.users.create(email=f"{uuid.uuid4().hex}@example.com", name=name)


@pytest.fixture
async def user(store: Store) -> User:
    return await new_user(store, "Ada")


@pytest.fixture
async def other_user(store: Store) -> User:
    return await new_user(store, "Mallory")
