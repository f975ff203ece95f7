"""Applying one generated change as an operator would: `migrate apply` of
its files, and when a statement gives up on its lock timeout, apply again
(the engine resumes at the file that failed). A CONCURRENTLY build that
gave up leaves an INVALID index, which the generated file says to drop
before applying again: the operator does so. Any other failure ends it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.migrations import engine

from .changes import Generated

# Far more than a change needs (one timeout while the long unit of work is
# open, then success); a bound, so a change that can never apply ends.
MAX_ATTEMPTS = 5
# What PostgreSQL says when lock_timeout fires (SQLSTATE 55P03).
LOCK_TIMEOUT_MESSAGE = "canceling statement due to lock timeout"

# A migration statement waiting for a lock: the engine connects as the
# database's owner, the application as its login roles.
MIGRATION_WAITS = """
SELECT EXISTS (
    SELECT FROM pg_stat_activity
    WHERE datname = current_database() AND usename = current_user
      AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
)
"""
POLL_S = 0.02
INVALID_INDEXES = """
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1
"""


@dataclass
class Deployment:
    """How applying one change went."""

    generated: Generated
    started: float = 0.0
    ended: float = 0.0
    attempts: list[str] = field(default_factory=list)
    succeeded: bool = False
    # The INVALID indexes a CONCURRENTLY build left when it gave up.
    dropped: list[str] = field(default_factory=list)
    # When a migration statement was first seen waiting for a lock.
    first_wait: float | None = None

    @property
    def retries(self) -> int:
        return len(self.attempts) - 1

    @property
    def seconds(self) -> float:
        return self.ended - self.started


async def pending_files(url: str, generated: Generated) -> int:
    """How many of the change's files the database has not fully applied."""
    done = {
        r["version"]
        for r in await engine.revisions(url)
        if r["applied"] == r["total"] and not r["error"]
    }
    return sum(version not in done for version in generated.versions)


async def apply(url: str, history: Path, deployment: Deployment) -> None:
    """Apply the change's files, again after each lock timeout."""
    deployment.started = time.monotonic()
    try:
        while len(deployment.attempts) < MAX_ATTEMPTS:
            count = await pending_files(url, deployment.generated)
            done = await asyncio.to_thread(engine.apply, url, history, str(count))
            deployment.attempts.append(engine.output(done))
            if done.returncode == 0:
                deployment.succeeded = True
                return
            if LOCK_TIMEOUT_MESSAGE not in engine.output(done):
                return
            deployment.dropped += await drop_invalid_indexes(url)
    finally:
        deployment.ended = time.monotonic()


async def watch_for_a_wait(
    admin: asyncpg.Connection[asyncpg.Record],
    applying: asyncio.Task[None],
    deployment: Deployment,
) -> None:
    """Note when a migration statement first waits for a lock; returns then,
    or when the apply has ended without one."""
    while not applying.done():
        if await admin.fetchval(MIGRATION_WAITS):
            deployment.first_wait = time.monotonic()
            return
        await asyncio.sleep(POLL_S)


async def invalid_indexes(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [name for (name,) in await conn.fetch(INVALID_INDEXES)]
    finally:
        await conn.close()


async def drop_invalid_indexes(url: str) -> list[str]:
    """Drop what a CONCURRENTLY build that gave up left behind, without
    blocking writers; returns the names."""
    names = await invalid_indexes(url)
    conn = await asyncpg.connect(url)
    try:
        for name in names:
            await conn.execute(f"DROP INDEX CONCURRENTLY {name}")
    finally:
        await conn.close()
    return names
