"""Restores, checkpoints and prunes while other writers write the same
project: no acknowledged write is lost (it is in the tree afterwards, or a
later version of its path replaced it, and its version still names its
content), no version of a path is given twice, and a prune never takes
content a version still needs.

Orderings are made explicit: a step waits until the other unit of work's
server process waits on a lock (tests.support.Backend), never for a while.
The mixed loads assert only what every order allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

import asyncpg
import pytest

from repositories import (
    Checkpoint,
    Conflict,
    FileWrite,
    NotFound,
    RepositoryError,
    RetentionPolicy,
    Store,
    UnitOfWork,
    User,
    VersionConflict,
)
from tests.persistence.helpers import content_bytes, history_all, snapshot
from tests.support import Backend, new_project, new_user

from .helpers import HANG_GUARD_S, opened_store

Admin: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
Content = str | bytes
WRITERS = 8


@pytest.fixture(scope="module")
async def wide_store(app_url: str, auth_url: str) -> AsyncIterator[Store]:
    async with opened_store(
        app_url, auth_url, min_size=WRITERS + 2, max_size=WRITERS + 2
    ) as opened:
        yield opened


def sha(content: Content) -> str:
    return hashlib.sha256(content_bytes(content)).hexdigest()


async def tree_of(
    store: Store, user: User, project_id: uuid.UUID
) -> dict[str, Content]:
    return {p: f.content for p, f in (await snapshot(store, user, project_id)).items()}


# ---------------------------------------------------------------------------
# one writer and one restore (or checkpoint), in each order
# ---------------------------------------------------------------------------

# A unit of work opened directly takes the project lock exclusively at its
# first write; a first attempt of store.retrying takes it shared for a put.
WRITER_MODES = ["plain", "side by side"]


class HeldPut:
    """A put of `content` at `path` whose unit of work stays open, after
    the put, until `release()`; `written` is set once the put has run."""

    def __init__(
        self, store: Store, user: User, project_id: uuid.UUID, path: str, content: str
    ) -> None:
        self.written = asyncio.Event()
        self._may_commit = asyncio.Event()
        self._store, self._user = store, user
        self._project_id, self._path, self._content = project_id, path, content

    async def _work(self, uow: UnitOfWork) -> FileWrite:
        done = await uow.files.put(self._project_id, self._path, self._content)
        self.written.set()
        await self._may_commit.wait()
        return done

    async def _plain(self) -> FileWrite:
        async with self._store.unit_of_work(self._user.id) as uow:
            return await self._work(uow)

    def start(self, mode: str) -> asyncio.Task[FileWrite]:
        if mode == "plain":
            return asyncio.create_task(self._plain())
        return asyncio.create_task(self._store.retrying(self._user.id, self._work))

    def release(self) -> None:
        self._may_commit.set()


async def restore_as(
    store: Store, user: User, checkpoint: Checkpoint, backend: Backend, path: str
) -> int:
    """Restore in a unit of work of its own; the version `path` has then."""
    async with store.unit_of_work(user.id) as uow:
        await backend.is_(uow)
        await uow.checkpoints.restore(checkpoint.project_id, checkpoint.id)
        return (await uow.files.stat(checkpoint.project_id, path)).version


@pytest.mark.parametrize("writer_mode", WRITER_MODES)
async def test_a_restore_waits_for_a_writer_and_writes_above_its_version(
    store: Store, user: User, superuser: Admin, writer_mode: str
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", "checkpointed")
        checkpoint = await uow.checkpoints.create(project.id)
        await uow.files.put(project.id, "a", "v2")
    held = HeldPut(store, user, project.id, "a", "by the writer")
    backend = Backend()
    writing = held.start(writer_mode)
    restoring: asyncio.Task[int] | None = None
    try:
        await asyncio.wait_for(held.written.wait(), HANG_GUARD_S)
        restoring = asyncio.create_task(
            restore_as(store, user, checkpoint, backend, "a")
        )
        await backend.waits_on_a_lock(superuser)
        assert not restoring.done()
        held.release()
        acknowledged = await asyncio.wait_for(writing, HANG_GUARD_S)
        restored_version = await asyncio.wait_for(restoring, HANG_GUARD_S)
    finally:
        held.release()
        writing.cancel()
        if restoring is not None:
            restoring.cancel()
    # The restore came after the write: it replaced it, one version above.
    assert acknowledged.file.version == 3
    assert restored_version == acknowledged.file.version + 1
    assert await tree_of(store, user, project.id) == {"a": "checkpointed"}
    async with store.unit_of_work(user.id) as uow:
        kept = await uow.files.get(project.id, "a", version=acknowledged.file.version)
    assert kept.content == "by the writer"


async def test_a_writer_waits_for_a_restore_and_writes_after_it(
    store: Store, user: User, superuser: Admin
) -> None:
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", "checkpointed")
        checkpoint = await uow.checkpoints.create(project.id)
        before = await uow.files.put(project.id, "a", "v2")
    restored = asyncio.Event()
    may_commit = asyncio.Event()
    backend = Backend()

    async def restorer() -> int:
        async with store.unit_of_work(user.id) as uow:
            await uow.checkpoints.restore(project.id, checkpoint.id)
            version = (await uow.files.stat(project.id, "a")).version
            restored.set()
            await may_commit.wait()
            return version

    async def blind(uow: UnitOfWork) -> FileWrite:
        await backend.is_(uow)
        return await uow.files.put(project.id, "a", "after the restore")

    async def stale(uow: UnitOfWork) -> FileWrite:
        return await uow.files.put(
            project.id, "a", "stale", expected_version=before.file.version
        )

    restoring = asyncio.create_task(restorer())
    writing: asyncio.Task[FileWrite] | None = None
    try:
        await asyncio.wait_for(restored.wait(), HANG_GUARD_S)
        writing = asyncio.create_task(store.retrying(user.id, blind))
        await backend.waits_on_a_lock(superuser)
        assert not writing.done()
        may_commit.set()
        restored_version = await asyncio.wait_for(restoring, HANG_GUARD_S)
        after = await asyncio.wait_for(writing, HANG_GUARD_S)
    finally:
        may_commit.set()
        restoring.cancel()
        if writing is not None:
            writing.cancel()
    assert restored_version == before.file.version + 1
    assert after.file.version == restored_version + 1
    assert await tree_of(store, user, project.id) == {"a": "after the restore"}
    with pytest.raises(VersionConflict):
        await store.retrying(user.id, stale)


async def checkpoint_as(
    store: Store, user: User, project_id: uuid.UUID, backend: Backend
) -> Checkpoint:
    async with store.unit_of_work(user.id) as uow:
        await backend.is_(uow)
        return await uow.checkpoints.create(project_id)


@pytest.mark.parametrize("writer_mode", WRITER_MODES)
async def test_a_checkpoint_never_holds_a_write_a_reader_did_not_see_after_it(
    store: Store, user: User, superuser: Admin, writer_mode: str
) -> None:
    """A put still open while a checkpoint is made: either the checkpoint
    waits for it (and holds it), or it is made without it, and then the put
    must not appear in it once committed: a reader after the checkpoint saw
    the tree without it."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", "old")
    held = HeldPut(store, user, project.id, "a", "new")
    backend = Backend()
    writing = held.start(writer_mode)
    making: asyncio.Task[Checkpoint] | None = None
    waiting: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(held.written.wait(), HANG_GUARD_S)
        making = asyncio.create_task(checkpoint_as(store, user, project.id, backend))
        waiting = asyncio.create_task(backend.waits_on_a_lock(superuser))
        done, _ = await asyncio.wait(
            {making, waiting}, timeout=HANG_GUARD_S, return_when=asyncio.FIRST_COMPLETED
        )
        assert done, "the checkpoint neither finished nor waited"
        waited = making not in done
        if not waited:
            # A reader after the checkpoint: the put is not committed yet.
            assert await tree_of(store, user, project.id) == {"a": "old"}
        held.release()
        await asyncio.wait_for(writing, HANG_GUARD_S)
        made = await asyncio.wait_for(making, HANG_GUARD_S)
    finally:
        held.release()
        writing.cancel()
        for task in (making, waiting):
            if task is not None:
                task.cancel()
    async with store.unit_of_work(user.id) as uow:
        diff = await uow.checkpoints.diff(project.id, made.id)
        await uow.checkpoints.restore(project.id, made.id)
    assert (diff.changed == []) == waited, (waited, diff)
    assert await tree_of(store, user, project.id) == {"a": "new" if waited else "old"}


async def test_a_prune_waits_for_a_writer_and_keeps_what_it_wrote(
    store: Store, user: User, superuser: Admin
) -> None:
    """The writer puts back content whose only version the prune would
    otherwise reclaim."""
    project = await new_project(store, user)
    async with store.unit_of_work(user.id) as uow:
        await uow.files.put(project.id, "a", b"\x00old content")
        await uow.files.put(project.id, "a", "newer")
    written = asyncio.Event()
    may_commit = asyncio.Event()
    backend = Backend()

    async def writer() -> FileWrite:
        async with store.unit_of_work(user.id) as uow:
            done = await uow.files.put(project.id, "b", b"\x00old content")
            written.set()
            await may_commit.wait()
            return done

    async def pruner() -> int:
        async with store.unit_of_work(user.id) as uow:
            await backend.is_(uow)
            pruned = await uow.retention.prune(
                project.id, RetentionPolicy(keep_versions=1, keep_for=timedelta(0))
            )
            return pruned.versions_removed

    writing = asyncio.create_task(writer())
    pruning: asyncio.Task[int] | None = None
    try:
        await asyncio.wait_for(written.wait(), HANG_GUARD_S)
        pruning = asyncio.create_task(pruner())
        await backend.waits_on_a_lock(superuser)
        may_commit.set()
        await asyncio.wait_for(writing, HANG_GUARD_S)
        assert await asyncio.wait_for(pruning, HANG_GUARD_S) == 1
    finally:
        may_commit.set()
        writing.cancel()
        if pruning is not None:
            pruning.cancel()
    async with store.unit_of_work(user.id) as uow:
        assert (await uow.files.get(project.id, "b")).content == b"\x00old content"
        assert [v.version for v in await history_all(uow, project.id, "a")] == [2]


# ---------------------------------------------------------------------------
# mixed loads
# ---------------------------------------------------------------------------

PATHS = ["p0", "p1", "p2", "d/p3", "d/p4"]
# Few contents, often repeated, so writes put back content a prune may be
# reclaiming at that moment.
CONTENTS: list[Content] = [
    "one",
    "two",
    b"\x00three",
    b"",
    "",
    b"\xfffour",
    "five" * 50,
]
SEED: dict[str, Content] = {"p0": "seed", "p1": b"\x00seed", "d/p3": ""}


@dataclass
class Ledger:
    """Writes the writers' units of work acknowledged, per path:
    version -> content."""

    writes: dict[str, dict[int, Content]] = field(default_factory=dict)
    # Versions that acknowledged deletes and moves took off a path.
    removed: dict[str, set[int]] = field(default_factory=dict)
    unexpected: list[BaseException] = field(default_factory=list)
    restores: int = 0
    prunes: int = 0

    def wrote(self, path: str, version: int, content: Content) -> None:
        seen = self.writes.setdefault(path, {})
        assert version not in seen, f"version {version} of {path} acknowledged twice"
        seen[version] = content


def unit_of_work_for(
    project_id: uuid.UUID, kind: str, path: str, other: str, content: Content
) -> Callable[[UnitOfWork], Awaitable[tuple[str, int, Content] | None]]:
    """One writer's step: what it acknowledged (path, version, content), or
    None when it wrote no version."""

    async def work(uow: UnitOfWork) -> tuple[str, int, Content] | None:
        if kind == "put":
            done = await uow.files.put(project_id, path, content)
            if done.outcome == "unchanged":
                return None
            return path, done.file.version, done.file.content
        if kind == "delete":
            await uow.files.delete(project_id, path)
            return None
        moved = await uow.files.move(project_id, path, other)
        return other, moved.version, moved.content

    return work


async def writer(
    store: Store, user: User, project_id: uuid.UUID, number: int, ledger: Ledger
) -> None:
    rng = random.Random(number)
    for _ in range(25):
        path = rng.choice(PATHS)
        work = unit_of_work_for(
            project_id,
            rng.choice(["put", "put", "put", "delete", "move"]),
            path,
            rng.choice([p for p in PATHS if p != path]),
            rng.choice(CONTENTS),
        )
        try:
            result = await store.retrying(user.id, work)
        except (NotFound, Conflict):
            continue  # a missing path, a taken one
        except RepositoryError as error:
            ledger.unexpected.append(error)
            continue
        if result is not None:
            ledger.wrote(*result)


async def restorer(
    store: Store,
    user: User,
    project_id: uuid.UUID,
    checkpoints: list[Checkpoint],
    ledger: Ledger,
    stop: asyncio.Event,
) -> None:
    rng = random.Random(7)
    while not stop.is_set():
        async with store.unit_of_work(user.id) as uow:
            try:
                await uow.checkpoints.restore(project_id, rng.choice(checkpoints).id)
            except RepositoryError as error:
                ledger.unexpected.append(error)
                return
        ledger.restores += 1
        await asyncio.sleep(0)  # let the writers in between


async def pruner(
    store: Store, user: User, project_id: uuid.UUID, ledger: Ledger, stop: asyncio.Event
) -> None:
    chosen = RetentionPolicy(keep_versions=1, keep_for=timedelta(0))
    while not stop.is_set():
        async with store.unit_of_work(user.id) as uow:
            try:
                await uow.retention.prune(project_id, chosen)
            except RepositoryError as error:
                ledger.unexpected.append(error)
                return
        ledger.prunes += 1
        await asyncio.sleep(0)


async def seeded_with_checkpoints(
    store: Store, user: User
) -> tuple[uuid.UUID, list[Checkpoint], list[dict[str, Content]]]:
    project = await new_project(store, user)
    trees: list[dict[str, Content]] = [SEED, {"p2": "other", "d/p4": b"\x01"}, {}]
    checkpoints: list[Checkpoint] = []
    async with store.unit_of_work(user.id) as uow:
        for tree in trees:
            await uow.files.sync(project.id, tree)
            checkpoints.append(await uow.checkpoints.create(project.id))
        await uow.files.sync(project.id, SEED)
    return project.id, checkpoints, trees


async def check_history(
    store: Store,
    user: User,
    project_id: uuid.UUID,
    ledger: Ledger,
    restored_contents: dict[str, set[str]],
    *,
    pruned: bool,
) -> None:
    """Every acknowledged write still names its content, or was pruned as
    the rules allow; it is in the tree or a later version of its path
    replaced it; every other version is a restore's (a checkpoint's content
    for that path) or the seed's; the tree is each path's newest version."""
    tree = await snapshot(store, user, project_id)
    async with store.unit_of_work(user.id) as uow:
        for path in PATHS:
            history = await history_all(uow, project_id, path)
            by_version = {v.version: v for v in history}
            assert len(by_version) == len(history), path
            newest = history[0] if history else None
            if path in tree:
                assert newest is not None, path
                assert newest.deleted_at is None, path
                assert tree[path].version == newest.version
                assert tree[path].sha256 == newest.sha256
            elif newest is not None:
                assert newest.deleted_at is not None, path
            for version, content in ledger.writes.get(path, {}).items():
                found = by_version.get(version)
                if found is None:
                    # Pruned: allowed only for a version that is not current.
                    assert pruned, (path, version)
                    assert newest is not None
                    assert newest.version > version
                    continue
                assert found.sha256 == sha(content), (path, version)
                assert found.kind == (
                    "binary" if isinstance(content, bytes) else "text"
                )
                # In the tree, or replaced or removed by a later write.
                if path in tree and tree[path].version == version:
                    assert tree[path].content == content
                else:
                    assert newest is not None
                    assert newest.version > version or newest.deleted_at is not None, (
                        path,
                        version,
                    )
            for version, found in by_version.items():
                if version in ledger.writes.get(path, {}):
                    continue
                # Not a writer's: the seed's, or a restore's.
                assert found.sha256 in restored_contents.get(path, set()), (
                    path,
                    version,
                )
                if found.deleted_at is None:
                    read = await uow.files.get(project_id, path, version=version)
                    assert read.sha256 == found.sha256


@pytest.mark.parametrize(
    "with_prune", [False, True], ids=["restores", "restores-and-prunes"]
)
async def test_restores_and_prunes_among_writers_lose_no_acknowledged_write(
    wide_store: Store, superuser: Admin, with_prune: bool
) -> None:
    store = wide_store
    user = await new_user(store)
    project_id, checkpoints, trees = await seeded_with_checkpoints(store, user)
    restored_contents: dict[str, set[str]] = {}
    for tree in [SEED, *trees]:
        for path, content in tree.items():
            restored_contents.setdefault(path, set()).add(sha(content))
    ledger = Ledger()
    stop = asyncio.Event()
    side = [
        asyncio.create_task(
            restorer(store, user, project_id, checkpoints, ledger, stop)
        )
    ]
    if with_prune:
        side.append(asyncio.create_task(pruner(store, user, project_id, ledger, stop)))
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(writer(store, user, project_id, n, ledger) for n in range(WRITERS))
            ),
            HANG_GUARD_S * 4,
        )
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*side), HANG_GUARD_S)
    assert ledger.unexpected == []
    assert ledger.restores > 0
    assert not with_prune or ledger.prunes > 0
    await check_history(
        store, user, project_id, ledger, restored_contents, pruned=with_prune
    )
    # Every content a remaining version names is stored, and no other.
    stored = {
        row["sha256"]
        for row in await superuser.fetch(
            "SELECT sha256 FROM file_contents WHERE project_id = $1", project_id
        )
    }
    named = {
        row["sha256"]
        for row in await superuser.fetch(
            "SELECT sha256 FROM file_versions WHERE project_id = $1", project_id
        )
    }
    assert named <= stored
    if with_prune:
        async with store.unit_of_work(user.id) as uow:
            leftover = await uow.retention.reclaim(project_id)
        assert leftover.contents_reclaimed == len(stored - named)
    # Once the writers are done, a restore gives each checkpoint's tree back.
    for checkpoint, tree in zip(checkpoints, trees, strict=True):
        async with store.unit_of_work(user.id) as uow:
            await uow.checkpoints.restore(project_id, checkpoint.id)
        assert await tree_of(store, user, project_id) == tree
