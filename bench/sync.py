"""Whole-tree writes: the repositories' sync (initial, then 1 % changed), the
same SQL through raw asyncpg, per-file put loops (one unit of work, and one
per file), the COPY floor, and the sync's peak memory."""

from __future__ import annotations

import hashlib
import sys
import tracemalloc
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

import asyncpg

from bench import data
from bench.config import Sizes
from bench.database import (
    CONTENT_COLUMNS,
    FILE_COLUMNS,
    VERSION_COLUMNS,
    Fixture,
    new_project,
)
from bench.stacks.raw import RawStack
from bench.stacks.repo import RepoStack
from bench.timing import seconds
from repositories._generated import project_files as file_sql
from repositories._generated import projects as project_sql
from repositories._project_lock import lock_key

# The floor writes the rows a sync writes (a content, a version and a
# current row a file) by COPY into tables of the same shape: checks and
# keys, no foreign key or row-level security.
COPY_TABLES = {
    "file_contents": "bench_copy_floor_contents",
    "file_versions": "bench_copy_floor_versions",
    "project_files": "bench_copy_floor_files",
}

KINDS: dict[str, str] = {
    "sync_initial": "(d) sync into an empty project",
    "sync_changed": "(d) sync again, 1 % changed",
    "raw_sync_initial": "(a) same SQL, into an empty project",
    "raw_sync_changed": "(a) same SQL, 1 % changed",
    "put_loop": "(d) put per file, one unit of work",
    "put_requests": "(d) put per file, a unit of work each",
    "copy_floor": "(a) COPY into an empty table",
}


@dataclass
class SyncResults:
    files: int
    payload_bytes: int
    seconds: dict[str, list[float]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )
    peak_bytes: dict[str, int] = field(default_factory=dict)


async def create_copy_table(conn: asyncpg.Connection[Any]) -> None:
    for table, floor in COPY_TABLES.items():
        await conn.execute(f"CREATE TABLE {floor} (LIKE {table} INCLUDING ALL)")


async def repo_sync(
    repo: RepoStack, user: UUID, project: UUID, tree: dict[str, str]
) -> tuple[int, int]:
    async with repo.store.unit_of_work(user) as uow:
        result = await uow.files.sync(project, tree)
    return result.created, result.updated


async def raw_sync(
    raw: RawStack, user: UUID, project: UUID, tree: dict[str, str]
) -> tuple[int, int]:
    """The repositories' sync statements without the stack: lock, ask which
    paths differ by hash, then upsert those and delete the rest."""
    paths = list(tree)
    encoded = [text.encode("utf-8") for text in tree.values()]
    hashes = [hashlib.sha256(blob).hexdigest() for blob in encoded]
    kinds = ["text"] * len(paths)
    async with raw.pool.acquire() as conn, conn.transaction():
        key = lock_key(project)
        args = (None, None, True, key, "", project, user)  # exclusive, no file read
        assert await conn.fetchval(project_sql.LOCK_PROJECT_FOR_WRITES, *args)
        found = await conn.fetch(
            file_sql.CHANGED_PATHS, paths, hashes, kinds, project, user
        )
        stale = {record[0] for record in found}
        chosen = [i for i, path in enumerate(paths) if path in stale]
        row = await conn.fetchrow(
            file_sql.SYNC_FILES,
            [paths[i] for i in chosen],
            [encoded[i] for i in chosen],
            [len(encoded[i]) for i in chosen],
            [hashes[i] for i in chosen],
            [kinds[i] for i in chosen],
            project,
            user,
            True,
            paths,
        )
    assert row is not None
    return row["created"], row["updated"]


async def put_loop(
    repo: RepoStack, user: UUID, project: UUID, tree: dict[str, str]
) -> None:
    async with repo.store.unit_of_work(user) as uow:
        for path, text in tree.items():
            await uow.files.put(project, path, text)


async def put_requests(
    repo: RepoStack, user: UUID, project: UUID, tree: dict[str, str]
) -> None:
    for path, text in tree.items():
        async with repo.store.unit_of_work(user) as uow:
            await uow.files.put(project, path, text)


async def copy_floor(
    raw: RawStack, user: UUID, project: UUID, tree: dict[str, str]
) -> None:
    contents: dict[str, tuple[Any, ...]] = {}
    versions, current = [], []
    for path, text in tree.items():
        encoded = text.encode("utf-8")
        size, sha = len(encoded), hashlib.sha256(encoded).hexdigest()
        contents.setdefault(sha, (project, user, sha, size, encoded))
        versions.append((project, user, path, 1, 0, "text", size, sha))
        current.append((project, user, path, "text", size, sha))
    async with raw.pool.acquire() as conn, conn.transaction():
        for table, records, columns in (
            ("file_contents", list(contents.values()), CONTENT_COLUMNS),
            ("file_versions", versions, VERSION_COLUMNS),
            ("project_files", current, FILE_COLUMNS),
        ):
            await conn.copy_records_to_table(
                COPY_TABLES[table], records=records, columns=columns
            )


async def counted(
    counts: list[tuple[int, int]], pending: Awaitable[tuple[int, int]]
) -> None:
    counts.append(await pending)


@dataclass(frozen=True)
class Trees:
    initial: dict[str, str]
    changed: dict[str, str]
    changed_files: int


async def one_round(
    admin: asyncpg.Connection[Any],
    raw: RawStack,
    repo: RepoStack,
    users: tuple[UUID, UUID],
    trees: Trees,
    with_loop: bool,
    times: dict[str, list[float]],
) -> None:
    d_user, a_user = users
    project_d = await new_project(admin, d_user, "sync")
    project_a = await new_project(admin, a_user, "sync")
    project_loop = await new_project(admin, d_user, "put loop")
    project_requests = await new_project(admin, d_user, "put requests")
    await admin.execute(f"TRUNCATE {', '.join(COPY_TABLES.values())}")
    tree, changed = trees.initial, trees.changed
    counts: list[tuple[int, int]] = []
    steps = (
        ("sync_initial", partial(repo_sync, repo, d_user, project_d, tree)),
        ("sync_changed", partial(repo_sync, repo, d_user, project_d, changed)),
        ("raw_sync_initial", partial(raw_sync, raw, a_user, project_a, tree)),
        ("raw_sync_changed", partial(raw_sync, raw, a_user, project_a, changed)),
    )
    for kind, step in steps:
        times[kind].append(await seconds(partial(counted, counts, step())))
    expected = [(len(tree), 0), (0, trees.changed_files)] * 2
    assert counts == expected, counts
    if with_loop:
        loop = partial(put_loop, repo, d_user, project_loop, tree)
        times["put_loop"].append(await seconds(loop))
        each = partial(put_requests, repo, d_user, project_requests, tree)
        times["put_requests"].append(await seconds(each))
    floor = partial(copy_floor, raw, a_user, project_a, tree)
    times["copy_floor"].append(await seconds(floor))


async def peak_memory(
    admin: asyncpg.Connection[Any], repo: RepoStack, user: UUID, trees: Trees
) -> dict[str, int]:
    """Peak bytes Python allocated during each sync call (tracemalloc)."""
    project = await new_project(admin, user, "sync memory")
    peaks: dict[str, int] = {}
    for kind, files in (
        ("sync_initial", trees.initial),
        ("sync_changed", trees.changed),
    ):
        tracemalloc.start()
        try:
            await repo_sync(repo, user, project, files)
            peaks[kind] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peaks


async def warm_up(
    admin: asyncpg.Connection[Any],
    raw: RawStack,
    repo: RepoStack,
    users: tuple[UUID, UUID],
    tree: dict[str, str],
) -> None:
    """Statement caches and array type introspection, on a small tree."""
    d_user, a_user = users
    small = dict(list(tree.items())[:50])
    warm_d = await new_project(admin, d_user, "sync warm-up")
    warm_a = await new_project(admin, a_user, "sync warm-up")
    await repo_sync(repo, d_user, warm_d, small)
    await raw_sync(raw, a_user, warm_a, small)
    await put_loop(repo, d_user, warm_d, small)
    await copy_floor(raw, a_user, warm_a, small)


async def run(
    admin: asyncpg.Connection[Any],
    raw: RawStack,
    repo: RepoStack,
    fixtures: dict[str, Fixture],
    sizes: Sizes,
) -> SyncResults:
    tree = data.sync_tree(sizes.sync_files, sizes.sync_avg_bytes)
    changed = data.changed_tree(tree, sizes.sync_changed_fraction)
    trees = Trees(tree, changed, sum(1 for p in tree if tree[p] != changed[p]))
    results = SyncResults(len(tree), data.payload_bytes(tree))
    users = (fixtures["d"].user_id, fixtures["a"].user_id)
    await warm_up(admin, raw, repo, users, tree)
    for repeat in range(sizes.sync_repeats):
        with_loop = repeat < sizes.loop_repeats
        await one_round(admin, raw, repo, users, trees, with_loop, results.seconds)
        print(f"  sync: round {repeat + 1}/{sizes.sync_repeats} done", file=sys.stderr)
    results.peak_bytes = await peak_memory(admin, repo, users[0], trees)
    return results
