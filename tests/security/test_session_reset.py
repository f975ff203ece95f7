"""A pooled connection goes back to the pool with nothing of its session
left, however its unit of work ended: no setting made without LOCAL, no
LISTEN, no session-level advisory lock, no open cursor, no role.

The state is planted on the unit of work's own connection (white-box: the
public API lends none; a query added to queries/ and run with uow.run could
do the same, so the planting unit of work runs one with uow.run first),
then the next borrower of the only connection looks. A unit of work that
ran only the repositories' own statements commits without the reset: no
statement of the generated package can leave session state (read here).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

import repositories._generated as generated
from repositories import RepositoryError, Store, UnitOfWork, User
from repositories._generated import projects as project_queries
from tests.support import Backend, connection_of, new_project

HANG_GUARD_S = 30.0
UNLOCK_ALL = "pg_advisory_unlock_all()"
ADVISORY_KEY = 290_029
PLANT = [
    "SELECT set_config('work_mem', '1MB', false)",
    "SELECT set_config('app.planted', 'yes', false)",
    "LISTEN planted",
    f"SELECT pg_advisory_lock({ADVISORY_KEY})",
    "DECLARE planted CURSOR WITH HOLD FOR SELECT 1",
    "SELECT set_config('role', 'app_user', false)",
]


@dataclass(frozen=True)
class Session:
    """What a connection's session carries, seen from the connection."""

    pid: int
    work_mem: str
    planted: str | None
    channels: list[str]
    advisory_locks: int
    cursors: list[str]
    user: str
    in_transaction: bool


async def session_of(conn: Any) -> Session:
    row = await conn.fetchrow(
        "SELECT pg_backend_pid() AS pid,"
        " current_setting('work_mem') AS work_mem,"
        " current_setting('app.planted', true) AS planted,"
        " ARRAY(SELECT pg_listening_channels()) AS channels,"
        " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        "  AND pid = pg_backend_pid()) AS advisory_locks,"
        " ARRAY(SELECT name FROM pg_cursors WHERE name <> '') AS cursors,"
        " current_user AS who"
    )
    return Session(
        row["pid"],
        row["work_mem"],
        row["planted"],
        list(row["channels"]),
        row["advisory_locks"],
        list(row["cursors"]),
        row["who"],
        conn.is_in_transaction(),
    )


class Borrowers:
    """`setup=` of the Store: what each borrower of a connection is handed."""

    def __init__(self) -> None:
        self.seen: list[Session] = []

    async def __call__(self, conn: Any) -> None:
        self.seen.append(await session_of(conn))


@pytest.fixture
async def single(app_url: str) -> AsyncIterator[tuple[Store, Borrowers]]:
    borrowers = Borrowers()
    async with Store.open(app_url, min_size=1, max_size=1, setup=borrowers) as store:
        yield store, borrowers


async def plant(uow: UnitOfWork) -> None:
    # Standing for a query of queries/ that plants it, run the way route
    # code runs one.
    await uow.run(project_queries.project_exists, id=uuid.uuid4(), owner_id=uow.user_id)
    conn = connection_of(uow)
    for statement in PLANT:
        await conn.execute(statement)
    planted = await session_of(conn)
    assert planted.channels == []  # LISTEN takes effect at commit
    assert (planted.work_mem, planted.planted) == ("1MB", "yes")
    assert (planted.advisory_locks, planted.cursors) == (1, ["planted"])


async def assert_clean_for_the_next_borrower(
    store: Store, borrowers: Borrowers, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    # The lock was let go when the unit of work ended, not when the
    # connection is next used: someone else takes it now.
    assert await superuser.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY)
    await superuser.execute("SELECT pg_advisory_unlock($1)", ADVISORY_KEY)
    async with store._pool.acquire():  # white-box: a bare borrow
        pass
    after = borrowers.seen[-1]
    fresh = borrowers.seen[0]  # what the connection carried when it was new
    assert after.pid == fresh.pid  # the same connection, reused
    assert after.work_mem == fresh.work_mem
    assert after.planted in (None, "")
    assert after.channels == []
    assert after.advisory_locks == 0
    assert after.cursors == []
    assert after.user == "app_login"
    assert not after.in_transaction


async def committed(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        await plant(uow)


class Boom(Exception):
    """An application error raised inside a unit of work."""


async def plant_and_raise(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        await plant(uow)
        raise Boom


async def plant_and_fail_a_statement(store: Store, user: User) -> None:
    async with store.unit_of_work(user.id) as uow:
        await plant(uow)
        with pytest.raises(asyncpg.DivisionByZeroError):
            await connection_of(uow).execute("SELECT 1 / 0")


async def rolled_back_by_an_exception(store: Store, user: User) -> None:
    with pytest.raises(Boom):
        await plant_and_raise(store, user)


async def rolled_back_by_a_failed_statement(store: Store, user: User) -> None:
    with pytest.raises(RepositoryError, match="rolled back"):
        await plant_and_fail_a_statement(store, user)


ENDINGS: dict[str, Callable[[Store, User], Awaitable[None]]] = {
    "commit": committed,
    "exception": rolled_back_by_an_exception,
    "failed statement": rolled_back_by_a_failed_statement,
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_nothing_of_the_session_follows_the_connection(
    single: tuple[Store, Borrowers],
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
    ending: str,
) -> None:
    store, borrowers = single
    await ENDINGS[ending](store, user)
    await assert_clean_for_the_next_borrower(store, borrowers, superuser)


async def test_nothing_follows_a_unit_of_work_cancelled_mid_statement(
    single: tuple[Store, Borrowers],
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The connection goes back still in its transaction: the pool's reset
    rolls back and resets the session."""
    store, borrowers = single
    project = await new_project(store, user)
    backend = Backend()

    async def cancelled() -> None:
        async with store.unit_of_work(user.id) as uow:
            await plant(uow)
            await backend.is_(uow)
            await uow.files.put(project.id, "a.txt", "never")

    async with superuser.transaction():
        await superuser.execute(
            "SELECT FROM projects WHERE id = $1 FOR UPDATE", project.id
        )
        task = asyncio.create_task(cancelled())
        try:
            await backend.waits_on_a_lock(superuser)
        finally:
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, HANG_GUARD_S)
    await assert_clean_for_the_next_borrower(store, borrowers, superuser)


async def test_a_connection_whose_reset_fails_is_closed_not_reused(
    single: tuple[Store, Borrowers],
    user: User,
    superuser: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The rollback's reset refused (a function revoked by hand): the
    connection still holds the session's state, so it is closed, and the
    next unit of work gets a new one."""
    store, borrowers = single
    await superuser.execute(f"REVOKE EXECUTE ON FUNCTION {UNLOCK_ALL} FROM PUBLIC")
    try:
        with pytest.raises(Boom):
            await plant_and_raise(store, user)
    finally:
        await superuser.execute(f"GRANT EXECUTE ON FUNCTION {UNLOCK_ALL} TO PUBLIC")
    async with store.unit_of_work(user.id):
        pass
    first, after = borrowers.seen[0], borrowers.seen[-1]
    assert after.pid != first.pid
    assert after.advisory_locks == 0
    assert after.planted in (None, "")
    # Its server process ends with it, and so does its advisory lock.
    for _ in range(int(HANG_GUARD_S / 0.01)):
        gone = not await superuser.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", first.pid
        )
        if gone:
            break
        await asyncio.sleep(0.01)
    assert gone, "the closed connection's server process is still there"
    assert await superuser.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY)
    await superuser.execute("SELECT pg_advisory_unlock($1)", ADVISORY_KEY)


async def test_the_pinned_settings_survive_the_reset(
    single: tuple[Store, Borrowers], user: User
) -> None:
    """RESET ALL goes back to the values of the connection's start, where
    the Store's pinned settings are, not to the server's defaults."""
    store, _ = single
    await committed(store, user)
    async with store._pool.acquire() as conn:  # white-box: a bare borrow
        row = await conn.fetchrow(
            "SELECT current_setting('search_path') AS path,"
            " current_setting('statement_timeout') AS statement_timeout,"
            " current_setting('row_security') AS row_security"
        )
    assert row is not None
    assert dict(row) == {
        "path": "public, pg_temp",
        "statement_timeout": "0",
        "row_security": "on",
    }


# What a statement could leave on its session past COMMIT: a setting made
# without LOCAL, a LISTEN, a session-level advisory lock, a cursor WITH
# HOLD, a prepared statement, a temporary object, a loaded library.
SESSION_STATE = re.compile(
    r"set_config\s*\("
    r"|\A\s*SET\s+(?!LOCAL\b)"  # a SET statement (UPDATE's SET is not one)
    r"|\bLISTEN\b"
    r"|\bpg_(try_)?advisory_lock(_shared)?\s*\("
    r"|\bWITH\s+HOLD\b"
    r"|\bPREPARE\b"
    r"|\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP"
    r"|\bLOAD\b",
    re.IGNORECASE,
)
COMMENT_LINE = re.compile(r"^\s*--.*\n?", re.MULTILINE)


def generated_statements() -> dict[str, str]:
    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(generated.__path__):
        loaded = importlib.import_module(f"{generated.__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if name.isupper() and isinstance(value, str) and "-- name:" in value:
                found[f"{module.name}.{name}"] = value
    return found


def test_no_statement_of_the_generated_package_leaves_session_state() -> None:
    statements = generated_statements()
    assert len(statements) > 20  # the scan found the queries
    leaving = {
        name: found.group(0)
        for name, sql in statements.items()
        if (found := SESSION_STATE.search(COMMENT_LINE.sub("", sql)))
    }
    assert leaving == {}


@pytest.mark.parametrize(
    "planting",
    [
        "SELECT set_config('work_mem', '1MB', false)",
        "SET work_mem = '1MB'",
        "LISTEN planted",
        "SELECT pg_advisory_lock(1)",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "PREPARE p AS SELECT 1",
        "CREATE TEMP TABLE t (a int)",
    ],
)
def test_the_scan_finds_each_kind_of_session_state(planting: str) -> None:
    assert SESSION_STATE.search(planting)
    assert not SESSION_STATE.search("SET LOCAL work_mem = '1MB'")
    assert not SESSION_STATE.search("UPDATE t\nSET a = 1")
    assert not SESSION_STATE.search("SELECT pg_advisory_xact_lock(1)")
