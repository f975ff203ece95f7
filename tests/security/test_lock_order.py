"""Writers of one project cannot deadlock each other.

A unit of work opened with store.unit_of_work takes the project lock
exclusively at its first write of the project (docs/api.md, "Writers of one
project"), and only then touches a row; a unit of work that holds the
project lock therefore never waits for a row another unit of work holds.
Once a sync held the project row (FOR UPDATE) while a put of a new path, its
row already inserted, waited for that lock in its foreign-key check: the
sync's next write of that path waited for the put, and PostgreSQL aborted
one of them (40P01). Writers side by side (store.retrying) are in
test_side_by_side.py.

A deadlock the caller's own order makes (two units of work, each writing
two projects in the opposite order) stays possible; it is `Contention`, the
error that says "run the unit of work again", not a plain RepositoryError.

Ordering is explicit: a step waits until the other unit of work's backend
waits on a lock (tests.support.wait_until_waiting_on_a_lock, which on Citus
looks where the lock is: on a worker), never for a while.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import asyncpg

from repositories import (
    Conflict,
    Contention,
    NotFound,
    Project,
    RepositoryError,
    Store,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import list_all
from tests.security.helpers import WORKERS
from tests.support import Backend, new_project

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"

HANG_GUARD_S = 60.0
UNITS_PER_WORKER = 40
PATHS = [f"p{i}.txt" for i in range(6)] + ["d/a.txt", "d/b.txt"]


def sqlstate(error: BaseException) -> str | None:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None)


async def test_a_put_waiting_on_a_sync_does_not_deadlock(
    store: Store, user: User, admin: Admin
) -> None:
    project = await new_project(store, user)
    sync_done = asyncio.Event()
    finish_sync = asyncio.Event()

    async def syncing() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.files.sync(project.id, {"a.txt": "1"})
            sync_done.set()
            await finish_sync.wait()
            # The put below waits now; this sync writes the path it puts.
            await uow.files.sync(project.id, {"a.txt": "1", "new.txt": "sync"})

    put_backend = Backend()

    async def putting() -> str:
        await sync_done.wait()
        async with store.unit_of_work(user.id) as uow:
            await put_backend.is_(uow)
            written = await uow.files.put(project.id, "new.txt", "put")
        return written.outcome

    sync_task = asyncio.create_task(syncing())
    put_task = asyncio.create_task(putting())
    try:
        await asyncio.wait_for(sync_done.wait(), HANG_GUARD_S)
        await put_backend.waits_on_a_lock(admin)
        finish_sync.set()
        results = await asyncio.wait_for(
            asyncio.gather(sync_task, put_task, return_exceptions=True), HANG_GUARD_S
        )
    finally:
        sync_task.cancel()
        put_task.cancel()

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], [(e, sqlstate(e)) for e in errors]
    # The put waited for the sync, then wrote over it.
    assert results[1] == "updated"
    async with store.unit_of_work(user.id) as uow:
        stored = await uow.files.get(project.id, "new.txt")
        assert (stored.content, stored.version) == ("put", 2)
        assert (await uow.files.get(project.id, "a.txt")).content == "1"


async def test_opposite_project_order_is_contention(
    store: Store, user: User, admin: Admin
) -> None:
    """Unit of work 1 writes A then B, unit of work 2 writes B then A: one of
    them must give way, and learns it as Contention; the other commits."""
    first = await new_project(store, user, "A")
    second = await new_project(store, user, "B")
    both_started = asyncio.Barrier(2)
    go_on = asyncio.Event()
    first_backend = Backend()

    async def writer(mine: Project, theirs: Project, blocks_first: bool) -> str:
        async with store.unit_of_work(user.id) as uow:
            if blocks_first:
                await first_backend.is_(uow)
            await uow.files.put(mine.id, "x.txt", f"from {mine.name}")
            await both_started.wait()
            if not blocks_first:
                await go_on.wait()
            await uow.files.put(theirs.id, "x.txt", f"from {mine.name}")
        return mine.name

    one = asyncio.create_task(writer(first, second, blocks_first=True))
    two = asyncio.create_task(writer(second, first, blocks_first=False))
    try:
        await first_backend.waits_on_a_lock(admin)  # it waits for the second
        go_on.set()  # the second now waits for the first
        results = await asyncio.wait_for(
            asyncio.gather(one, two, return_exceptions=True), HANG_GUARD_S
        )
    finally:
        one.cancel()
        two.cancel()

    lost = [r for r in results if isinstance(r, BaseException)]
    won = [r for r in results if isinstance(r, str)]
    assert len(lost) == 1, results
    assert len(won) == 1, results
    assert isinstance(lost[0], Contention), (lost[0], sqlstate(lost[0]))
    assert sqlstate(lost[0]) == "40P01"
    # The winner's two writes landed; none of the loser's.
    async with store.unit_of_work(user.id) as uow:
        for project in (first, second):
            stored = await uow.files.get(project.id, "x.txt")
            assert stored.content == f"from {won[0]}"


# --------------------------------------------------------------------------
# a writer that waited for the project lock sees what the holder wrote
# --------------------------------------------------------------------------

Step = Callable[[UnitOfWork, Project], Awaitable[object]]


@dataclass(frozen=True)
class AfterWait:
    """`holder` writes and keeps its unit of work open; `waiter` then waits
    for the project lock; once the holder commits, `waiter` must act on
    what the holder wrote, though its statement's snapshot predates it."""

    holder: Step
    waiter: Step
    check: Callable[[object], None]


def is_version(version: int) -> Callable[[object], None]:
    def check(result: object) -> None:
        written = getattr(result, "file", result)  # a FileWrite holds its file
        assert getattr(written, "version", None) == version, result

    return check


def is_none(result: object) -> None:
    assert result is None, result


def is_conflict(found: int) -> Callable[[object], None]:
    def check(result: object) -> None:
        assert isinstance(result, Conflict), result
        assert result.current_version == found

    return check


def put(path: str, content: str, **kwargs: Any) -> Step:
    return lambda uow, project: uow.files.put(project.id, path, content, **kwargs)


AFTER_WAIT: dict[str, AfterWait] = {
    "put at its version": AfterWait(
        put("a.txt", "holder"),
        put("a.txt", "waiter", expected_version=1),
        is_version(2),
    ),
    "put without version": AfterWait(
        put("a.txt", "holder"), put("a.txt", "waiter"), is_version(2)
    ),
    "put of the same content": AfterWait(
        put("a.txt", "same"), put("a.txt", "same"), is_version(1)
    ),
    "create only": AfterWait(
        put("a.txt", "holder"),
        put("a.txt", "waiter", expected_version=0),
        is_conflict(1),
    ),
    "delete": AfterWait(
        put("a.txt", "holder"),
        lambda uow, project: uow.files.delete(project.id, "a.txt"),
        is_none,
    ),
    "delete at its version": AfterWait(
        put("a.txt", "holder"),
        lambda uow, project: uow.files.delete(project.id, "a.txt", expected_version=1),
        is_none,
    ),
    "move": AfterWait(
        put("a.txt", "holder"),
        lambda uow, project: uow.files.move(project.id, "a.txt", "b.txt"),
        is_version(2),
    ),
    "move onto a new file": AfterWait(
        put("taken.txt", "holder"),
        lambda uow, project: uow.files.move(project.id, "seed.txt", "taken.txt"),
        is_conflict(1),
    ),
    "save at its version": AfterWait(
        lambda uow, project: uow.agent_states.save(project.id, {"by": "holder"}),
        lambda uow, project: uow.agent_states.save(
            project.id, {"by": "waiter"}, expected_version=1
        ),
        is_version(2),
    ),
    "delete of the agent state": AfterWait(
        lambda uow, project: uow.agent_states.save(project.id, {"by": "holder"}),
        lambda uow, project: uow.agent_states.delete(project.id),
        is_none,
    ),
}


async def after_wait(
    store: Store, user: User, admin: Admin, steps: AfterWait
) -> object:
    """What the waiter's call returned (a Conflict counts as returned)."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "seed.txt", "seed")
    held = asyncio.Event()
    release = asyncio.Event()
    waiter_backend = Backend()

    async def holder() -> None:
        async with store.unit_of_work(user.id) as uow:
            await steps.holder(uow, project)
            held.set()
            await release.wait()

    async def waiter() -> object:
        await held.wait()
        async with store.unit_of_work(user.id) as uow:
            await waiter_backend.is_(uow)
            try:
                return await steps.waiter(uow, project)
            except Conflict as conflict:
                return conflict

    holding = asyncio.create_task(holder())
    waiting = asyncio.create_task(waiter())
    try:
        await asyncio.wait_for(held.wait(), HANG_GUARD_S)
        await waiter_backend.waits_on_a_lock(admin)
        release.set()
        await asyncio.wait_for(holding, HANG_GUARD_S)
        return await asyncio.wait_for(waiting, HANG_GUARD_S)
    finally:
        holding.cancel()
        waiting.cancel()


async def test_a_writer_that_waited_acts_on_what_the_holder_wrote(
    store: Store, user: User, admin: Admin
) -> None:
    """Every write, one case each. Some (an update or a delete of a row the
    waiter's snapshot does not hold) need the repository's second run; the
    upserts see the holder's row by themselves."""
    failed: dict[str, str] = {}
    for case, steps in AFTER_WAIT.items():
        try:
            steps.check(await after_wait(store, user, admin, steps))
        except AssertionError as error:
            failed[case] = str(error).partition("\n")[0]
    assert failed == {}


# --------------------------------------------------------------------------
# a mixed load on one project
# --------------------------------------------------------------------------


@dataclass
class Tally:
    """What the workers saw: committed saves per project, every content
    written, and every error that was not NotFound or Conflict."""

    saves: dict[str, int] = field(default_factory=dict)
    contents: set[str] = field(default_factory=set)
    unexpected: list[BaseException] = field(default_factory=list)


async def one_unit_of_work(
    store: Store,
    user: User,
    projects: list[Project],
    rng: random.Random,
    tag: str,
    tally: Tally,
) -> None:
    project = rng.choice(projects)
    saves = 0
    written: set[str] = set()

    async def step(uow: UnitOfWork, n: int) -> None:
        nonlocal saves
        kind = rng.choice(
            ["put", "put", "sync", "delete", "move", "save", "checkpoint"]
        )
        content = f"{tag}-{n}"
        try:
            if kind == "put":
                await uow.files.put(project.id, rng.choice(PATHS), content)
                written.add(content)
            elif kind == "sync":
                tree = {p: f"{content}-{p}" for p in rng.sample(PATHS, 3)}
                await uow.files.sync(
                    project.id, tree, delete_missing=rng.random() < 0.3
                )
                written.update(tree.values())
            elif kind == "delete":
                await uow.files.delete(project.id, rng.choice(PATHS))
            elif kind == "move":
                source, target = rng.sample(PATHS, 2)
                await uow.files.move(project.id, source, target)
            elif kind == "checkpoint":
                # Takes the project lock in the same order as every write.
                await uow.checkpoints.create(project.id, content)
            else:
                await uow.agent_states.save(project.id, {"by": content})
                saves += 1
        except (NotFound, Conflict):
            pass  # a missing path, a taken one: the unit of work goes on

    try:
        async with store.unit_of_work(user.id) as uow:
            for n in range(rng.randint(1, 3)):
                await step(uow, n)
    except RepositoryError as error:
        tally.unexpected.append(error)
        return
    tally.saves[project.name] = tally.saves.get(project.name, 0) + saves
    tally.contents.update(written)


async def test_mixed_writers_of_one_project_never_deadlock(
    wide_store: Store, user: User
) -> None:
    projects = [
        await new_project(wide_store, user, "one"),
        await new_project(wide_store, user, "two"),
    ]
    tally = Tally()

    async def worker(number: int) -> None:
        rng = random.Random(number)
        for unit in range(UNITS_PER_WORKER):
            await one_unit_of_work(
                wide_store, user, projects, rng, f"w{number}u{unit}", tally
            )

    await asyncio.wait_for(
        asyncio.gather(*(worker(n) for n in range(WORKERS))), HANG_GUARD_S * 5
    )

    deadlocks = [e for e in tally.unexpected if sqlstate(e) == "40P01"]
    assert deadlocks == [], f"{len(deadlocks)} deadlocks"
    assert tally.unexpected == []
    async with wide_store.unit_of_work(user.id) as uow:
        for project in projects:
            saves = tally.saves.get(project.name, 0)
            if saves:
                state = await uow.agent_states.get(project.id)
                assert state.version == saves
            for entry in await list_all(uow, project.id):
                stored = await uow.files.get(project.id, entry.path)
                assert isinstance(stored.content, str)  # every write was text
                data = stored.content.encode()
                assert stored.sha256 == hashlib.sha256(data).hexdigest()
                assert stored.size_bytes == len(data)
                assert stored.content in tally.contents
