"""The mixed load: 50 projects, an agent each, 16 workers sharing one
schedule of operations, put : get : list : save = 3 : 5 : 1 : 1, each on a
project and file drawn at random (so two workers sometimes meet on one
project). A put writes new content (5 KB) over a file, a get reads one, a
list reads the first 100 entries, a save writes the agent state (10 KB,
last writer wins).

The repositories run each operation in a unit of work, the writes through
`store.retrying`; the hand-written stack runs the same schedule with its
own SQL. Each round draws a new schedule and runs both stacks on it."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from bench import data, pools
from bench.config import Sizes
from bench.database import copy_files, insert_state, new_project, new_user
from bench.latency import Series, drive, percentile
from bench.stacks.base import PAGE
from bench.stacks.hand import HandStack
from repositories import Store

VARIANTS: dict[str, str] = {
    "retrying": "(d) repositories (store.retrying for the writes)",
    "hand": "(h) hand-written SQL",
}
WEIGHTS: dict[str, int] = {"put": 3, "get": 5, "list": 1, "save": 1}


@dataclass(frozen=True)
class Estate:
    """One stack's user, projects and the paths every project has."""

    user: UUID
    projects: list[UUID]
    paths: list[str]


@dataclass(frozen=True)
class Step:
    kind: str
    project: int  # index into Estate.projects
    path: int  # index into Estate.paths
    content: str  # a put's (else empty)
    state: int  # a save's: which of the two states


def paths(count: int) -> list[str]:
    return [f"src/agent/module_{i:03d}.py" for i in range(count)]


async def seed_estate(
    admin: asyncpg.Connection[Any], variant: str, sizes: Sizes
) -> Estate:
    user = await new_user(admin, f"mixed-{variant}")
    names = paths(sizes.mixed_files)
    projects = []
    state = data.agent_state(0, sizes.state_bytes)
    for p in range(sizes.mixed_projects):
        project = await new_project(admin, user, f"mixed {p}")
        projects.append(project)
        await copy_files(
            admin,
            project,
            user,
            [(path, data.content(sizes.file_bytes, f"{p} {path}")) for path in names],
        )
        await insert_state(admin, project, user, json.dumps(state))
    return Estate(user, projects, names)


def schedule(seed: int, sizes: Sizes, ops: int) -> list[Step]:
    """`ops` steps drawn with WEIGHTS; a put's content is new (tagged with
    the seed and the step), so every put changes its file."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
    steps = []
    for i in range(ops):
        kind = rng.choice(kinds)
        project = rng.randrange(sizes.mixed_projects)
        path = rng.randrange(sizes.mixed_files)
        content = (
            data.content(sizes.file_bytes, f"mixed {seed} {i}") if kind == "put" else ""
        )
        steps.append(Step(kind, project, path, content, i % 2))
    return steps


class Mixed:
    """One stack's operations over its estate, each checking its outcome,
    and each kind's latencies."""

    def __init__(
        self, variant: str, store: Store, hand: HandStack, estate: Estate, sizes: Sizes
    ) -> None:
        self.variant = variant
        self.store = store
        self.hand = hand
        self.estate = estate
        self.file_bytes = sizes.file_bytes
        self.states = (
            data.agent_state(1, sizes.state_bytes),
            data.agent_state(2, sizes.state_bytes),
        )
        self.steps: Iterator[Step] = iter(())
        self.seconds: dict[str, list[float]] = {kind: [] for kind in WEIGHTS}

    def start(self, steps: list[Step]) -> Callable[[int], Awaitable[None]]:
        self.steps = iter(steps)
        self.seconds = {kind: [] for kind in WEIGHTS}
        return self.op

    async def op(self, worker: int) -> None:
        step = next(self.steps)
        start = time.perf_counter()
        if self.variant == "hand":
            await self._by_hand(step)
        else:
            await self._repositories(step)
        self.seconds[step.kind].append(time.perf_counter() - start)

    async def _repositories(self, step: Step) -> None:
        store, user = self.store, self.estate.user
        project = self.estate.projects[step.project]
        path = self.estate.paths[step.path]
        if step.kind == "put":
            content = step.content
            write = await store.retrying(
                user, lambda uow: uow.files.put(project, path, content)
            )
            assert write.outcome == "updated", write.outcome
        elif step.kind == "get":
            async with store.unit_of_work(user) as uow:
                found = await uow.files.get(project, path)
            assert found.size_bytes == self.file_bytes
        elif step.kind == "list":
            async with store.unit_of_work(user) as uow:
                page = await uow.files.list(project, limit=PAGE)
            assert len(page.items) == PAGE
        else:
            state = self.states[step.state]
            saved = await store.retrying(
                user, lambda uow: uow.agent_states.save(project, state)
            )
            assert saved.version > 1

    async def _by_hand(self, step: Step) -> None:
        hand, user = self.hand, self.estate.user
        project = self.estate.projects[step.project]
        path = self.estate.paths[step.path]
        if step.kind == "put":
            outcome, _ = await hand.put_file(user, project, path, step.content)
            assert outcome == "updated", outcome
        elif step.kind == "get":
            row = await hand.get_file_of(user, project, path)
            assert row is not None
            assert row["size_bytes"] == self.file_bytes
        elif step.kind == "list":
            assert len(await hand.list_files(user, project, "", PAGE)) == PAGE
        else:
            version = await hand.upsert_state(user, project, self.states[step.state])
            assert version > 1


Samples = dict[str, Any]  # {"cells": {stack: Cell}, "kinds": {stack: {kind: ...}}}


async def run(url: str, admin: asyncpg.Connection[Any], sizes: Sizes) -> Samples:
    estates = {v: await seed_estate(admin, v, sizes) for v in VARIANTS}
    await admin.execute(
        "VACUUM (ANALYZE) project_files, file_versions, file_contents, "
        "agent_states, agent_state_versions, projects"
    )
    workers = sizes.mixed_workers
    size = pools.capped(workers, await pools.room(admin))
    store = await pools.open_store(url, size)
    hand = await HandStack.open(url, size)
    try:
        loads = {v: Mixed(v, store, hand, estates[v], sizes) for v in VARIANTS}
        warm_up = schedule(-1, sizes, 4 * workers)
        for load in loads.values():
            await drive(workers, len(warm_up), load.start(warm_up))
        cells = {v: Series() for v in VARIANTS}
        kinds: dict[str, dict[str, dict[str, list[float]]]] = {
            v: {k: {"p50_ms": [], "p99_ms": []} for k in WEIGHTS} for v in VARIANTS
        }
        for repeat in range(sizes.writer_rounds):
            steps = schedule(repeat, sizes, sizes.writer_ops * 2)
            for variant, load in loads.items():
                cells[variant].add(await drive(workers, len(steps), load.start(steps)))
                for kind, seconds in load.seconds.items():
                    if seconds:
                        kinds[variant][kind]["p50_ms"].append(
                            percentile(seconds, 50) * 1000
                        )
                        kinds[variant][kind]["p99_ms"].append(
                            percentile(seconds, 99) * 1000
                        )
            print(
                f"  mixed: round {repeat + 1}/{sizes.writer_rounds} done",
                file=sys.stderr,
            )
    finally:
        await hand.close()
        await store.close()
    return {
        "pool_size": size,
        "projects": sizes.mixed_projects,
        "workers": workers,
        "cells": {v: series.as_dict() for v, series in cells.items()},
        "kinds": kinds,
    }
