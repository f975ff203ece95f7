"""A fresh database with the schema per test module, a Store on it, and users.

The database is built from schema.sql (the same SQL the migrations are diffed
from) while the Atlas CLI cannot be built here; see README, Current limits.
Tests create their own users, so they share nothing and run in any order.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from devtools import PROJECT_ROOT, testdb
from repositories import Store, User


@pytest.fixture(scope="module")
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    url, drop = await testdb.create_database(pg_admin_url, "persistence")
    testdb.load_sql(url, PROJECT_ROOT / "schema.sql")
    yield url
    await drop()


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
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
