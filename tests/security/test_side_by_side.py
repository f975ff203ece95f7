"""Writers of one project side by side (docs/api.md, "Writers of one
project"): a unit of work that store.retrying may run again takes the
project lock shared for a write of one row and exclusive for a write of
the whole project. Every ordered pair of write kinds is interleaved here:
the first holds its unit of work open after its write, the second then
writes the same project.

- Two writes of one row each, of different rows, go side by side: the
  second commits while the first is still open.
- When either writes the whole project (delete, move, sync, the agent
  state's deletion, the project's update, a checkpoint, a restore, a
  prune), or both write the same row (the
  agent state), the second waits on a lock until the first commits, and
  then acts on what it wrote.

Whatever the pair, nothing fails but NotFound and Conflict, which the
kinds' own preconditions explain, and no version of a path is
acknowledged twice.

Ordering is explicit: a step waits until the other unit of work's backend
waits on a lock (tests.support), never for a while.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

import asyncpg
import pytest

from repositories import (
    AgentState,
    Conflict,
    FileWrite,
    NotFound,
    Project,
    ProjectFile,
    RepositoryError,
    RetentionPolicy,
    Store,
    UnitOfWork,
    User,
)
from tests.persistence.helpers import list_all
from tests.security.helpers import WORKERS
from tests.support import Backend, connection_of, new_project

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
HANG_GUARD_S = 30.0
Write = Callable[[UnitOfWork, Project, str], Awaitable[object]]


@dataclass(frozen=True)
class Kind:
    """A write, made by `who` ("first" or "second") on rows of its own
    unless it is the agent state's."""

    write: Write
    whole_project: bool = False
    agent_state: bool = False


# Every version and checkpoint a policy can let go.
PRUNE_ALL = RetentionPolicy(
    keep_versions=0,
    keep_for=timedelta(0),
    keep_checkpoints=1,
    keep_checkpoints_for=timedelta(0),
)


async def restore_the_seed(uow: UnitOfWork, project: Project) -> object:
    """Restore the checkpoint `seeded` made (the oldest)."""
    checkpoints = (await uow.checkpoints.list(project.id, limit=1000)).items
    return await uow.checkpoints.restore(project.id, checkpoints[-1].id)


KINDS: dict[str, Kind] = {
    "put": Kind(lambda uow, p, who: uow.files.put(p.id, f"{who}.txt", who)),
    "put at its version": Kind(
        lambda uow, p, who: uow.files.put(p.id, f"{who}.txt", who, expected_version=1)
    ),
    "create": Kind(
        lambda uow, p, who: uow.files.put(
            p.id, f"new-{who}.txt", who, expected_version=0
        )
    ),
    "save": Kind(
        lambda uow, p, who: uow.agent_states.save(p.id, {"by": who}),
        agent_state=True,
    ),
    "save at its version": Kind(
        lambda uow, p, who: uow.agent_states.save(
            p.id, {"by": who}, expected_version=1
        ),
        agent_state=True,
    ),
    "delete": Kind(
        lambda uow, p, who: uow.files.delete(p.id, f"{who}.txt"),
        whole_project=True,
    ),
    "move": Kind(
        lambda uow, p, who: uow.files.move(p.id, f"{who}.txt", f"{who}-moved.txt"),
        whole_project=True,
    ),
    "sync": Kind(
        lambda uow, p, who: uow.files.sync(
            p.id, {f"sync-{who}.txt": who}, delete_missing=False
        ),
        whole_project=True,
    ),
    "delete the agent state": Kind(
        lambda uow, p, who: uow.agent_states.delete(p.id),
        whole_project=True,
        agent_state=True,
    ),
    "update the project": Kind(
        lambda uow, p, who: uow.projects.update(p.id, description=who),
        whole_project=True,
    ),
    "checkpoint": Kind(
        lambda uow, p, who: uow.checkpoints.create(p.id, who),
        whole_project=True,
    ),
    "restore": Kind(
        lambda uow, p, who: restore_the_seed(uow, p),
        whole_project=True,
        agent_state=True,
    ),
    "prune": Kind(
        lambda uow, p, who: uow.retention.prune(p.id, PRUNE_ALL),
        whole_project=True,
    ),
}
PAIRS = list(itertools.product(KINDS, repeat=2))


def waits(first: Kind, second: Kind) -> bool:
    return (
        first.whole_project
        or second.whole_project
        or (first.agent_state and second.agent_state)
    )


@dataclass
class Acknowledged:
    """Versions of each path that a committed write reported."""

    versions: dict[str, list[int]] = field(default_factory=dict)

    def add(self, result: object) -> None:
        file = result.file if isinstance(result, FileWrite) else result
        if isinstance(file, ProjectFile):
            self.versions.setdefault(file.path, []).append(file.version)
        if isinstance(result, AgentState):
            self.versions.setdefault("<agent state>", []).append(result.version)

    def repeated(self) -> dict[str, list[int]]:
        return {
            path: seen
            for path, seen in self.versions.items()
            if len(set(seen)) < len(seen)
        }


async def seeded(store: Store, user: User) -> Project:
    """A project whose files "first.txt" and "second.txt" and whose agent
    state are at version 1, and a checkpoint of that."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for who in ("first", "second"):
            await uow.files.put(project.id, f"{who}.txt", "seed")
        await uow.agent_states.save(project.id, {"by": "seed"})
        await uow.checkpoints.create(project.id, "seed")
    return project


async def outcome(call: Awaitable[object]) -> object:
    """What a write returned; NotFound and Conflict count as returned."""
    try:
        return await call
    except (NotFound, Conflict) as refused:
        return refused


@pytest.mark.parametrize(("first_kind", "second_kind"), PAIRS)
async def test_each_pair_of_writes(
    store: Store, user: User, admin: Admin, first_kind: str, second_kind: str
) -> None:
    first, second = KINDS[first_kind], KINDS[second_kind]
    project = await seeded(store, user)
    acknowledged = Acknowledged()
    first_wrote = asyncio.Event()
    first_may_commit = asyncio.Event()
    second_backend = Backend()

    async def first_work(uow: UnitOfWork) -> object:
        result = await outcome(first.write(uow, project, "first"))
        first_wrote.set()
        await first_may_commit.wait()
        return result

    async def second_work(uow: UnitOfWork) -> object:
        await second_backend.is_(uow)
        return await outcome(second.write(uow, project, "second"))

    async def second_writer() -> object:
        await first_wrote.wait()
        return await store.retrying(user.id, second_work)

    holding = asyncio.create_task(store.retrying(user.id, first_work))
    writing = asyncio.create_task(second_writer())
    try:
        await asyncio.wait_for(first_wrote.wait(), HANG_GUARD_S)
        if waits(first, second):
            await second_backend.waits_on_a_lock(admin)
            assert not writing.done()
        else:
            # Side by side: the second commits while the first is open.
            await asyncio.wait_for(asyncio.shield(writing), HANG_GUARD_S)
        first_may_commit.set()
        results = await asyncio.wait_for(asyncio.gather(holding, writing), HANG_GUARD_S)
    finally:
        first_may_commit.set()
        holding.cancel()
        writing.cancel()

    for result in results:
        assert not isinstance(result, RepositoryError) or isinstance(
            result, (NotFound, Conflict)
        ), result
        acknowledged.add(result)
    async with store.unit_of_work(user.id) as uow:
        for entry in await list_all(uow, project.id):
            acknowledged.versions.setdefault(entry.path, [])
            # What is stored is at least what was acknowledged.
            assert entry.version >= max(acknowledged.versions[entry.path], default=1)
    assert acknowledged.repeated() == {}


async def test_a_put_of_unchanged_content_takes_no_lock_and_writes_nothing(
    store: Store, user: User, admin: Admin
) -> None:
    """While another unit of work holds the project exclusively, a put of
    the content a file holds returns at once: its transaction has no id
    (it wrote nothing) and holds no advisory lock."""
    project = await seeded(store, user)
    held = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with store.unit_of_work(user.id) as uow:
            await uow.files.sync(project.id, {"other.txt": "x"}, delete_missing=False)
            held.set()
            await release.wait()

    holding = asyncio.create_task(holder())
    try:
        await asyncio.wait_for(held.wait(), HANG_GUARD_S)
        async with store.unit_of_work(user.id) as uow:
            written = await asyncio.wait_for(
                uow.files.put(project.id, "first.txt", "seed"), HANG_GUARD_S
            )
            pid = await connection_of(uow).fetchval("SELECT pg_backend_pid()")
            xid = await admin.fetchval(
                "SELECT backend_xid FROM pg_stat_activity WHERE pid = $1", pid
            )
            advisory = await admin.fetchval(
                "SELECT count(*) FROM pg_locks"
                " WHERE pid = $1 AND locktype = 'advisory'",
                pid,
            )
        assert written.outcome == "unchanged"
        assert written.file.version == 1
        assert xid is None
        assert advisory == 0
        assert not holding.done()
    finally:
        release.set()
        await asyncio.wait_for(holding, HANG_GUARD_S)


# --------------------------------------------------------------------------
# a mixed load of side-by-side writers
# --------------------------------------------------------------------------

UNITS_PER_WORKER = 40
PATHS = [f"p{i}.txt" for i in range(6)] + ["d/a.txt", "d/b.txt"]


@dataclass
class Tally:
    saves: dict[uuid.UUID, int] = field(default_factory=dict)
    contents: set[str] = field(default_factory=set)
    acknowledged: dict[uuid.UUID, Acknowledged] = field(default_factory=dict)
    attempts: int = 0
    units: int = 0
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
    plan = [
        (rng.choice(["put", "put", "put", "sync", "delete", "move", "save"]), n)
        for n in range(rng.randint(1, 3))
    ]
    choices = [
        (rng.choice(PATHS), rng.sample(PATHS, 3), rng.sample(PATHS, 2), rng.random())
        for _ in plan
    ]

    async def work(uow: UnitOfWork) -> tuple[int, set[str], list[object]]:
        tally.attempts += 1
        saves, written, results = 0, set[str](), list[object]()
        for (kind, n), (path, sample, pair, chance) in zip(plan, choices, strict=True):
            content = f"{tag}-{n}"
            try:
                if kind == "put":
                    results.append(await uow.files.put(project.id, path, content))
                    written.add(content)
                elif kind == "sync":
                    tree = {p: f"{content}-{p}" for p in sample}
                    await uow.files.sync(project.id, tree, delete_missing=chance < 0.3)
                    written.update(tree.values())
                elif kind == "delete":
                    await uow.files.delete(project.id, path)
                elif kind == "move":
                    results.append(await uow.files.move(project.id, *pair))
                else:
                    results.append(
                        await uow.agent_states.save(project.id, {"by": content})
                    )
                    saves += 1
            except (NotFound, Conflict):
                pass  # a missing path, a taken one: the unit of work goes on
        return saves, written, results

    try:
        saves, written, results = await store.retrying(user.id, work)
    except RepositoryError as error:
        tally.unexpected.append(error)
        return
    tally.units += 1
    tally.saves[project.id] = tally.saves.get(project.id, 0) + saves
    tally.contents.update(written)
    for result in results:
        tally.acknowledged.setdefault(project.id, Acknowledged()).add(result)


async def test_mixed_writers_side_by_side_lose_nothing(
    wide_store: Store, user: User
) -> None:
    """The lock-order suite's mixed load, run through store.retrying: no
    error reaches a caller, every acknowledged save counts, every stored
    content is one a committed unit of work wrote, and no version of a path
    is acknowledged twice."""
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

    assert tally.unexpected == []
    assert tally.units == WORKERS * UNITS_PER_WORKER
    async with wide_store.unit_of_work(user.id) as uow:
        for project in projects:
            saves = tally.saves.get(project.id, 0)
            if saves:
                state = await uow.agent_states.get(project.id)
                assert state.version == saves
            acknowledged = tally.acknowledged.get(project.id, Acknowledged())
            assert acknowledged.repeated() == {}
            for entry in await list_all(uow, project.id):
                stored = await uow.files.get(project.id, entry.path)
                assert stored.content in tally.contents
