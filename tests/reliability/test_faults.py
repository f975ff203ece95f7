"""The database failing under a unit of work: a killed backend, a statement
that waits too long, an exhausted pool, no server at all.

The contract: the error says which (`Unavailable` for a server that cannot
be reached or a broken connection, `Timeout` for a statement that waited
too long, `PoolExhausted` when no connection frees up), nothing of the unit
of work is persisted, and the same Store serves the next unit of work.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

import pytest

from repositories import (
    PoolExhausted,
    Project,
    RepositoryError,
    Store,
    Timeout,
    Unavailable,
    UnitOfWork,
    User,
)
from tests.support import connection_of, new_project, wait_until_waiting_on_a_lock

from .helpers import (
    HANG_GUARD_S,
    History,
    agent_state_as_superuser,
    files_as_superuser,
    history_as_superuser,
    opened_store,
    superuser,
    terminate_backend,
)
from .proxy import HoldingProxy

Operation = Callable[[UnitOfWork, uuid.UUID], Awaitable[object]]

# The second call of a unit of work, made after its backend was killed (or
# while it waits on a lock). Each would change the seeded state if it landed.
OPERATIONS: dict[str, Operation] = {
    "put": lambda uow, project_id: uow.files.put(project_id, "keep.txt", "changed\n"),
    "sync": lambda uow, project_id: uow.files.sync(
        project_id, {"synced.txt": "synced\n"}
    ),
    "save": lambda uow, project_id: uow.agent_states.save(project_id, {"step": 2}),
}

# Writes that must wait for a row lock on the project: every write of files
# or an agent state first locks the project row (FOR NO KEY UPDATE).
LOCKED_OUT: dict[str, Operation] = {
    "sync": OPERATIONS["sync"],
    "put": lambda uow, project_id: uow.files.put(project_id, "new.txt", "new\n"),
    "save": OPERATIONS["save"],
}


# What each locked-out call names as its resource.
RESOURCE_OF = {"sync": "file", "put": "file", "save": "agent state"}

VICTIM = "reliability-victim"  # application_name of the Store under attack


@pytest.fixture
async def single_store(app_url: str) -> AsyncIterator[Store]:
    """One connection: whatever serves the next unit of work is the
    connection (slot) the fault hit."""
    async with opened_store(
        app_url,
        max_size=1,
        min_size=1,
        server_settings={"application_name": VICTIM},
    ) as opened:
        yield opened


async def seeded_project(store: Store, owner: User, *, with_state: bool) -> Project:
    project = await new_project(store, owner)
    async with store.unit_of_work(owner.id) as uow:
        await uow.files.put(project.id, "keep.txt", "original\n")
        if with_state:
            await uow.agent_states.save(project.id, {"step": 1})
    return project


class Snapshot(NamedTuple):
    """A project as the database holds it: the current files and agent
    state, and every row of its history (versions, contents, checkpoints),
    so a write that landed anywhere shows."""

    files: dict[str, tuple[str | bytes, int]]
    agent_state: tuple[str, int] | None
    history: History

    @property
    def current(
        self,
    ) -> tuple[dict[str, tuple[str | bytes, int]], tuple[str, int] | None]:
        """The current state alone: what a later successful unit of work
        (assert_store_serves, which puts then deletes a file) leaves as it
        was, while adding to the history."""
        return self.files, self.agent_state


async def snapshot(database_url: str, project_id: uuid.UUID) -> Snapshot:
    return Snapshot(
        await files_as_superuser(database_url, project_id),
        await agent_state_as_superuser(database_url, project_id),
        await history_as_superuser(database_url, project_id),
    )


async def assert_store_serves(store: Store, owner: User, project_id: uuid.UUID) -> None:
    async with store.unit_of_work(owner.id) as uow:
        written = await uow.files.put(project_id, "later.txt", "later\n")
    assert written.outcome == "created"
    async with store.unit_of_work(owner.id) as uow:
        assert (await uow.files.get(project_id, "later.txt")).content == "later\n"
        await uow.files.delete(project_id, "later.txt")


# How the test learns the backend of a unit of work: through the connection
# the unit of work lends (as a route doing raw SQL would), or from the
# outside, leaving the unit of work untouched (the repositories-only path).
PID_SOURCES = ["uow.connection", "pg_stat_activity"]


async def backend_of(uow: UnitOfWork, database_url: str, source: str) -> int:
    if source == "uow.connection":
        pid = await connection_of(uow).fetchval("SELECT pg_backend_pid()")
    else:
        async with superuser(database_url) as conn:
            pid = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = $1 AND state = 'idle in transaction'",
                VICTIM,
            )
    assert isinstance(pid, int)
    return pid


@dataclass
class Outcome:
    """What each step of a doomed unit of work raised (None: it returned)."""

    call: Exception | None = None
    exit: Exception | None = None
    reached_the_end: bool = False


async def doomed_unit_of_work(
    store: Store,
    owner: User,
    project_id: uuid.UUID,
    *,
    break_it: Callable[[UnitOfWork], Awaitable[None]],
    operation: str,
    catch: bool,
) -> Outcome:
    """put; break the connection; then `operation` (or, for "commit", just
    leave the block). With `catch`, the caller swallows the call's error and
    leaves the block normally, so the exit has to commit."""
    outcome = Outcome()
    try:
        async with store.unit_of_work(owner.id) as uow:
            await uow.files.put(project_id, "written-in-uow.txt", "doomed\n")
            await break_it(uow)
            if operation != "commit":
                try:
                    await OPERATIONS[operation](uow, project_id)
                except Exception as error:
                    outcome.call = error
                    if not catch:
                        raise
            outcome.reached_the_end = True
    except Exception as error:
        outcome.exit = error
    return outcome


# --------------------------------------------------------------------------
# the backend killed in the middle of a unit of work
# --------------------------------------------------------------------------


@pytest.mark.parametrize("source", PID_SOURCES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_killed_backend_surfaces_unavailable_and_persists_nothing(
    single_store: Store, database_url: str, user: User, operation: str, source: str
) -> None:
    project = await seeded_project(single_store, user, with_state=True)
    before = await snapshot(database_url, project.id)

    async def kill(uow: UnitOfWork) -> None:
        await terminate_backend(
            database_url, await backend_of(uow, database_url, source)
        )

    outcome = await doomed_unit_of_work(
        single_store, user, project.id, break_it=kill, operation=operation, catch=False
    )

    assert not outcome.reached_the_end
    assert await snapshot(database_url, project.id) == before
    await assert_store_serves(single_store, user, project.id)
    assert (await snapshot(database_url, project.id)).current == before.current
    assert isinstance(outcome.call, Unavailable), f"the call raised {outcome.call!r}"
    assert isinstance(outcome.exit, Unavailable), f"the block raised {outcome.exit!r}"


@pytest.mark.parametrize("source", PID_SOURCES)
@pytest.mark.parametrize("operation", [*sorted(OPERATIONS), "commit"])
async def test_killed_backend_caught_by_the_caller_still_commits_nothing(
    single_store: Store, database_url: str, user: User, operation: str, source: str
) -> None:
    """A caller that swallows the call's Unavailable and leaves the block
    normally must not be told that its unit of work committed ("commit":
    the kill comes right before the block's end)."""
    project = await seeded_project(single_store, user, with_state=True)
    before = await snapshot(database_url, project.id)

    async def kill(uow: UnitOfWork) -> None:
        await terminate_backend(
            database_url, await backend_of(uow, database_url, source)
        )

    outcome = await doomed_unit_of_work(
        single_store, user, project.id, break_it=kill, operation=operation, catch=True
    )

    assert outcome.reached_the_end
    assert await snapshot(database_url, project.id) == before
    await assert_store_serves(single_store, user, project.id)
    if operation != "commit":
        assert isinstance(outcome.call, Unavailable), (
            f"the call raised {outcome.call!r}"
        )
    assert isinstance(outcome.exit, Unavailable), f"the block raised {outcome.exit!r}"


async def test_idle_pooled_connection_killed_between_units_of_work(
    single_store: Store, database_url: str, user: User
) -> None:
    """The pool notices a connection that died while idle and replaces it."""
    project = await seeded_project(single_store, user, with_state=False)
    async with single_store.unit_of_work(user.id) as uow:
        pid = await connection_of(uow).fetchval("SELECT pg_backend_pid()")
    assert isinstance(pid, int)
    await terminate_backend(database_url, pid)
    await assert_store_serves(single_store, user, project.id)
    async with single_store.unit_of_work(user.id) as uow:
        assert await connection_of(uow).fetchval("SELECT pg_backend_pid()") != pid


async def test_cancelled_unit_of_work_commits_nothing(
    single_store: Store, database_url: str, user: User
) -> None:
    """A caller cancelled mid-statement (a route's own timeout, a client that
    went away): nothing of its unit of work lands, the Store serves on."""
    project = await seeded_project(single_store, user, with_state=True)
    before = await snapshot(database_url, project.id)
    backend: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    locked = asyncio.Event()

    async def doomed() -> None:
        async with single_store.unit_of_work(user.id) as uow:
            await uow.files.put(project.id, "written-in-uow.txt", "doomed\n")
            pid = await connection_of(uow).fetchval("SELECT pg_backend_pid()")
            backend.set_result(pid)
            await locked.wait()
            await uow.files.sync(project.id, {"synced.txt": "synced\n"})

    task = asyncio.create_task(doomed())
    try:
        pid = await asyncio.wait_for(backend, HANG_GUARD_S)
        async with superuser(database_url) as holder, holder.transaction():
            # The doomed put holds the project lock already; its sync will
            # delete keep.txt, whose row this lock holds.
            await holder.fetchval(
                "SELECT path FROM project_files"
                " WHERE project_id = $1 AND path = 'keep.txt' FOR UPDATE",
                project.id,
                timeout=HANG_GUARD_S,
            )
            locked.set()
            await wait_until_waiting_on_a_lock(holder, pid)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, HANG_GUARD_S)
    finally:
        task.cancel()  # a no-op once done; never leave it holding the pool

    assert await snapshot(database_url, project.id) == before
    await assert_store_serves(single_store, user, project.id)


# --------------------------------------------------------------------------
# a statement that waits longer than command_timeout
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(
            operation,
            marks=pytest.mark.not_on_citus(
                reason="the last sync, on the same connection, is its first "
                "SyncFiles there: asyncpg first looks up its bigint[] type, a "
                "catalog query that Citus's shard hiding slows to about 1 s, "
                "over this test's 0.5 s command timeout"
            ),
        )
        if operation == "sync"
        else operation
        for operation in sorted(LOCKED_OUT)
    ],
)
async def test_lock_wait_beyond_command_timeout_is_timeout_not_unavailable(
    database_url: str, app_url: str, user: User, operation: str
) -> None:
    """The server is healthy: the call waited for a lock another transaction
    holds. Its own code, `timeout`, which promises a rollback (running it
    again is safe); not `unavailable`, which pages whoever runs the
    database."""
    async with opened_store(
        app_url, max_size=1, min_size=1, command_timeout=0.5
    ) as impatient:
        project = await seeded_project(impatient, user, with_state=False)
        before = await snapshot(database_url, project.id)

        async def locked_out_call() -> None:
            async with impatient.unit_of_work(user.id) as uow:
                await LOCKED_OUT[operation](uow, project.id)

        async with superuser(database_url) as holder, holder.transaction():
            locked = await holder.fetchval(
                "SELECT id FROM projects WHERE id = $1 FOR UPDATE", project.id
            )
            assert locked == project.id
            with pytest.raises(Timeout) as raised:
                await asyncio.wait_for(locked_out_call(), HANG_GUARD_S)
            timed_out = raised.value
            assert type(timed_out) is Timeout
            assert timed_out.code == "timeout"
            assert str(timed_out) == (
                f"{RESOURCE_OF[operation]}: timed out waiting for the database;"
                " run it again"
            )
            assert isinstance(timed_out.__cause__, TimeoutError)  # command_timeout
            assert timed_out.sqlstate is None
            # Still locked out: the failed call left nothing waiting behind.
            assert await snapshot(database_url, project.id) == before
            # lock released here

        assert await snapshot(database_url, project.id) == before
        # The same single connection serves on, the lock wait cancelled.
        await assert_store_serves(impatient, user, project.id)
        async with impatient.unit_of_work(user.id) as uow:
            await LOCKED_OUT[operation](uow, project.id)
        assert (await snapshot(database_url, project.id)).current != before.current


# --------------------------------------------------------------------------
# an exhausted pool
# --------------------------------------------------------------------------


async def test_exhausted_pool_is_pool_exhausted_not_a_hang(
    app_url: str, auth_url: str, user: User
) -> None:
    """One caller holds every connection: the others' calls are refused
    after acquire_timeout as `pool_exhausted` (this process is at its
    capacity; the server is fine), not `unavailable`."""
    async with opened_store(app_url, auth_url, max_size=1, acquire_timeout=0.3) as tiny:
        project = await new_project(tiny, user)

        async def second_unit_of_work() -> None:
            async with tiny.unit_of_work(user.id) as uow:
                await uow.files.put(project.id, "second.txt", "never\n")

        async with tiny.unit_of_work(user.id) as holder:
            await holder.files.put(project.id, "first.txt", "first\n")
            with pytest.raises(PoolExhausted) as raised:
                await asyncio.wait_for(second_unit_of_work(), HANG_GUARD_S)
            assert raised.value.code == "pool_exhausted"
            assert raised.value.detail is not None
            assert "all 1 connections in use" in raised.value.detail
            # The auth layer has a pool of its own: tenant load does not
            # keep users from signing in.
            found = await asyncio.wait_for(tiny.users.get(user.id), HANG_GUARD_S)
            assert found.id == user.id
            # The holder's transaction is untouched by the refusals.
            assert (await holder.files.get(project.id, "first.txt")).version == 1

        async with tiny.unit_of_work(user.id) as uow:
            page = await uow.files.list(project.id)
        assert [entry.path for entry in page.items] == ["first.txt"]
        await second_unit_of_work()  # the connection is free again


async def test_a_server_that_accepts_no_new_connection_is_unavailable(
    app_url: str, user: User
) -> None:
    """A wait for a connection the server does not accept is an outage,
    not a full pool: the pool still had room, so the server is at fault."""
    async with (
        HoldingProxy(app_url) as proxy,
        opened_store(proxy.url(), min_size=1, max_size=2, acquire_timeout=0.5) as store,
    ):
        proxy.release_closes()  # closes pass straight through here
        project = await new_project(store, user)
        async with store.unit_of_work(user.id):  # the one open connection
            proxy.answer_new_connections = False
            with pytest.raises(Unavailable) as raised:
                await asyncio.wait_for(
                    assert_store_serves(store, user, project.id), HANG_GUARD_S
                )
        assert type(raised.value) is Unavailable
        assert raised.value.detail is not None
        assert "1 of 2 connections open" in raised.value.detail


# --------------------------------------------------------------------------
# no server at all
# --------------------------------------------------------------------------

NO_SERVER = "postgres://nobody@127.0.0.1:1/x"


async def test_open_on_a_stopped_server_is_unavailable() -> None:
    async def awaited() -> None:
        store = await Store.open(NO_SERVER)
        await store.close()  # pragma: no cover - open must fail

    async def entered() -> None:
        async with Store.open(NO_SERVER):
            pass  # pragma: no cover - open must fail

    with pytest.raises(Unavailable):
        await asyncio.wait_for(awaited(), HANG_GUARD_S)
    with pytest.raises(Unavailable):
        await asyncio.wait_for(entered(), HANG_GUARD_S)


async def test_open_with_an_unknown_role_or_database_is_a_repository_error(
    database_url: str,
) -> None:
    """Not Unavailable (the server answered), but no asyncpg exception either."""
    server = database_url.split("//", 1)[1].split("@", 1)[1].split("/", 1)[0]
    for dsn in (
        f"postgres://no_such_role_{uuid.uuid4().hex[:8]}@{server}/postgres?sslmode=disable",
        f"postgres://postgres@{server}/no_such_db_{uuid.uuid4().hex[:8]}?sslmode=disable",
    ):
        with pytest.raises(RepositoryError):
            await asyncio.wait_for(Store.open(dsn), HANG_GUARD_S)


# --------------------------------------------------------------------------
# the server's goodbye read before the end of the stream
# --------------------------------------------------------------------------


@pytest.mark.parametrize("operation", [*sorted(OPERATIONS), "commit"])
async def test_connection_closed_by_the_server_is_unavailable_before_the_eof_too(
    database_url: str, app_url: str, user: User, operation: str
) -> None:
    """The backend dies while its unit of work is idle; the client has read
    the server's FATAL message but (held by the proxy) not yet the end of
    the stream, as happens by chance under a server restart. The next call
    is still about a broken connection: Unavailable, nothing persisted, and
    the Store serves on."""
    async with (
        HoldingProxy(app_url) as proxy,
        opened_store(
            proxy.url(),
            max_size=1,
            min_size=1,
            server_settings={"application_name": VICTIM},
        ) as store,
    ):
        project = await seeded_project(store, user, with_state=True)
        before = await snapshot(database_url, project.id)

        async def kill_behind_the_proxy(uow: UnitOfWork) -> None:
            # From the outside: the unit of work's own path, nothing lent.
            pid = await backend_of(uow, database_url, "pg_stat_activity")
            await terminate_backend(database_url, pid)
            await asyncio.wait_for(proxy.upstream_closed.wait(), HANG_GUARD_S)
            # The FATAL message is in the client's socket buffer now; the
            # event loop reads it during this pause. The end of the stream
            # is held back until release_closes().
            await asyncio.sleep(0.2)

        outcome = await doomed_unit_of_work(
            store,
            user,
            project.id,
            break_it=kill_behind_the_proxy,
            operation=operation,
            catch=True,
        )
        proxy.release_closes()

        # What must hold whatever the error types: nothing persisted, the
        # Store serves on.
        assert await snapshot(database_url, project.id) == before
        await assert_store_serves(store, user, project.id)
        if operation != "commit":
            assert isinstance(outcome.call, Unavailable), (
                f"the call raised {outcome.call!r}"
            )
        assert isinstance(outcome.exit, Unavailable), (
            f"the block raised {outcome.exit!r}"
        )
