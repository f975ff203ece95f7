"""N writers at once, each putting changed content at a path of its own, one
unit of work per put: all in ONE project, against the same writers SPREAD
over N projects (one each). For N = 1, 4, 16, 64 (the run's
`writer_counts`), a pool of N connections per stack.

Stacks: the repositories through `store.retrying` (the documented way to
run writers of one project side by side), the repositories in a plain
`unit_of_work` (for reference), and (h) the hand-written stack. Every
round runs each layout and stack in turn, so the ratios compare figures
of the same round."""

from __future__ import annotations

import sys
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
from repositories import Store

VARIANTS: dict[str, str] = {
    "retrying": "(d) repositories, store.retrying",
    "plain": "(d) repositories, unit_of_work",
    "hand": "(h) hand-written SQL",
}
LAYOUTS: dict[str, str] = {
    "one": "one project",
    "spread": "spread: a project each",
}
CREATED_OR_UPDATED = frozenset({"created", "updated"})
UPDATED = frozenset({"updated"})

Op = Callable[[int], Awaitable[None]]


@dataclass
class Writer:
    """One writer's file: its project and path, and two contents it writes
    in turn, so each put changes the file."""

    project: UUID
    path: str
    contents: tuple[str, str]
    turn: int = field(default=0)

    def next_content(self) -> str:
        self.turn ^= 1
        return self.contents[self.turn]


@dataclass(frozen=True)
class Team:
    """One stack's user and writers: layout -> writer i."""

    user: UUID
    writers: dict[str, list[Writer]]


async def seed_team(
    admin: asyncpg.Connection[Any], variant: str, most: int, file_bytes: int
) -> Team:
    user = await new_user(admin, f"writers-{variant}")
    one = await new_project(admin, user, "writers: one project")
    writers: dict[str, list[Writer]] = {layout: [] for layout in LAYOUTS}
    for i in range(most):
        path = f"writers/w{i:02d}.py"
        contents = (
            data.content(file_bytes, f"{variant} writer {i} a"),
            data.content(file_bytes, f"{variant} writer {i} b"),
        )
        writers["one"].append(Writer(one, path, contents))
        spread = await new_project(admin, user, f"writers: spread {i}")
        writers["spread"].append(Writer(spread, path, contents))
    return Team(user, writers)


def put_op(
    variant: str,
    store: Store,
    hand: HandStack,
    team: Team,
    layout: str,
    expect: frozenset[str],
) -> Op:
    """Writer i's next put, in `variant`'s way; checks the outcome."""
    writers, user = team.writers[layout], team.user

    async def retrying(i: int) -> None:
        writer = writers[i]
        project, path, content = writer.project, writer.path, writer.next_content()
        write = await store.retrying(
            user, lambda uow: uow.files.put(project, path, content)
        )
        assert write.outcome in expect, write.outcome

    async def plain(i: int) -> None:
        writer = writers[i]
        content = writer.next_content()
        async with store.unit_of_work(user) as uow:
            write = await uow.files.put(writer.project, writer.path, content)
        assert write.outcome in expect, write.outcome

    async def by_hand(i: int) -> None:
        writer = writers[i]
        content = writer.next_content()
        outcome, _ = await hand.put_file(user, writer.project, writer.path, content)
        assert outcome in expect, outcome

    ops: dict[str, Op] = {"retrying": retrying, "plain": plain, "hand": by_hand}
    return ops[variant]


Samples = dict[
    str, Any
]  # {"pool_sizes": {N: size}, "cells": {N: {layout: {stack: Cell}}}}


async def run(url: str, admin: asyncpg.Connection[Any], sizes: Sizes) -> Samples:
    most = max(sizes.writer_counts)
    teams = {v: await seed_team(admin, v, most, sizes.file_bytes) for v in VARIANTS}
    samples: Samples = {"pool_sizes": {}, "cells": {}}
    for n in sizes.writer_counts:
        size = pools.capped(n, await pools.room(admin))
        samples["pool_sizes"][str(n)] = size
        store = await pools.open_store(url, size)
        try:
            hand = await HandStack.open(url, size)
            try:
                cells = await _measure(n, store, hand, teams, sizes)
            finally:
                await hand.close()
        finally:
            await store.close()
        samples["cells"][str(n)] = {
            layout: {v: series.as_dict() for v, series in row.items()}
            for layout, row in cells.items()
        }
    return samples


async def _measure(
    n: int, store: Store, hand: HandStack, teams: dict[str, Team], sizes: Sizes
) -> dict[str, dict[str, Series]]:
    def op(variant: str, layout: str, expect: frozenset[str]) -> Op:
        return put_op(variant, store, hand, teams[variant], layout, expect)

    # Warm-up: every writer's file exists (each worker takes a put before
    # any takes a second) and the pools' connections have their statements.
    for layout in LAYOUTS:
        for variant in VARIANTS:
            await drive(n, 3 * n, op(variant, layout, CREATED_OR_UPDATED))
    cells = {layout: {v: Series() for v in VARIANTS} for layout in LAYOUTS}
    for repeat in range(sizes.writer_rounds):
        for layout in LAYOUTS:
            for variant in VARIANTS:
                timed: Run = await drive(
                    n, sizes.writer_ops, op(variant, layout, UPDATED)
                )
                cells[layout][variant].add(timed)
        print(
            f"  writers: N={n}, round {repeat + 1}/{sizes.writer_rounds} done",
            file=sys.stderr,
        )
    return cells
