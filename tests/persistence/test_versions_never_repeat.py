"""A version token names one content of one path, for good.

A client keeps a file's or agent state's version (an HTTP ETag) and sends it
back as `expected_version` (If-Match). If versions restarted at 1 after a
delete and re-create, a token kept from before the delete would match the
new file and overwrite content its holder never saw. Each project keeps a
floor that every write taking a file off a path (delete, move, a sync that
drops it) raises, and creates start above it.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import asyncpg
import pytest

from repositories import NotFound, PathTaken, Store, User, VersionConflict
from tests.support import Backend, new_project

HANG_GUARD_S = 60.0


async def test_a_token_kept_from_before_a_delete_is_refused(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "notes.md", "v1")
        kept = (await uow.files.put(project.id, "notes.md", "v2")).file.version
    async with store.unit_of_work(user.id) as uow:
        await uow.files.delete(project.id, "notes.md")
        recreated = await uow.files.put(
            project.id, "notes.md", "someone else's", expected_version=0
        )

    assert recreated.file.version > kept
    async with store.unit_of_work(user.id) as uow:
        with pytest.raises(VersionConflict) as refused:
            await uow.files.put(project.id, "notes.md", "stale", expected_version=kept)
        assert refused.value.current_version == recreated.file.version
        with pytest.raises(VersionConflict):
            await uow.files.delete(project.id, "notes.md", expected_version=kept)
        assert (await uow.files.get(project.id, "notes.md")).content == (
            "someone else's"
        )


async def test_a_put_without_expected_version_recreates_above_the_floor(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for content in ("1", "2", "3"):
            await uow.files.put(project.id, "a.txt", content)
        await uow.files.delete(project.id, "a.txt")
        again = await uow.files.put(project.id, "a.txt", "4")
    assert (again.outcome, again.file.version) == ("created", 4)


async def test_a_move_raises_the_floor_of_the_path_it_leaves(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "1")
        await uow.files.put(project.id, "a.txt", "2")  # a.txt was at 2
        moved = await uow.files.move(project.id, "a.txt", "b.txt")
        back = await uow.files.put(project.id, "a.txt", "new", expected_version=0)
    assert moved.version == 3
    assert back.file.version == 3  # above a.txt's 1 and 2


async def test_a_move_onto_a_path_that_had_a_file_lands_above_it(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        for content in ("1", "2", "3", "4", "5"):
            await uow.files.put(project.id, "target.txt", content)
        await uow.files.delete(project.id, "target.txt")  # it was at 5
        source = await uow.files.put(project.id, "source.txt", "s")
        moved = await uow.files.move(project.id, "source.txt", "target.txt")
    assert source.file.version == 6  # created above the floor
    assert moved.version == 7


async def test_a_sync_that_drops_a_path_raises_the_floor(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.sync(project.id, {"a.txt": "1", "b.txt": "1"})
        await uow.files.sync(project.id, {"a.txt": "2", "b.txt": "1"})  # a at 2
        dropped = await uow.files.sync(project.id, {"b.txt": "1"})
        back = await uow.files.sync(project.id, {"a.txt": "again", "b.txt": "1"})
        a = await uow.files.stat(project.id, "a.txt")
        b = await uow.files.stat(project.id, "b.txt")
    assert (dropped.deleted, back.created) == (1, 1)
    assert a.version == 3
    assert b.version == 1  # files that stayed keep counting from their own


async def test_an_agent_state_token_kept_from_before_a_delete_is_refused(
    store: Store, user: User
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        kept = (await uow.agent_states.save(project.id, {"n": 1})).version
        await uow.agent_states.delete(project.id)
        recreated = await uow.agent_states.save(project.id, {"n": 2})
        with pytest.raises(VersionConflict) as refused:
            await uow.agent_states.save(project.id, {"n": 3}, expected_version=kept)
    assert recreated.version > kept
    assert refused.value.current_version == recreated.version


async def test_floors_are_per_project(store: Store, user: User) -> None:
    first = await new_project(store, user, "first")
    second = await new_project(store, user, "second")
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(first.id, "a.txt", "1")
        await uow.files.put(first.id, "a.txt", "2")
        await uow.files.delete(first.id, "a.txt")
        elsewhere = await uow.files.put(second.id, "a.txt", "x")
    assert elsewhere.file.version == 1


async def test_a_create_that_waited_for_a_delete_sees_the_raised_floor(
    store: Store, user: User, superuser: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The create's statement began before the delete committed: the floor
    it reads must be the one the delete left, not its snapshot's."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a.txt", "1")
        await uow.files.put(project.id, "a.txt", "2")
    backend = Backend()

    async def creator() -> int:
        async with store.unit_of_work(user.id) as uow:
            await backend.is_(uow)
            made = await uow.files.put(project.id, "a.txt", "3", expected_version=0)
            return made.file.version

    async with store.unit_of_work(user.id) as deleter:
        await deleter.files.delete(project.id, "a.txt")  # not committed yet
        task = asyncio.create_task(creator())
        try:
            await backend.waits_on_a_lock(superuser)
        except BaseException:
            task.cancel()
            raise
    assert await asyncio.wait_for(task, HANG_GUARD_S) == 3


async def test_no_path_ever_sees_a_version_twice(store: Store, user: User) -> None:
    """A random walk of puts, deletes, moves and syncs over a few paths:
    every version a path shows is above every version it showed before."""
    project = await new_project(store, user)
    paths = ["a", "b", "c", "d/e"]
    seen: dict[str, int] = defaultdict(int)  # highest version each path showed
    walk = random.Random(20261204)

    def shown(path: str, version: int) -> None:
        assert version > seen[path], (path, version, seen[path])
        seen[path] = version

    async with store.unit_of_work(user.id) as uow:
        for step in range(300):
            path, other = walk.sample(paths, 2)
            move = walk.randrange(4)
            try:
                if move == 0:
                    written = await uow.files.put(project.id, path, f"{step}")
                    shown(path, written.file.version)
                elif move == 1:
                    await uow.files.delete(project.id, path)
                elif move == 2:
                    moved = await uow.files.move(project.id, path, other)
                    shown(other, moved.version)
                else:
                    kept = {p: f"{step}" for p in walk.sample(paths, 2)}
                    await uow.files.sync(project.id, kept)
                    for entry in (await uow.files.list(project.id)).items:
                        if entry.version != seen[entry.path]:
                            shown(entry.path, entry.version)
            except (NotFound, PathTaken):
                pass  # a move onto a taken path, a delete of a free one
    assert len(seen) == len(paths)
