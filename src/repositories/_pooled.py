"""A Store's pools as its units of work, store.users and ping borrow from
them: the acquire timeout at one timer, what its running out means, the
session reset, and the counts an operator watches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from repositories import _telemetry
from repositories.errors import PoolExhausted, Unavailable
from repositories.models import PoolStats

Pooled: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# What a session keeps past the end of a transaction, undone: session-level
# advisory locks, open cursors (WITH HOLD), LISTEN registrations, settings
# made without LOCAL (back to their values at connection start, where the
# Store's pinned settings are), a role set without LOCAL. Not DISCARD ALL:
# it would also drop asyncpg's prepared statements. In a transaction that
# a failed statement aborted, the first of them fails (SQLSTATE 25P02).
SESSION_RESET = (
    "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL; RESET ROLE"
)
ROLLBACK_AND_RESET = f"ROLLBACK; {SESSION_RESET}"


async def reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """The pool's reset, run on every release, without a round trip of its
    own: a unit of work resets the session in the message that ends it
    (its COMMIT or ROLLBACK), and closes a connection it could not reset;
    the other borrowers (store.users, ping, Store.open's checks) run single
    statements that leave no session state. asyncpg rolls back a
    transaction still open before this runs; should it not, the rollback
    and the reset are done here."""
    if conn.is_in_transaction():
        await conn.execute(ROLLBACK_AND_RESET)


class Connections:
    """One asyncpg pool of a Store and the wait for its connections."""

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        acquire_timeout: float,
        kind: str = "tenant",
    ) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout
        # Callers inside acquire(): waiting for a connection to free up or
        # to be opened.
        self.waiting = 0
        # The pool's name in the metrics; its gauges read stats().
        self.name = _telemetry.pool_name(kind)
        _telemetry.watch_pool(self)

    async def acquire(self) -> Pooled:
        """A pooled connection (see _acquire), its wait measured when
        OpenTelemetry is on."""
        instruments = _telemetry.instruments
        if instruments is None:
            return await self._acquire()
        started = time.perf_counter()
        attributes = {_telemetry.POOL_NAME: self.name}
        try:
            return await self._acquire()
        except PoolExhausted:
            instruments.timeouts.add(1, attributes)
            raise
        finally:
            instruments.wait_time.record(time.perf_counter() - started, attributes)

    async def _acquire(self) -> Pooled:
        """A pooled connection, waiting at most `acquire_timeout` seconds.

        Not `pool.acquire(timeout=…)`: asyncpg runs that through a task of
        its own and applies the same timeout again on release, two timers
        and a task per request. This is one timer; the release then runs
        only the Store's reset, whose ROLLBACK the command timeout bounds.

        The wait running out is PoolExhausted when every connection of the
        pool is open and lent out (the server may be fine: this process is
        at its capacity), else Unavailable (a connection is being opened
        and the server has not answered)."""
        self.waiting += 1
        try:
            async with asyncio.timeout(self.acquire_timeout) as deadline:
                return await self.pool.acquire()
        except TimeoutError as exc:
            if not deadline.expired():
                # asyncpg's own connect timeout, inside the wait.
                raise Unavailable(detail=f"connecting timed out: {exc!r}") from exc
            size, max_size = self.pool.get_size(), self.pool.get_max_size()
            waited = f"no connection within acquire_timeout={self.acquire_timeout}s"
            if size >= max_size:
                raise PoolExhausted(
                    detail=f"{waited}: all {max_size} connections in use"
                ) from exc
            raise Unavailable(
                detail=f"{waited}: {size} of {max_size} connections open,"
                " and the server did not accept another"
            ) from exc
        finally:
            self.waiting -= 1

    async def release(self, conn: Pooled) -> None:
        await self.pool.release(conn)

    @asynccontextmanager
    async def borrowed(self) -> AsyncIterator[Pooled]:
        """`async with connections.borrowed() as conn:` acquire, then release."""
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.release(conn)

    def stats(self) -> PoolStats:
        size = self.pool.get_size()
        idle = self.pool.get_idle_size()
        return PoolStats(
            max_size=self.pool.get_max_size(),
            size=size,
            in_use=size - idle,
            idle=idle,
            waiting=self.waiting,
        )
