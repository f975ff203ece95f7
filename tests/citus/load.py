"""The load a Citus cluster is grown and hurt under: writers and readers
calling the repositories through the coordinator, and a ledger of every
write the layer acknowledged, to be read back afterwards.

Each writer acts as a user of its own, on projects of its own, one call at
a time: what it was told was written is then exactly what must be stored
(no other writer touches those rows). A write that failed without the
promise that nothing of it remains (anything but Contention or Timeout,
whose units of work were rolled back) may or may not have committed: the
ledger keeps it as a possible value until a later write is acknowledged.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from repositories import RepositoryError, Store, UnitOfWork
from repositories._retry import RETRYABLE

PROJECTS_PER_WRITER = 4
SEEDED_FILES = 20
# Between two calls of one writer: the load stays high without starving
# the nodes (2 shared cores) of the CPU the shard moves need too.
PAUSE_S = 0.01

# As the owner, through the coordinator: a user per writer, its projects,
# some files and an agent state in each.
SEED = """
WITH owners AS (
    INSERT INTO users (name, email)
    SELECT 'Writer ' || w, 'writer-' || w || '-' || $1 || '@example.com'
    FROM generate_series(1, $2::int) AS w
    RETURNING id
), owned AS (
    INSERT INTO projects (owner_id, name)
    SELECT o.id, 'project ' || p
    FROM owners AS o, generate_series(1, $3::int) AS p
    RETURNING id, owner_id
), seeded AS (
    SELECT o.id, o.owner_id, format('src/file_%s.py', f) AS path, c.content,
           octet_length(c.content) AS size_bytes, encode(sha256(c.content), 'hex') AS sha256
    FROM owned AS o, generate_series(1, $4::int) AS f,
         LATERAL (SELECT convert_to(repeat(format(E'value_%s = %s\\n', f, f), 20), 'UTF8'))
             AS c (content)
), contents AS (
    INSERT INTO file_contents (project_id, owner_id, sha256, size_bytes, content)
    SELECT id, owner_id, sha256, size_bytes, content FROM seeded
), versions AS (
    INSERT INTO file_versions
        (project_id, owner_id, path, version, generation, kind, size_bytes, sha256)
    SELECT id, owner_id, path, 1, 0, 'text', size_bytes, sha256 FROM seeded
), files AS (
    INSERT INTO project_files (project_id, owner_id, path, size_bytes, sha256)
    SELECT id, owner_id, path, size_bytes, sha256 FROM seeded
), state_versions AS (
    INSERT INTO agent_state_versions (project_id, owner_id, version, generation, state)
    SELECT id, owner_id, 1, 0, '{"step": 0}' FROM owned
)
INSERT INTO agent_states (project_id, owner_id, state)
SELECT id, owner_id, '{"step": 0}' FROM owned
RETURNING project_id, owner_id
"""


@dataclass(frozen=True)
class Writer:
    """A user and the projects only this writer touches."""

    number: int
    owner: uuid.UUID
    projects: tuple[uuid.UUID, ...]


async def seed(owner_url: str, writers: int) -> list[Writer]:
    conn = await asyncpg.connect(owner_url)
    try:
        rows = await conn.fetch(
            SEED, uuid.uuid4().hex, writers, PROJECTS_PER_WRITER, SEEDED_FILES
        )
    finally:
        await conn.close()
    owned: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        owned.setdefault(row["owner_id"], []).append(row["project_id"])
    return [
        Writer(n, owner, tuple(projects))
        for n, (owner, projects) in enumerate(sorted(owned.items()))
    ]


@dataclass(frozen=True)
class Call:
    """One call: from entering its first unit of work to the end of its
    last attempt (store.retrying's included), and the code of what it
    raised (None: it succeeded)."""

    kind: str
    project: uuid.UUID
    started: float
    seconds: float
    error: str | None
    detail: str | None
    attempts: int


Key = tuple[uuid.UUID, str]  # (project, path); path "" is the agent state


@dataclass
class Written:
    """What a key must hold: the last acknowledged value, the versions
    acknowledged so far (in order), and values of writes whose outcome is
    unknown, written after that acknowledgement."""

    acknowledged: str | None = None
    versions: list[int] = field(default_factory=list)
    uncertain: set[str] = field(default_factory=set)


@dataclass
class Ledger:
    calls: list[Call] = field(default_factory=list)
    written: dict[Key, Written] = field(default_factory=dict)

    def acknowledge(self, key: Key, value: str, version: int | None) -> None:
        entry = self.written.setdefault(key, Written())
        entry.acknowledged = value
        entry.uncertain.clear()
        if version is not None:
            entry.versions.append(version)

    def unknown(self, key: Key, value: str) -> None:
        self.written.setdefault(key, Written()).uncertain.add(value)

    def succeeded(self, since: float = 0.0) -> int:
        return sum(1 for c in self.calls if c.error is None and c.started >= since)

    def failures(self, since: float = 0.0, until: float = float("inf")) -> Counter[str]:
        return Counter(
            c.error
            for c in self.calls
            if c.error is not None and since <= c.started < until
        )


def state_text(step: str) -> str:
    return f'{{"step": "{step}"}}'


class Worker:
    """One writer's loop; every call goes through store.retrying (writes)
    or a plain unit of work (reads)."""

    def __init__(self, store: Store, writer: Writer, ledger: Ledger) -> None:
        self.store = store
        self.writer = writer
        self.ledger = ledger
        self.rng = random.Random(writer.number)
        self.sequence = 0

    def _value(self) -> str:
        self.sequence += 1
        return f"writer {self.writer.number} write {self.sequence}\n"

    async def _call(
        self,
        kind: str,
        project: uuid.UUID,
        work: Callable[[UnitOfWork], Awaitable[Any]],
        written: Sequence[tuple[Key, str]] = (),
        versions: Callable[[Any], Sequence[int | None]] | None = None,
    ) -> None:
        started = time.monotonic()
        error = detail = None
        attempts = 0

        async def attempt(uow: UnitOfWork) -> Any:
            nonlocal attempts
            attempts += 1
            return await work(uow)

        try:
            result = await self.store.retrying(
                self.writer.owner, attempt, attempts=5, base_delay=0.05, max_delay=1.0
            )
        except RepositoryError as exc:
            error, detail = exc.code, exc.detail
            if not isinstance(exc, RETRYABLE):
                for key, value in written:
                    self.ledger.unknown(key, value)
        else:
            numbers = versions(result) if versions else [None] * len(written)
            for (key, value), version in zip(written, numbers, strict=True):
                self.ledger.acknowledge(key, value, version)
        self.ledger.calls.append(
            Call(
                kind,
                project,
                started,
                time.monotonic() - started,
                error,
                detail,
                attempts,
            )
        )

    async def once(self) -> None:
        project = self.rng.choice(self.writer.projects)
        choice = self.rng.choices(
            ("put", "sync", "save", "list", "get", "projects"),
            (35, 15, 25, 15, 8, 2),
        )[0]
        if choice == "put":
            path, value = f"load/{self.rng.randint(1, 8)}.txt", self._value()
            await self._call(
                "put",
                project,
                lambda uow: uow.files.put(project, path, value),
                [((project, path), value)],
                lambda w: [w.file.version],
            )
        elif choice == "sync":
            tree = {f"tree/{n}.md": self._value() for n in range(4)}
            await self._call(
                "sync",
                project,
                lambda uow: uow.files.sync(project, tree, delete_missing=False),
                [((project, path), value) for path, value in tree.items()],
            )
        elif choice == "save":
            step = self._value().strip()
            value = state_text(step)
            await self._call(
                "save",
                project,
                lambda uow: uow.agent_states.save(project, {"step": step}),
                [((project, ""), value)],
                lambda s: [s.version],
            )
        elif choice == "list":
            await self._call("list", project, lambda uow: uow.files.list(project))
        elif choice == "get":
            path = f"src/file_{self.rng.randint(1, SEEDED_FILES)}.py"
            await self._call("get", project, lambda uow: uow.files.get(project, path))
        else:
            await self._call("projects", project, lambda uow: uow.projects.list())

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.once()
            await asyncio.sleep(PAUSE_S)


@asynccontextmanager
async def running(store: Store, writers: Sequence[Writer]) -> AsyncIterator[Ledger]:
    """Every writer calling the repositories until the block ends."""
    ledger = Ledger()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(Worker(store, w, ledger).run(stop)) for w in writers]
    try:
        yield ledger
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def wait_for(
    condition: Callable[[], bool], what: str, within_s: float = 120.0
) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` after
    `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s:.0f} s: {what}")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class ReadBack:
    """The ledger checked against the rows read through the coordinator."""

    keys: int
    lost: list[str]
    repeated: list[str]


async def read_back(owner_url: str, ledger: Ledger) -> ReadBack:
    """Every key the load wrote, read through the coordinator as the owner:
    a key whose row holds neither its last acknowledged value nor one of
    the writes of unknown outcome after it is lost; a key whose
    acknowledged versions did not strictly grow repeated a version."""
    projects = sorted({key[0] for key in ledger.written})
    conn = await asyncpg.connect(owner_url)
    try:
        files = await conn.fetch(
            "SELECT f.project_id, f.path, convert_from(c.content, 'UTF8') AS content,"
            " f.version FROM project_files f JOIN file_contents c"
            " ON c.project_id = f.project_id AND c.sha256 = f.sha256"
            " WHERE f.project_id = ANY($1::uuid[])",
            projects,
        )
        states = await conn.fetch(
            "SELECT project_id, state::text AS state, version FROM agent_states"
            " WHERE project_id = ANY($1::uuid[])",
            projects,
        )
    finally:
        await conn.close()
    stored: dict[Key, tuple[str, int]] = {
        (r["project_id"], r["path"]): (r["content"], r["version"]) for r in files
    }
    for r in states:
        stored[(r["project_id"], "")] = (r["state"], r["version"])
    lost, repeated = [], []
    for key, entry in ledger.written.items():
        held = stored.get(key)
        value = held[0] if held else None
        if (
            entry.acknowledged is not None
            and value != entry.acknowledged
            and value not in entry.uncertain
        ):
            lost.append(f"{key}: acknowledged {entry.acknowledged!r}, holds {value!r}")
        if any(
            b <= a for a, b in zip(entry.versions, entry.versions[1:], strict=False)
        ):
            repeated.append(f"{key}: acknowledged versions {entry.versions}")
        if held and entry.versions and held[1] < entry.versions[-1]:
            repeated.append(
                f"{key}: holds version {held[1]} < acknowledged {entry.versions[-1]}"
            )
    return ReadBack(len(ledger.written), lost, repeated)


def summary(ledger: Ledger, since: float = 0.0, until: float = float("inf")) -> str:
    """The calls that started in [since, until): how many, the failures by
    code, how many store.retrying ran again, the longest."""
    calls = [c for c in ledger.calls if since <= c.started < until]
    failed = Counter(c.error for c in calls if c.error is not None)
    longest = max(calls, key=lambda c: c.seconds)
    by_code = ", ".join(f"{code} {n}" for code, n in sorted(failed.items())) or "none"
    rerun = sum(1 for c in calls if c.attempts > 1)
    return (
        f"{len(calls)} calls, {sum(failed.values())} failed ({by_code}), "
        f"{rerun} run again by store.retrying; "
        f"longest call {longest.seconds:.2f} s ({longest.kind}"
        f"{', ' + longest.error if longest.error else ''})"
    )
