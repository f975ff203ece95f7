"""A pytest plugin for `nox -s compat` (`pytest -p devtools.compat_probe`):
the test session asks the server its fixtures use for its version and records
it in the JUnit report, so the compat report states where each suite ran from
what the server answered, not from the binaries we meant to start."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest_asyncio

SERVER_VERSION_PROPERTY = "server_version"


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def record_server_version(
    pg_admin_url: str, record_testsuite_property: Callable[[str, object], None]
) -> None:
    conn = await asyncpg.connect(pg_admin_url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    record_testsuite_property(SERVER_VERSION_PROPERTY, version)
