"""The load the migrations are applied under: seeded data, writers and
readers calling the repositories in a loop, each call timed, and one long
unit of work (an agent that keeps its transaction open while it thinks)."""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from repositories import Store, UnitOfWork

USERS = 20
PROJECTS_PER_USER = 10
FILES_PER_PROJECT = 200  # 40 000 rows in project_files, file_versions, file_contents
LINES_PER_FILE = 20
# Between two calls of one writer: the load stays high without starving
# the server (2 shared cores) of the CPU the migrations need too.
PAUSE_S = 0.01

# One statement as the owner (no API, no row-level security): users, their
# projects, each project's files (valid for every CHECK: size and hash
# computed from the content's UTF-8) as the API stores them (the content in
# file_contents, version 1 in file_versions, the current row naming it) and
# agent state (version 1 in agent_state_versions, the current row). The
# foreign keys between the new rows are checked at the statement's end.
SEED = """
WITH owners AS (
    INSERT INTO users (name, email)
    SELECT 'Online ' || u, 'online-' || u || '-' || $1 || '@example.com'
    FROM generate_series(1, $2::int) AS u
    RETURNING id
), owned AS (
    INSERT INTO projects (owner_id, name)
    SELECT o.id, 'project ' || p
    FROM owners AS o, generate_series(1, $3::int) AS p
    RETURNING id, owner_id
), generated AS (
    SELECT o.id AS project_id, o.owner_id,
           format('src/module_%s/file_%s.py', f % 10, f) AS path,
           convert_to(c.content, 'UTF8') AS data
    FROM owned AS o, generate_series(1, $4::int) AS f,
         LATERAL (SELECT repeat(format(E'value_%s = %s\\n', f, f), $5::int)) AS c (content)
), contents AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT project_id, owner_id, encode(sha256(data), 'hex'), octet_length(data), data
    FROM generated
), versions AS (
    INSERT INTO file_versions
        (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT project_id, owner_id, path, 1, 0, 'text', octet_length(data),
           encode(sha256(data), 'hex')
    FROM generated
    RETURNING project_id, owner_id, path, version, kind, size_bytes, sha256
), files AS (
    INSERT INTO project_files
        (project_id, owner_id, path, size_bytes, sha256, version, kind)
    SELECT project_id, owner_id, path, size_bytes, sha256, version, kind
    FROM versions
), states AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT id, owner_id, 1, 0, '{"step": 0}' FROM owned
)
INSERT INTO agent_states (project_id, owner_id, state, version)
SELECT id, owner_id, '{"step": 0}', 1 FROM owned
RETURNING project_id, owner_id
"""


@dataclass(frozen=True)
class Tenant:
    """A seeded project and the user who owns it."""

    project: uuid.UUID
    owner: uuid.UUID


async def seed(database_url: str) -> list[Tenant]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            SEED,
            uuid.uuid4().hex,
            USERS,
            PROJECTS_PER_USER,
            FILES_PER_PROJECT,
            LINES_PER_FILE,
        )
        # The planner's statistics, as autovacuum would gather them soon.
        await conn.execute(
            "ANALYZE users, projects, project_files, agent_states,"
            " file_contents, file_versions, agent_state_versions"
        )
    finally:
        await conn.close()
    return [Tenant(row["project_id"], row["owner_id"]) for row in rows]


def seeded_path(rng: random.Random) -> str:
    number = rng.randint(1, FILES_PER_PROJECT)
    return f"src/module_{number % 10}/file_{number}.py"


@dataclass(frozen=True)
class Call:
    """One call to the repositories: one unit of work, from entering it to
    its commit, and what it raised (None: it succeeded)."""

    kind: str
    started: float
    seconds: float
    error: str | None


Action = Callable[[UnitOfWork, Tenant, random.Random], Awaitable[None]]


async def put(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    await uow.files.put(tenant.project, seeded_path(rng), f"edited {rng.random()}\n")


async def sync(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    tree = {f"notes/{n}.md": f"note {n}: {rng.randint(0, 3)}\n" for n in range(5)}
    await uow.files.sync(tenant.project, tree, delete_missing=False)


async def save(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    await uow.agent_states.save(tenant.project, {"step": rng.randint(0, 1000)})


async def list_files(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    await uow.files.list(tenant.project, prefix=f"src/module_{rng.randint(0, 9)}/")


async def get(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    await uow.files.get(tenant.project, seeded_path(rng))


async def step(uow: UnitOfWork, tenant: Tenant, rng: random.Random) -> None:
    """An agent's step in one unit of work: look around, read, write, and
    record where it is."""
    page = await uow.files.list(tenant.project, limit=20)
    for entry in page.items[:3]:
        await uow.files.get(tenant.project, entry.path)
    for _ in range(2):
        await put(uow, tenant, rng)
    await save(uow, tenant, rng)


# What a writer does, and how often: mostly single calls, now and then a
# longer unit of work.
ACTIONS: Sequence[tuple[str, Action, int]] = (
    ("put", put, 30),
    ("sync", sync, 15),
    ("save", save, 20),
    ("list", list_files, 15),
    ("get", get, 15),
    ("step", step, 5),
)


@dataclass
class Load:
    """The calls made so far, by every writer."""

    calls: list[Call] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[Call]:
        """The calls that started in [start, end)."""
        return [c for c in self.calls if start <= c.started < end]


async def writer(
    store: Store,
    tenants: Sequence[Tenant],
    rng: random.Random,
    load: Load,
    stop: asyncio.Event,
) -> None:
    names, actions, weights = zip(*ACTIONS, strict=True)
    while not stop.is_set():
        index = rng.choices(range(len(actions)), weights)[0]
        tenant = rng.choice(tenants)
        started = time.monotonic()
        error = None
        try:
            async with store.unit_of_work(tenant.owner) as uow:
                await actions[index](uow, tenant, rng)
        except Exception as exc:  # every failure is counted, none stops the load
            error = f"{type(exc).__name__}: {exc}"
        load.calls.append(
            Call(names[index], started, time.monotonic() - started, error)
        )
        await asyncio.sleep(PAUSE_S)


@asynccontextmanager
async def running(
    store: Store, tenants: Sequence[Tenant], writers: int
) -> AsyncIterator[Load]:
    """`writers` tasks calling the repositories until the block ends, each
    on its own share of `tenants` (so writers wait on each other only where
    the schema change makes them)."""
    load = Load()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            writer(store, tenants[n::writers], random.Random(n), load, stop)
        )
        for n in range(writers)
    ]
    try:
        yield load
    finally:
        stop.set()
        await asyncio.gather(*tasks)


@asynccontextmanager
async def long_unit_of_work(store: Store, tenant: Tenant) -> AsyncIterator[None]:
    """An agent's unit of work that has written and stays open while the
    block runs: it holds ROW EXCLUSIVE on project_files and agent_states
    and a row lock on its project, as any writer does, only for longer.
    Writers never wait for it (their projects are others); a statement
    that needs a stronger lock on those tables does."""
    async with store.unit_of_work(tenant.owner) as uow:
        await uow.files.put(tenant.project, "agent/plan.md", f"plan {uuid.uuid4()}\n")
        await uow.agent_states.save(tenant.project, {"step": "thinking"})
        yield


def percentile(seconds: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value that `fraction` of them do not exceed."""
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
