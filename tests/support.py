"""Helpers shared by the test folders (fixtures live in tests/conftest.py):
new users and projects, reads past the repositories, content hashes, what a
pooled connection carries when the pool hands it out, and waiting until a
unit of work's server process waits on a lock."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from devtools import PROJECT_ROOT
from repositories import Project, ProjectFile, Store, UnitOfWork, User


def run_bench(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench ARGS` against the server of `database_url`, as the
    nox session runs it; the caller checks the outcome."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_ROOT / "tools"), str(PROJECT_ROOT / "src"), str(PROJECT_ROOT)]
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


async def new_user(store: Store, name: str = "Ada") -> User:
    return await store.users.create(email=f"{uuid.uuid4().hex}@example.com", name=name)


async def new_project(store: Store, owner: User, name: str = "Project") -> Project:
    async with store.unit_of_work(owner.id) as uow:
        return await uow.projects.create(name)


async def admin_fetchval(database_url: str, query: str, *args: object) -> Any:
    """One value read past the repositories and past row-level security,
    on a connection of its own as the database's owner."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


def text_of(file: ProjectFile) -> str:
    """The content of a file a test wrote as text (str), refusing bytes."""
    assert isinstance(file.content, str), f"{file.path} is not a text file"
    return file.content


def sha256_hex(content: str) -> str:
    """The digest the API reports for text content: SHA-256 of its UTF-8."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    """A connection's session as a query on it sees it."""

    pid: int
    user: str
    actor: str | None
    in_transaction: bool


async def session_of(conn: Any) -> Session:
    row = await conn.fetchrow(
        "SELECT pg_backend_pid() AS pid, current_user AS who,"
        " current_setting('app.user_id', true) AS actor"
    )
    assert row is not None
    return Session(row["pid"], row["who"], row["actor"], conn.is_in_transaction())


class HandedOut:
    """Pass as `Store.open(…, setup=handed_out)`: asyncpg runs `setup` on every
    connection the pool hands out, before the borrower's first statement, so
    `seen` shows what each borrower (a unit of work, store.users) received:
    whatever the previous one left behind. No test reaches into the pool."""

    def __init__(self) -> None:
        self.seen: list[Session] = []

    async def __call__(self, conn: Any) -> None:
        self.seen.append(await session_of(conn))

    async def next_borrower(self, store: Store) -> Session:
        """What the pool hands to the next borrower, before it runs anything
        (white-box: a bare borrow from the Store's tenant pool)."""
        async with store._pool.acquire():
            pass
        return self.seen[-1]


def connection_of(uow: UnitOfWork) -> PoolConnectionProxy[asyncpg.Record]:
    """White-box: the open unit of work's own connection, which the public
    API never lends. Tests use it to find its backend (to kill it) or to see
    what the transaction carries (role, settings, what RLS shows it)."""
    conn = uow._conn
    assert conn is not None, "the unit of work is not open"
    return conn


LOCK_WAIT_GUARD_S = 30.0
WAITING_ON_A_LOCK = (
    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"
)
# On Citus (nox -s citus) the statement waits on the worker holding the
# shard, and the coordinator's backend waits for that worker: Citus's view
# of lock waits names it by its global pid.
WAITING_ON_A_LOCK_ON_A_WORKER = """
SELECT EXISTS (
    SELECT FROM citus_lock_waits
    WHERE waiting_gpid = citus_calculate_gpid(
        (SELECT nodeid FROM pg_dist_node WHERE groupid = 0), $1
    )
)
"""


async def wait_until_waiting_on_a_lock(
    conn: asyncpg.Connection[asyncpg.Record], pid: int
) -> None:
    citus = await conn.fetchval(
        "SELECT to_regclass('pg_catalog.citus_lock_waits') IS NOT NULL"
    )
    waiting = WAITING_ON_A_LOCK_ON_A_WORKER if citus else WAITING_ON_A_LOCK
    for _ in range(int(LOCK_WAIT_GUARD_S / 0.01)):
        if await conn.fetchval(waiting, pid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")


class Backend:
    """The server process of a unit of work, told once the unit of work has
    begun, so that a test can wait until that process waits on a lock:
    `await backend.is_(uow)` inside it, `await backend.waits_on_a_lock(admin)`
    outside."""

    def __init__(self) -> None:
        self._pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def is_(self, uow: UnitOfWork) -> None:
        self._pid.set_result(
            await connection_of(uow).fetchval("SELECT pg_backend_pid()")
        )

    async def waits_on_a_lock(self, admin: asyncpg.Connection[asyncpg.Record]) -> None:
        pid = await asyncio.wait_for(asyncio.shield(self._pid), LOCK_WAIT_GUARD_S)
        await wait_until_waiting_on_a_lock(admin, pid)
