"""File history and checkpoints: the four goals of binary content, file
history, checkpoints and retention, each a ratio against a baseline
measured in the same process (never a timed assertion).

1. checkpoint: `uow.checkpoints.create` on a project of
   `history_files` (10,000) files against one of `history_small_files`
   (10): median time per call of each, the two projects' calls
   alternating within a round; the goal is the 10,000-file time within 2x
   of the 10-file one.
2. restore: a 10,000-file project (2 KiB files: the whole tree must fit
   one sync, max_sync_bytes), a checkpoint of it, then 1 % of its
   files edited; `uow.checkpoints.restore` back to the checkpoint against
   the `files.sync` that makes the same change (the full 10,000-file
   mapping, the edited files back as they were), each from the same
   edited tree, in turn; goal: restore within 2x of the sync.
3. storage: 100 checkpoints of a 10,000-file project with 1 % of the
   files edited between each, built through the repositories in a
   database of its own; the bytes the six tables of files, versions,
   contents, checkpoints and agent state grew by (pg_total_relation_size:
   heap, TOAST, indexes, free-space and visibility maps, after VACUUM
   ANALYZE) over the bytes of the distinct contents; goal ≤ 1.2x for
   source-like text of about 4 KiB a file. The same build with random
   (incompressible) binary content is stated, not judged.
4. writes and binary reads: a put of new content with history on,
   (d) the repositories against (h) SQL written by hand for the same
   schema (content stored once per project, a version row per write,
   row-level security, one transaction), goal ≥ 0.9x; the same hand-
   written put into a table shaped as files were before history
   (content in the row, no version row) is stated beside it, as history's
   own cost. A binary `files.get` (d) against raw asyncpg (a) reading
   the same row (project_files joined to file_contents in a transaction,
   no tenant context), goal ≥ 0.9x.

This part runs in databases of its own (`run`: one for the timed
workloads, one for each storage build), so what the other workloads left
behind (dead rows, free space) weighs on none of it.

python -m bench history [--quick | --smoke]: this part alone, written to
bench/results/history[-MODE].json and .md.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import random
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from bench import data, database
from bench.config import Sizes
from bench.file_stat import alternating
from bench.history_labels import STORAGE_KINDS, TABLES
from bench.stacks import hand
from bench.stacks.hand import HandStack
from bench.stacks.raw import create_pool
from bench.timing import Op, Stat, paired, rate, seconds
from devtools.database import app_login_url, auth_login_url, redact
from repositories import Store

RESULTS = Path(__file__).resolve().parent / "results"

# The tables whose growth the storage workload measures.
SYNC_BATCH = 1_000  # files per sync call while seeding a project
BLOB_PATH = "assets/blob.bin"
TEXT_PATH = "src/app/writer.py"


# The calls timed side by side (interleaved within a round).
WRITE_GROUPS = (("put_d", "put_h", "put_h_flat"), ("get_binary_d", "get_binary_a"))

# What the hand-written put wrote before history: the same statement as
# bench.stacks.hand's put of that time, into a table of that shape.
FLAT_TABLE = "bench_files_without_history"
FLAT_SETUP = f"""
CREATE TABLE {FLAT_TABLE} (
    project_id uuid        NOT NULL,
    owner_id   uuid        NOT NULL,
    path       text        COLLATE "C" NOT NULL,
    content    text        NOT NULL,
    size_bytes bigint      NOT NULL,
    sha256     text        NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (project_id, path),
    FOREIGN KEY (project_id, owner_id) REFERENCES projects (id, owner_id),
    CHECK (size_bytes = octet_length(content)),
    CHECK (sha256 = encode(sha256(convert_to(content, 'UTF8')), 'hex'))
);
ALTER TABLE {FLAT_TABLE} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {FLAT_TABLE} FORCE ROW LEVEL SECURITY;
CREATE POLICY {FLAT_TABLE}_owner ON {FLAT_TABLE}
    FOR ALL TO app_user
    USING (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (owner_id = NULLIF(current_setting('app.user_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON {FLAT_TABLE} TO app_user;
"""
FLAT_PUT = f"""
INSERT INTO {FLAT_TABLE} AS f (project_id, owner_id, path, content, size_bytes, sha256)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (project_id, path) DO UPDATE
SET content = excluded.content,
    size_bytes = excluded.size_bytes,
    sha256 = excluded.sha256,
    version = f.version + 1,
    updated_at = excluded.updated_at
WHERE f.sha256 <> excluded.sha256
RETURNING version, xmax = 0 AS created
"""

# (a) for the binary get: the row and its content, as a raw query reads it.
RAW_GET = """
SELECT f.path, f.kind, f.size_bytes, f.sha256, f.version, f.created_at,
    f.updated_at, c.content
FROM project_files AS f
JOIN file_contents AS c
    ON c.project_id = f.project_id AND c.sha256 = f.sha256
WHERE f.project_id = $1 AND f.owner_id = $2 AND f.path = $3
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def changed_count(files: int, fraction: float) -> int:
    """1 % of the files, at least one."""
    return max(round(files * fraction), 1)


@functools.cache
def source_tree(count: int, file_bytes: int) -> dict[str, str]:
    """`count` source-like text files of `file_bytes` each, 100 a folder."""
    return {
        f"src/pkg{i // 100:03d}/module_{i % 100:02d}.py": data.source_file(
            file_bytes, i
        )
        for i in range(count)
    }


def binary_tree(count: int, file_bytes: int) -> dict[str, bytes]:
    """`count` files of random bytes: content no compression shrinks."""
    return {
        f"assets/{i // 100:03d}/blob_{i % 100:02d}.bin": random.Random(i).randbytes(
            file_bytes
        )
        for i in range(count)
    }


def edited(content: str | bytes, seed: int) -> str | bytes:
    """The next content of a file: a text file with a few lines rewritten,
    a binary one new random bytes of the same size."""
    if isinstance(content, str):
        return data.edited_source(content, seed)
    return random.Random(seed).randbytes(len(content))


def sha256_of(content: str | bytes) -> str:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()


async def open_store(url: str, size: int = 2) -> Store:
    """As the application opens it: the least-privileged login roles."""
    return await Store.open(
        await app_login_url(url),
        auth_dsn=await auth_login_url(url),
        min_size=size,
        max_size=size,
    )


async def seed_tree(
    store: Store, user: UUID, project: UUID, tree: Mapping[str, str | bytes]
) -> None:
    """The project's files, through `files.sync` in batches."""
    items = list(tree.items())
    for start in range(0, len(items), SYNC_BATCH):
        batch = dict(items[start : start + SYNC_BATCH])
        async with store.unit_of_work(user) as uow:
            result = await uow.files.sync(project, batch, delete_missing=False)
        assert result.created == len(batch), result


async def settle(admin: asyncpg.Connection[Any]) -> None:
    """Vacuum and analyse what seeding wrote, so autovacuum stays out of
    the timings, the planner knows the sizes, and sizes count live rows."""
    await admin.execute(f"VACUUM (ANALYZE) projects, {', '.join(TABLES)}")


async def with_state(store: Store, user: UUID, project: UUID, sizes: Sizes) -> None:
    """An agent state, as a project an agent works on has: a checkpoint
    names it, a restore brings it back."""
    async with store.unit_of_work(user) as uow:
        await uow.agent_states.save(project, data.agent_state(0, sizes.state_bytes))


# --- 1. checkpoint: a large project against a small one -------------------


async def checkpoints(
    store: Store, admin: asyncpg.Connection[Any], sizes: Sizes
) -> dict[str, Any]:
    """Median µs per `checkpoints.create` on each project, a value per round."""
    tree = source_tree(sizes.history_files, sizes.source_bytes)
    small_tree = dict(list(tree.items())[: sizes.history_small_files])
    user = await database.new_user(admin, "checkpoints")
    projects = {
        "small": await database.new_project(admin, user, "checkpoints: small"),
        "large": await database.new_project(admin, user, "checkpoints: large"),
    }
    for name, files in (("small", small_tree), ("large", tree)):
        await seed_tree(store, user, projects[name], files)
        await with_state(store, user, projects[name], sizes)
    await settle(admin)

    def create(project: UUID) -> Op:
        async def op() -> None:
            async with store.unit_of_work(user) as uow:
                made = await uow.checkpoints.create(project)
            assert made.project_id == project, made

        return op

    ops = {name: create(project) for name, project in projects.items()}
    for op in ops.values():  # warm-up: pool, statement cache, plans
        for _ in range(sizes.warmup_ops):
            await op()
    samples: dict[str, list[float]] = {"small_us": [], "large_us": []}
    for round_ in range(sizes.repeats):
        timed = await alternating(ops, ("small", "large"), sizes.checkpoint_ops)
        for name, micros in timed.items():
            samples[f"{name}_us"].append(statistics.median(micros))
        log(f"  checkpoints: round {round_ + 1}/{sizes.repeats} done")
    return {"files": {"small": len(small_tree), "large": len(tree)}, **samples}


# --- 2. restore against the equivalent sync ---------------------------------


async def restores(
    store: Store, admin: asyncpg.Connection[Any], sizes: Sizes
) -> dict[str, Any]:
    """Seconds of each restore and each equivalent sync, a value per round.
    Files of `sync_avg_bytes` (2 KiB), as the sync workload's: the whole
    tree must fit in one sync (max_sync_bytes, 32 MiB by default), which
    10,000 files of 4 KiB do not."""
    tree = source_tree(sizes.history_files, sizes.sync_avg_bytes)
    paths = list(tree)
    changed = changed_count(len(tree), sizes.sync_changed_fraction)
    user = await database.new_user(admin, "restore")
    project = await database.new_project(admin, user, "restore")
    await seed_tree(store, user, project, tree)
    await with_state(store, user, project, sizes)
    await settle(admin)
    async with store.unit_of_work(user) as uow:
        checkpoint = await uow.checkpoints.create(project, "before the edits")

    async def edit(chosen: list[str], seed: int) -> None:
        edits = {p: edited(tree[p], seed * 100_003 + i) for i, p in enumerate(chosen)}
        async with store.unit_of_work(user) as uow:
            result = await uow.files.sync(project, edits, delete_missing=False)
        assert result.updated == len(chosen), result

    async def restore() -> None:
        async with store.unit_of_work(user) as uow:
            result = await uow.checkpoints.restore(project, checkpoint.id)
        counts = (result.created, result.updated, result.unchanged, result.deleted)
        assert counts == (0, changed, len(tree) - changed, 0), result
        assert result.agent_state == "unchanged", result

    async def sync_back() -> None:
        async with store.unit_of_work(user) as uow:
            result = await uow.files.sync(project, tree)
        counts = (result.created, result.updated, result.deleted)
        assert counts == (0, changed, 0), result

    steps: dict[str, Op] = {"restore_s": restore, "sync_s": sync_back}
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(-1, sizes.repeats):  # round -1: the warm-up
        start = (round_ + 1) * changed % len(paths)
        chosen = (paths[start:] + paths[:start])[:changed]
        order = list(steps) if round_ % 2 == 0 else list(steps)[::-1]
        for turn, name in enumerate(order):
            await edit(chosen, (round_ + 1) * 2 + turn)
            took = await seconds(steps[name])
            if round_ >= 0:
                samples[name].append(took)
        if round_ >= 0:
            log(f"  restore: round {round_ + 1}/{sizes.repeats} done")
    return {"files": len(tree), "changed": changed, **samples}


# --- 3. what 100 checkpoints store ------------------------------------------


async def table_sizes(admin: asyncpg.Connection[Any]) -> dict[str, dict[str, int]]:
    """Each table's bytes on disk: in all, and its indexes'."""
    rows = await admin.fetch(
        "SELECT c.relname, pg_total_relation_size(c.oid) AS total, "
        "pg_indexes_size(c.oid) AS indexes "
        "FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace "
        "AND c.relkind = 'r' AND c.relname = ANY($1::text[])",
        list(TABLES),
    )
    found = {
        row["relname"]: {"total": row["total"], "indexes": row["indexes"]}
        for row in rows
    }
    assert set(found) == set(TABLES), sorted(found)
    return found


async def storage(
    admin_url: str, sizes: Sizes, kind: str, keep_db: bool
) -> dict[str, Any]:
    """Build `storage_checkpoints` checkpoints of a `storage_files`-file
    project, 1 % of the files edited before each but the first, in a new
    database; what the tables grew by and what the distinct contents
    weigh."""
    db = await database.create(admin_url)
    log(f"  storage ({kind}): database {redact(db.url)}")
    try:
        admin = await asyncpg.connect(db.url)
        store = await open_store(db.url)
        try:
            return await _storage(admin, store, sizes, kind)
        finally:
            await store.close()
            await admin.close()
    finally:
        if not keep_db:
            await db.drop()


async def _storage(
    admin: asyncpg.Connection[Any], store: Store, sizes: Sizes, kind: str
) -> dict[str, Any]:
    tree: dict[str, str | bytes] = dict(
        source_tree(sizes.storage_files, sizes.source_bytes)
        if kind == "text"
        else binary_tree(sizes.storage_files, sizes.source_bytes)
    )
    paths = list(tree)
    changed = changed_count(len(tree), sizes.sync_changed_fraction)
    user = await database.new_user(admin, f"storage {kind}")
    project = await database.new_project(admin, user, f"storage {kind}")
    await settle(admin)
    before = await table_sizes(admin)
    distinct = {sha256_of(content): _size(content) for content in tree.values()}
    rng = random.Random(sizes.storage_checkpoints)
    clock = time.perf_counter()
    await seed_tree(store, user, project, tree)
    for made in range(sizes.storage_checkpoints):
        if made:
            edits = {
                p: edited(tree[p], made * 100_003 + i)
                for i, p in enumerate(sorted(rng.sample(paths, changed)))
            }
            tree.update(edits)
            distinct.update((sha256_of(c), _size(c)) for c in edits.values())
            async with store.unit_of_work(user) as uow:
                result = await uow.files.sync(project, edits, delete_missing=False)
            assert result.updated == changed, result
        async with store.unit_of_work(user) as uow:
            await uow.checkpoints.create(project, f"checkpoint {made + 1}")
    build_s = time.perf_counter() - clock
    await settle(admin)
    after = await table_sizes(admin)
    stored = await admin.fetchrow(
        "SELECT count(*) AS contents, sum(size_bytes)::bigint AS raw, "
        "sum(pg_column_size(content))::bigint AS column "
        "FROM file_contents WHERE project_id = $1",
        project,
    )
    assert stored is not None
    distinct_bytes = sum(distinct.values())
    # Stored once each, and nothing else: the measure counts what it thinks.
    assert (stored["contents"], stored["raw"]) == (len(distinct), distinct_bytes)
    versions = await admin.fetchval(
        "SELECT count(*) FROM file_versions WHERE project_id = $1", project
    )
    assert versions == len(paths) + (sizes.storage_checkpoints - 1) * changed
    grown = {
        table: {
            part: after[table][part] - before[table][part]
            for part in ("total", "indexes")
        }
        for table in TABLES
    }
    total = sum(part["total"] for part in grown.values())
    return {
        "kind": kind,
        "files": len(paths),
        "checkpoints": sizes.storage_checkpoints,
        "changed_per_checkpoint": changed,
        "file_versions": versions,
        "distinct_contents": len(distinct),
        "distinct_bytes": distinct_bytes,
        "content_column_bytes": stored["column"],
        "tables": grown,
        "stored_bytes": total,
        "build_s": round(build_s, 1),
    }


def _size(content: str | bytes) -> int:
    return len(content.encode("utf-8") if isinstance(content, str) else content)


# --- 4. a write with history, a binary read ---------------------------------


async def writes(
    url: str, store: Store, admin: asyncpg.Connection[Any], sizes: Sizes
) -> dict[str, list[float]]:
    """Median µs per call of each of WRITES, a value per round; the calls
    of each of WRITE_GROUPS interleaved."""
    await admin.execute(FLAT_SETUP)
    user = await database.new_user(admin, "writes")
    project = {
        key: await database.new_project(admin, user, f"writes {key}")
        for key in ("d", "h", "flat")
    }
    blob = random.Random(7).randbytes(sizes.file_bytes)
    first = data.content(sizes.file_bytes, "writes 0")
    async with store.unit_of_work(user) as uow:
        await uow.files.put(project["d"], TEXT_PATH, first)
        await uow.files.put(project["d"], BLOB_PATH, blob)
    hand_stack = await HandStack.open(url, 2)
    raw = await create_pool(url, 2)
    counter = iter(range(1, 1 << 62))

    def next_content() -> str:
        # New content each put: history stores every one.
        return data.content(sizes.file_bytes, f"writes {next(counter)}")

    async def put_d() -> None:
        async with store.unit_of_work(user) as uow:
            written = await uow.files.put(project["d"], TEXT_PATH, next_content())
        assert written.outcome == "updated", written

    async def put_h() -> None:
        outcome, _ = await hand_stack.put_file(
            user, project["h"], TEXT_PATH, next_content()
        )
        assert outcome == "updated", outcome

    async def put_h_flat() -> None:
        content = next_content()
        size, sha = hand.digest(content)
        async with hand_stack.pool.acquire() as conn:
            await conn.execute(hand.begin(user))
            row = await conn.fetchrow(
                FLAT_PUT, project["flat"], user, TEXT_PATH, content, size, sha
            )
            await conn.execute(hand.COMMIT)
        assert row is not None
        assert not row["created"], row

    async def get_binary_d() -> None:
        async with store.unit_of_work(user) as uow:
            found = await uow.files.get(project["d"], BLOB_PATH)
        assert found.content == blob

    async def get_binary_a() -> None:
        async with raw.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(RAW_GET, project["d"], user, BLOB_PATH)
        assert row is not None
        assert row["content"] == blob

    ops: dict[str, Op] = {
        "put_d": put_d,
        "put_h": put_h,
        "put_h_flat": put_h_flat,
        "get_binary_d": get_binary_d,
        "get_binary_a": get_binary_a,
    }
    try:
        # The first put of each hand-written project creates its file.
        await hand_stack.put_file(user, project["h"], TEXT_PATH, first)
        await _flat_create(hand_stack, user, project["flat"], first)
        for op in ops.values():
            await rate(op, sizes.warmup_ops)
        # workload -> one value per round: the median µs per call
        samples: dict[str, list[float]] = {name: [] for name in ops}
        for round_ in range(sizes.repeats):
            for group in WRITE_GROUPS:
                timed = await interleaved(ops, group, sizes.ops)
                for name, micros in timed.items():
                    samples[name].append(statistics.median(micros))
            log(f"  writes: round {round_ + 1}/{sizes.repeats} done")
    finally:
        await hand_stack.close()
        await raw.close()
    return samples


async def interleaved(
    ops: dict[str, Op], names: tuple[str, ...], count: int
) -> dict[str, list[float]]:
    """`count` calls of each of `names`, one of each in turn, the order
    rotating and reversing from turn to turn, so a load that comes and goes
    on a shared machine weighs on all alike; the µs each call took."""
    timed: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for turn in range(count):
        shift = turn % len(names)
        order = names[shift:] + names[:shift]
        if (turn // len(names)) % 2:
            order = order[::-1]
        for name in order:
            start = time.perf_counter()
            await ops[name]()
            timed[name].append((time.perf_counter() - start) * 1e6)
    return timed


async def _flat_create(
    stack: HandStack, user: UUID, project: UUID, content: str
) -> None:
    size, sha = hand.digest(content)
    async with stack.pool.acquire() as conn:
        await conn.execute(hand.begin(user))
        await conn.execute(FLAT_PUT, project, user, TEXT_PATH, content, size, sha)
        await conn.execute(hand.COMMIT)


# --- the part as a whole -----------------------------------------------------


async def run(
    admin_url: str, sizes: Sizes, keep_db: bool
) -> tuple[dict[str, Any], str]:
    """Every workload of this part: the raw samples (JSON), server version."""
    db = await database.create(admin_url)
    log(f"history: database {redact(db.url)}")
    samples: dict[str, Any] = {}
    try:
        admin = await asyncpg.connect(db.url)
        store = await open_store(db.url)
        try:
            version = await database.server_version(admin)
            log(
                f"history: checkpoints of {sizes.history_files:,} and "
                f"{sizes.history_small_files} files"
            )
            samples["checkpoint"] = await checkpoints(store, admin, sizes)
            log(f"history: restore against sync, {sizes.history_files:,} files")
            samples["restore"] = await restores(store, admin, sizes)
            log("history: writes and binary reads")
            samples["writes"] = await writes(db.url, store, admin, sizes)
        finally:
            await store.close()
            await admin.close()
    finally:
        if not keep_db:
            await db.drop()
    log(
        f"history: storage of {sizes.storage_checkpoints} checkpoints of "
        f"{sizes.storage_files:,} files"
    )
    samples["storage"] = {
        kind: await storage(admin_url, sizes, kind, keep_db) for kind in STORAGE_KINDS
    }
    return samples, version


def summarise(samples: dict[str, Any]) -> dict[str, Any]:
    """A JSON tree whose figures are Stat (min, median, max of the rounds)
    and the ratios the goals read, per round where there are rounds."""
    cp = samples["checkpoint"]
    rs = samples["restore"]
    wr = samples["writes"]
    return {
        "checkpoint": {
            "files": cp["files"],
            "us_per_call": {
                "small": Stat.of(cp["small_us"]),
                "large": Stat.of(cp["large_us"]),
            },
            "large/small": Stat.of(paired(cp["large_us"], cp["small_us"])),
        },
        "restore": {
            "files": rs["files"],
            "changed": rs["changed"],
            "ms": {
                "restore": Stat.of([s * 1000 for s in rs["restore_s"]]),
                "sync": Stat.of([s * 1000 for s in rs["sync_s"]]),
            },
            "restore/sync": Stat.of(paired(rs["restore_s"], rs["sync_s"])),
        },
        "storage": {
            kind: {
                **{k: v for k, v in built.items() if k != "kind"},
                "stored/distinct": Stat.of(
                    [built["stored_bytes"] / built["distinct_bytes"]]
                ),
            }
            for kind, built in samples["storage"].items()
        },
        "writes": {
            "us_per_call": {name: Stat.of(values) for name, values in wr.items()},
            # Speed ratios: the other's time per call over this one's.
            "ratios": {
                "put d/h": Stat.of(paired(wr["put_h"], wr["put_d"])),
                "put h/h flat": Stat.of(paired(wr["put_h_flat"], wr["put_h"])),
                "put d/h flat": Stat.of(paired(wr["put_h_flat"], wr["put_d"])),
                "binary get d/a": Stat.of(
                    paired(wr["get_binary_a"], wr["get_binary_d"])
                ),
            },
        },
    }
