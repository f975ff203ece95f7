"""A unit of work used in a way it cannot serve: each is a clear
`UnitOfWorkMisuse`, refused before any SQL, never `unavailable` or a wait
until a timeout.

- A unit of work inside another of the same Store and user, in the same
  task, that writes a project the outer one wrote would wait for the
  outer's project lock while the outer waits for it: `NestedUnitOfWork`,
  at once.
- Calls on one unit of work that overlap (asyncio.gather): its connection
  runs one call at a time: `ConcurrentCalls`.
- A call outside the block: `UnitOfWorkMisuse`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from repositories import (
    ConcurrentCalls,
    NestedUnitOfWork,
    ProjectFile,
    RepositoryError,
    Store,
    UnitOfWork,
    UnitOfWorkMisuse,
    User,
)
from repositories._generated import projects as project_queries
from tests.support import Backend, new_project

HANG_GUARD_S = 30.0

Write = Callable[[UnitOfWork, uuid.UUID], Awaitable[object]]
# Every write that locks the project first (the concurrency rules).
WRITES: dict[str, Write] = {
    "files.put": lambda uow, p: uow.files.put(p, "inner.txt", "inner"),
    "files.move": lambda uow, p: uow.files.move(p, "outer.txt", "moved.txt"),
    "files.delete": lambda uow, p: uow.files.delete(p, "outer.txt"),
    "files.sync": lambda uow, p: uow.files.sync(p, {"inner.txt": "inner"}),
    "agent_states.save": lambda uow, p: uow.agent_states.save(p, {"inner": 1}),
    "agent_states.delete": lambda uow, p: uow.agent_states.delete(p),
    "projects.update": lambda uow, p: uow.projects.update(p, name="inner"),
    "projects.delete": lambda uow, p: uow.projects.delete(p),
}


@pytest.fixture
async def impatient(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    """A Store whose lock waits end soon: without the refusal, the inner
    unit of work would wait for the outer one until this timeout."""
    async with Store.open(app_url, auth_dsn=auth_url, command_timeout=3) as store:
        yield store


async def files_of(store: Store, user: User, project_id: uuid.UUID) -> list[str]:
    async with store.unit_of_work(user.id) as uow:
        return [entry.path for entry in (await uow.files.list(project_id)).items]


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_a_nested_write_of_a_project_the_outer_wrote_is_refused_at_once(
    impatient: Store, user: User, write: str
) -> None:
    store = impatient
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as outer:
        await outer.files.put(project.id, "outer.txt", "outer")  # the lock
        await outer.agent_states.save(project.id, {"outer": 1})
        async with store.unit_of_work(user.id) as inner:
            # Reads never wait: the inner one reads what was committed.
            assert (await inner.files.list(project.id)).items == []
            with pytest.raises(NestedUnitOfWork) as refused:
                await asyncio.wait_for(WRITES[write](inner, project.id), HANG_GUARD_S)
            # The inner unit of work goes on: another project of its own.
            elsewhere = await inner.projects.create("elsewhere")
            await inner.files.put(elsewhere.id, "inner.txt", "inner")
        # The outer unit of work goes on too, and commits.
        await outer.files.put(project.id, "after.txt", "after")
    error = refused.value
    assert type(error) is NestedUnitOfWork
    assert error.code == "nested_unit_of_work"
    assert isinstance(error, UnitOfWorkMisuse)
    assert "would wait for the project lock the outer one holds" in str(error)
    assert await files_of(store, user, project.id) == ["after.txt", "outer.txt"]
    assert await files_of(store, user, elsewhere.id) == ["inner.txt"]


async def test_a_nested_write_of_a_project_the_outer_only_read_goes_on(
    impatient: Store, user: User
) -> None:
    """The control: the outer unit of work holds no lock on a project it
    read, so the inner one writes it and commits first."""
    store = impatient
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as outer:
        await outer.files.list(project.id)
        async with store.unit_of_work(user.id) as inner:
            await inner.files.put(project.id, "inner.txt", "inner")
        # The outer one sees it now (read committed), and writes after it.
        assert (await outer.files.get(project.id, "inner.txt")).version == 1
        await outer.files.put(project.id, "outer.txt", "outer")
    assert await files_of(store, user, project.id) == ["inner.txt", "outer.txt"]


async def test_a_task_started_inside_the_block_waits_for_the_lock_its_turn(
    store: Store, user: User, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The control: another task is not suspended inside the outer unit of
    work, which goes on and ends; its write waits, then applies."""
    project = await new_project(store, user)
    backend = Backend()

    async def writer() -> int:
        async with store.unit_of_work(user.id) as uow:
            await backend.is_(uow)
            written = await uow.files.put(project.id, "a.txt", "task")
        return written.file.version

    async with store.unit_of_work(user.id) as outer:
        await outer.files.put(project.id, "a.txt", "outer")
        task = asyncio.create_task(writer())
        try:
            await backend.waits_on_a_lock(superuser)
        except BaseException:
            task.cancel()
            raise
    assert await asyncio.wait_for(task, HANG_GUARD_S) == 2


async def test_units_of_work_one_after_the_other_write_the_same_project(
    impatient: Store, user: User
) -> None:
    """The control: once the outer block has ended, its lock is gone."""
    store = impatient
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as first:
        await first.files.put(project.id, "a.txt", "a")
    async with store.unit_of_work(user.id) as second:
        await second.files.put(project.id, "b.txt", "b")
    assert await files_of(store, user, project.id) == ["a.txt", "b.txt"]


async def test_four_gathered_calls_on_one_unit_of_work(
    store: Store, user: User
) -> None:
    """One runs; the three others are refused at once, having done nothing,
    and the unit of work goes on."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "a")
        results = await asyncio.gather(
            *(uow.files.get(project.id, "a.txt") for _ in range(4)),
            return_exceptions=True,
        )
        written = await uow.files.put(project.id, "b.txt", "b")
    files = [r for r in results if isinstance(r, ProjectFile)]
    refused = [r for r in results if isinstance(r, ConcurrentCalls)]
    assert len(files) == 1, results
    assert len(refused) == 3, results
    for error in refused:
        assert error.code == "concurrent_calls"
        assert isinstance(error, UnitOfWorkMisuse)
        assert "another call of this unit of work is still running" in str(error)
    assert written.outcome == "created"
    assert await files_of(store, user, project.id) == ["a.txt", "b.txt"]


async def test_gathered_writes_that_leave_the_block_roll_back_cleanly(
    app_url: str, user: User
) -> None:
    """The refusal leaves the block while the first write still runs: the
    block waits for it, then rolls everything back; the only connection
    serves the next unit of work."""
    async with Store.open(app_url, min_size=1, max_size=1) as single:
        project = await new_project(single, user)
        with pytest.raises(ConcurrentCalls):
            async with single.unit_of_work(user.id) as uow:
                await asyncio.gather(
                    uow.files.sync(project.id, {f"{i}.txt": "x" for i in range(200)}),
                    uow.files.put(project.id, "second.txt", "second"),
                )
        assert await files_of(single, user, project.id) == []
        async with single.unit_of_work(user.id) as uow:
            await uow.files.put(project.id, "later.txt", "later")
        assert await files_of(single, user, project.id) == ["later.txt"]


async def test_a_block_left_cleanly_while_a_call_runs_rolls_back(
    store: Store, user: User
) -> None:
    """A task started in the block still runs its call at the block's end:
    the end waits for it, then rolls back (a write nobody awaited is not
    committed) and says so."""
    project = await new_project(store, user)

    async def leave_while_syncing() -> asyncio.Task[object]:
        async with store.unit_of_work(user.id) as uow:
            task: asyncio.Task[object] = asyncio.create_task(
                uow.files.sync(project.id, {"a.txt": "a"})
            )
            await asyncio.sleep(0)  # one pass: the task begins its call
        return task  # pragma: no cover - the block's end raises

    with pytest.raises(ConcurrentCalls):
        await leave_while_syncing()
    assert await files_of(store, user, project.id) == []


async def test_a_call_outside_the_block_is_misuse(store: Store, user: User) -> None:
    """Before, uow.run; after, any call (it used to reach a connection
    given back to the pool, and said `unavailable`)."""
    project = await new_project(store, user)
    uow = store.unit_of_work(user.id)
    with pytest.raises(UnitOfWorkMisuse) as before:
        await uow.run(project_queries.get_project, id=project.id, owner_id=user.id)
    async with uow:
        await uow.projects.get(project.id)
    with pytest.raises(UnitOfWorkMisuse) as after:
        await uow.files.list(project.id)
    with pytest.raises(UnitOfWorkMisuse) as after_run:
        await uow.run(project_queries.get_project, id=project.id, owner_id=user.id)
    for error in (before.value, after.value, after_run.value):
        assert type(error) is UnitOfWorkMisuse
        assert error.code == "unit_of_work_misuse"
        assert str(error) == "the unit of work is not open"


async def test_a_unit_of_work_entered_twice_is_misuse(store: Store, user: User) -> None:
    uow = store.unit_of_work(user.id)
    async with uow:
        with pytest.raises(UnitOfWorkMisuse, match="open already"):
            async with uow:
                pass  # pragma: no cover - refused on entry
        await uow.projects.list()


def test_misuse_is_a_repository_error() -> None:
    for cls in (UnitOfWorkMisuse, NestedUnitOfWork, ConcurrentCalls):
        assert issubclass(cls, RepositoryError)
    assert {UnitOfWorkMisuse.code, NestedUnitOfWork.code, ConcurrentCalls.code} == {
        "unit_of_work_misuse",
        "nested_unit_of_work",
        "concurrent_calls",
    }
