"""Connections from the Store's pool, with the acquire timeout at one timer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Pooled: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"


async def acquire(pool: asyncpg.Pool[asyncpg.Record], acquire_timeout: float) -> Pooled:
    """A pooled connection, waiting at most `acquire_timeout` seconds (TimeoutError).

    Not `pool.acquire(timeout=…)`: asyncpg runs that through a task of its
    own and applies the same timeout again on release, two timers and a task
    per request. This is one timer; the release then runs only the Store's
    reset, whose ROLLBACK the command timeout bounds."""
    async with asyncio.timeout(acquire_timeout):
        return await pool.acquire()


@asynccontextmanager
async def pooled(
    pool: asyncpg.Pool[asyncpg.Record], acquire_timeout: float
) -> AsyncIterator[Pooled]:
    """`async with pooled(pool, acquire_timeout) as conn:` acquire, then release."""
    conn = await acquire(pool, acquire_timeout)
    try:
        yield conn
    finally:
        await pool.release(conn)
