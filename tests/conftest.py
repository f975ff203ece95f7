"""Fixtures shared by the test folders: a fresh database per test module,
a copy of one database the run built from migrations/ with the migration
engine as a deployment would (devtools.template), a Store on it logged in as
the least-privileged app_login, as in production, and users. Tests create
their own users, so they share nothing and run in any order. `pg_admin_url`
is the server (see the end of this file).

With PERSISTENCE_VIA_PGBOUNCER=1 (nox -s soak) the `store` fixture reaches
the database through PgBouncer in transaction pooling mode, with asyncpg's
statement cache off as PgBouncer before 1.21 requires.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from devtools import citusdb, database, migrate, pgbouncer, template, testdb
from repositories import Store, User
from tests.support import new_user


@pytest.fixture(scope="session")
async def new_migrated_database(
    pg_admin_url: str,
) -> AsyncIterator[template.NewDatabase]:
    """How this run makes a database at the latest migration: a copy of the
    template migrated once for the run; under `nox -s citus`, a database on
    every node, migrated by the engine (devtools.citusdb)."""
    if citusdb.enabled():
        yield functools.partial(migrate.create_migrated_database, pg_admin_url)
        return
    async with template.prepared(pg_admin_url) as migrated:
        yield migrated.create_database


@pytest.fixture(scope="module")
async def database_url(
    new_migrated_database: template.NewDatabase,
) -> AsyncIterator[str]:
    url, drop = await new_migrated_database("tests")
    yield url
    await drop()


@pytest.fixture
async def superuser(
    database_url: str,
) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A plain connection as the database's owner (the server's superuser in
    tests): no pool, no row-level security, for setting up and inspecting."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def app_url(database_url: str) -> str:
    """The same database as the application logs in: app_login, which holds
    no privilege until a unit of work switches role. `database_url` is the
    owner's, for setting up and inspecting."""
    return await database.app_login_url(database_url)


@pytest.fixture(scope="module")
async def auth_url(database_url: str) -> str:
    """The same database as the auth layer logs in (store.users):
    app_auth_login, a member of app_auth only."""
    return await database.auth_login_url(database_url)


@pytest.fixture(scope="module")
async def store(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    if os.environ.get("PERSISTENCE_VIA_PGBOUNCER") == "1":
        # The units of work go through PgBouncer; the auth layer's few
        # single statements connect directly.
        with pgbouncer.running(app_url) as bouncer:
            async with Store.open(
                bouncer.url, auth_dsn=auth_url, statement_cache_size=0
            ) as opened:
                yield opened
        return
    async with Store.open(app_url, auth_dsn=auth_url) as opened:
        yield opened


@pytest.fixture
async def user(store: Store) -> User:
    return await new_user(store, "Ada")


@pytest.fixture
async def other_user(store: Store) -> User:
    return await new_user(store, "Mallory")


# The server of this test run, chosen by devtools.testdb (TEST_DATABASE_URL,
# a container or the embedded server). The plugin's tests do not share it:
# they read TEST_DATABASE_URL themselves (plugin/tests/conftest.py), which
# `nox -s tests` sets to the same choice (python -m devtools.testdb).
@pytest.fixture(scope="session")
def pg_admin_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """Admin URL of the server this test run uses; the run says once which
    server that is, and why, in its report (past output capturing)."""
    with testdb.server() as server:
        plugins = pytestconfig.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        capture = plugins.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(server.describe())
        yield server.url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `nox -s citus` (CITUS_CLUSTER=1), a test marked
    `not_on_citus(reason=...)` is skipped with its reason; the session counts
    these skips apart and docs/scaling.md lists them."""
    if not citusdb.enabled():
        return
    for item in items:
        marker = item.get_closest_marker("not_on_citus")
        if marker is not None:
            reason = marker.kwargs.get("reason") or "no reason given"
            item.add_marker(pytest.mark.skip(reason=f"not on Citus: {reason}"))
