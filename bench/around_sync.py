"""Writers around a sync: 8 writers putting files of one project (a path
each, changed content, a unit of work per put) while another task syncs
a 1,000-file tree into the same project over and over, each sync changing
every file (two trees in turn) and deleting what is not in it, the
writers' files included (so a writer's put creates or updates).

The figures are the puts' latency (p50, p99) and rate, the repositories
(store.retrying for the puts and the syncs) against the hand-written
stack (its own sync: one upsert of the tree from arrays and one DELETE, in
one transaction). Each round runs both stacks in turn."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from bench import data, pools
from bench.config import Sizes
from bench.database import new_project, new_user
from bench.latency import Run, Series, drive
from bench.stacks.hand import HandStack
from bench.writers import CREATED_OR_UPDATED, Writer
from repositories import Store

VARIANTS: dict[str, str] = {
    "retrying": "(d) repositories, store.retrying",
    "hand": "(h) hand-written SQL",
}


@dataclass
class Site:
    """One stack's project: its writers and the two trees its sync writes
    in turn."""

    user: UUID
    project: UUID
    writers: list[Writer]
    trees: tuple[dict[str, str], dict[str, str]]
    turn: int = field(default=0)

    def next_tree(self) -> dict[str, str]:
        self.turn ^= 1
        return self.trees[self.turn]


async def seed_site(
    admin: asyncpg.Connection[Any],
    variant: str,
    sizes: Sizes,
    trees: tuple[dict[str, str], dict[str, str]],
) -> Site:
    user = await new_user(admin, f"around-sync-{variant}")
    project = await new_project(admin, user, "writers around a sync")
    writers = [
        Writer(
            project,
            f"writers/w{i}.py",
            (
                data.content(sizes.file_bytes, f"{variant} around {i} a"),
                data.content(sizes.file_bytes, f"{variant} around {i} b"),
            ),
        )
        for i in range(sizes.around_sync_writers)
    ]
    return Site(user, project, writers, trees)


def operations(
    variant: str, store: Store, hand: HandStack, site: Site
) -> tuple[Callable[[int], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """(writer i's put, one sync), in `variant`'s way, each checking its outcome."""
    user, project = site.user, site.project

    async def put_retrying(i: int) -> None:
        writer = site.writers[i]
        path, content = writer.path, writer.next_content()
        write = await store.retrying(
            user, lambda uow: uow.files.put(project, path, content)
        )
        assert write.outcome in CREATED_OR_UPDATED, write.outcome

    async def sync_retrying() -> None:
        tree = site.next_tree()
        result = await store.retrying(user, lambda uow: uow.files.sync(project, tree))
        assert result.created + result.updated == len(tree), result

    async def put_by_hand(i: int) -> None:
        writer = site.writers[i]
        content = writer.next_content()
        outcome, _ = await hand.put_file(user, project, writer.path, content)
        assert outcome in CREATED_OR_UPDATED, outcome

    async def sync_by_hand() -> None:
        tree = site.next_tree()
        created, updated, _ = await hand.sync_tree(user, project, tree)
        assert created + updated == len(tree), (created, updated)

    if variant == "retrying":
        return put_retrying, sync_retrying
    return put_by_hand, sync_by_hand


async def around(
    writers: int,
    total: int,
    put: Callable[[int], Awaitable[None]],
    sync: Callable[[], Awaitable[None]],
) -> tuple[Run, list[float]]:
    """`total` puts by `writers` tasks while one more task syncs again and
    again; the puts' figures and each sync's seconds."""
    running = True
    sync_seconds: list[float] = []

    async def syncing() -> None:
        while running:
            start = time.perf_counter()
            await sync()
            sync_seconds.append(time.perf_counter() - start)

    task = asyncio.create_task(syncing())
    try:
        # The sync starts first: the writers meet it from their first put.
        await asyncio.sleep(0)
        timed = await drive(writers, total, put)
    finally:
        running = False
        await task
    return timed, sync_seconds


Samples = dict[str, Any]  # {"puts": {stack: Cell}, "syncs": {stack: {...}}}


async def run(url: str, admin: asyncpg.Connection[Any], sizes: Sizes) -> Samples:
    tree = data.sync_tree(sizes.around_sync_files, sizes.sync_avg_bytes)
    trees = (tree, data.changed_tree(tree, 1.0))
    sites = {v: await seed_site(admin, v, sizes, trees) for v in VARIANTS}
    size = pools.capped(sizes.around_sync_writers + 1, await pools.room(admin))
    store = await pools.open_store(url, size)
    hand = await HandStack.open(url, size)
    try:
        ops = {v: operations(v, store, hand, sites[v]) for v in VARIANTS}
        writers = sizes.around_sync_writers
        for put, sync in ops.values():  # the tree is there; warm-up
            await sync()
            await around(writers, 4 * writers, put, sync)
        puts = {v: Series() for v in VARIANTS}
        syncs: dict[str, dict[str, list[float]]] = {
            v: {"count": [], "median_ms": []} for v in VARIANTS
        }
        for repeat in range(sizes.writer_rounds):
            for variant, (put, sync) in ops.items():
                timed, seconds = await around(writers, sizes.writer_ops, put, sync)
                puts[variant].add(timed)
                syncs[variant]["count"].append(len(seconds))
                syncs[variant]["median_ms"].append(statistics.median(seconds) * 1000)
            print(
                f"  around a sync: round {repeat + 1}/{sizes.writer_rounds} done",
                file=sys.stderr,
            )
    finally:
        await hand.close()
        await store.close()
    return {
        "pool_size": size,
        "files": sizes.around_sync_files,
        "writers": sizes.around_sync_writers,
        "puts": {v: series.as_dict() for v, series in puts.items()},
        "syncs": syncs,
    }
